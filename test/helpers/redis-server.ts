/**
 * A real redis-server for tests: on 127.0.0.1 and a free port, nothing saved to disk, and never
 * outliving the test process (a watchdog ends it when our end of its stdin closes, which happens
 * even when the test process is killed).
 */
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { freePort, spawnWatched } from './server-process.js';

export interface RedisTestServer {
	readonly port: number;
	/** `redis://127.0.0.1:<port>` */
	readonly url: string;
	/** Whether the server process is still running. */
	readonly running: boolean;
	/** Stops the server: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
	stop(graceMs?: number): Promise<void>;
	/**
	 * Starts a stopped server again on the same port, with the same arguments and `extraArgs`
	 * after them (a later argument wins): a Redis that went away and came back, to its clients.
	 */
	restart(extraArgs?: readonly string[]): Promise<void>;
}

const STARTUP_TIMEOUT = 15_000;

/**
 * Starts redis-server (the path from `requireBinary`) and waits until it answers.
 * `extraArgs` are appended to the command line, such as `['--cluster-enabled', 'yes']`.
 * `configFile` goes first, where Redis reads it (redis-sentinel needs one it can rewrite).
 */
export async function startRedisServer(
	binary: string,
	extraArgs: readonly string[] = [],
	configFile?: string,
): Promise<RedisTestServer> {
	let lastError: unknown;
	// Another process may take the free port between our probe and redis-server's bind.
	for (let attempt = 0; attempt < 5; attempt++) {
		const port = await freePort();
		let current: Launched;
		try {
			current = await launch(binary, port, extraArgs, configFile);
		} catch (error) {
			lastError = error;
			continue;
		}
		return {
			port,
			url: `redis://127.0.0.1:${port}`,
			get running() {
				return current.running;
			},
			stop: (graceMs) => current.stop(graceMs),
			async restart(more = []) {
				if (current.running) throw new Error(`redis-server on port ${port} is still running`);
				// The port was ours a moment ago; a test that lost it to another process fails here.
				current = await launch(binary, port, [...extraArgs, ...more], configFile);
			},
		};
	}
	throw lastError;
}

type Launched = Pick<RedisTestServer, 'running' | 'stop'>;

async function launch(
	binary: string,
	port: number,
	extraArgs: readonly string[],
	configFile: string | undefined,
): Promise<Launched> {
	const server = spawnWatched(
		binary,
		[
			...(configFile === undefined ? [] : [configFile]),
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no',
			'--daemonize',
			'no',
			'--dir',
			tmpdir(),
			'--loglevel',
			'warning',
			...extraArgs,
		],
		{ stopSignal: 'TERM' },
	);

	const deadline = Date.now() + STARTUP_TIMEOUT;
	while (!(await answers(port))) {
		if (server.exited || Date.now() > deadline) {
			server.kill();
			throw new Error(`redis-server did not start on port ${port}:\n${server.output()}`);
		}
		await new Promise((r) => setTimeout(r, 50));
	}

	return {
		get running() {
			return !server.exited;
		},
		stop: (graceMs = 5_000) => server.stop(graceMs),
	};
}

/** Whether the server answers INFO yet. */
function answers(port: number): Promise<boolean> {
	return command(port, ['INFO', 'server'], /process_id:\d+/).then(
		() => true,
		() => false,
	);
}

/**
 * Sends one command on a connection of its own and resolves with the first match of `expect` in
 * the raw reply: for tests that must not go through the client under test. `runsFor` is how long
 * the command itself keeps Redis busy (a script that spins), on top of the 2 s any reply gets.
 * @example await command(port, ['CLUSTER', 'KEYSLOT', name], /:(\d+)\r\n/)
 */
export function command(
	port: number,
	args: readonly string[],
	expect: RegExp,
	runsFor = 0,
): Promise<RegExpMatchArray> {
	const raw = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1');
		let reply = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`no reply to ${args.join(' ')}`));
		}, runsFor + 2_000);
		socket.on('connect', () => socket.write(raw));
		socket.on('data', (chunk) => {
			reply += chunk.toString();
			const match = reply.match(expect);
			if (match !== null) {
				clearTimeout(timer);
				socket.destroy();
				resolve(match);
			}
		});
		socket.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
	});
}
