/**
 * A real redis-server for tests: on 127.0.0.1 and a free port, nothing saved to disk, and never
 * outliving the test process (a watchdog ends it when our end of its stdin closes, which happens
 * even when the test process is killed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';

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

// Runs redis-server in the background and kills it once stdin reaches end of file: our side of the
// pipe closes however this process ends, SIGKILL included. Stdin is kept on fd 3 because sh gives
// background jobs /dev/null as stdin.
const WATCHDOG =
	'exec 3<&0; "$0" "$@" & server=$!; { cat <&3 >/dev/null; kill -TERM "$server"; } 2>/dev/null & wait "$server"';

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
	const child = spawn(
		'/bin/sh',
		[
			'-c',
			WATCHDOG,
			binary,
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
		{ stdio: ['pipe', 'pipe', 'pipe'], detached: true },
	);
	// A server left running must not keep the test process alive; the watchdog ends it then.
	child.unref();
	for (const stream of [child.stdin, child.stdout, child.stderr]) {
		(stream as { unref?: () => void } | null)?.unref?.();
	}
	let output = '';
	const keep = (chunk: Buffer) => {
		output = (output + chunk.toString()).slice(-4_000);
	};
	child.stdout?.on('data', keep);
	child.stderr?.on('data', keep);
	let exited = false;
	const exit = once(child, 'exit').then(() => {
		exited = true;
	});
	// A test process that exits normally takes the server with it at once.
	const onExit = () => killGroup(child, 'SIGKILL');
	process.on('exit', onExit);

	const deadline = Date.now() + STARTUP_TIMEOUT;
	let serverPid: number | undefined;
	while (serverPid === undefined) {
		if (exited || Date.now() > deadline) {
			killGroup(child, 'SIGKILL');
			process.off('exit', onExit);
			throw new Error(`redis-server did not start on port ${port}:\n${output}`);
		}
		serverPid = await serverProcessId(port);
		if (serverPid === undefined) await new Promise((r) => setTimeout(r, 50));
	}
	const pid = serverPid;

	return {
		get running() {
			return !exited;
		},
		async stop(graceMs = 5_000) {
			if (!exited) {
				signal(pid, 'SIGTERM');
				const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
				await exit;
				clearTimeout(timer);
			}
			// Ends the watchdog, which may outlive the server it watched.
			child.stdin?.destroy();
			killGroup(child, 'SIGKILL');
			process.off('exit', onExit);
		},
	};
}

/** The server's process id once it answers (from INFO), or `undefined` while it does not. */
async function serverProcessId(port: number): Promise<number | undefined> {
	const reply = await command(port, ['INFO', 'server'], /process_id:(\d+)/).catch(() => undefined);
	return reply === undefined ? undefined : Number(reply[1]);
}

/**
 * Sends one command on a connection of its own and resolves with the first match of `expect` in
 * the raw reply: for tests that must not go through the client under test.
 * @example await command(port, ['CLUSTER', 'KEYSLOT', name], /:(\d+)\r\n/)
 */
export function command(
	port: number,
	args: readonly string[],
	expect: RegExp,
): Promise<RegExpMatchArray> {
	const raw = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1');
		let reply = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`no reply to ${args.join(' ')}`));
		}, 2_000);
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

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

function signal(pid: number, name: NodeJS.Signals): void {
	try {
		process.kill(pid, name);
	} catch {
		// Already gone.
	}
}

function killGroup(child: ChildProcess, name: NodeJS.Signals): void {
	// The shell, the server and the watchdog share a process group (detached: true).
	if (child.pid !== undefined) signal(-child.pid, name);
}
