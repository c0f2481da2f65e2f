/**
 * A server process for tests (redis-server, postgres) that never outlives the test process: a
 * shell watchdog stops it when our end of its stdin closes, which happens however this process
 * ends, SIGKILL included.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

export interface WatchedProcess {
	/** The watchdog shell: the server, the shell and the watchdog share its process group. */
	readonly child: ChildProcess;
	/** Whether the process group's shell has exited (the server with it). */
	readonly exited: boolean;
	/** Settles when the shell exits. */
	readonly exit: Promise<void>;
	/** The last 4,000 characters the server wrote, for an error message when it does not start. */
	output(): string;
	/**
	 * Closes our end of stdin: the watchdog then stops the server with its stop signal (and runs
	 * `afterExit`). Waits for the exit, SIGKILLs the group after `graceMs`, and forgets the exit hook.
	 */
	stop(graceMs: number): Promise<void>;
	/** SIGKILLs the whole group now and forgets the exit hook. */
	kill(): void;
}

/**
 * Spawns `binary args` under a watchdog. `stopSignal` is what the watchdog stops the server with
 * (`TERM`; PostgreSQL's fast shutdown is `INT`); `afterExit` is shell run once the server is gone
 * (removing its directory).
 */
export function spawnWatched(
	binary: string,
	args: readonly string[],
	options: { stopSignal: 'TERM' | 'INT'; afterExit?: string; spawn?: SpawnOptions },
): WatchedProcess {
	// Stdin is kept on fd 3 because sh gives background jobs /dev/null as stdin.
	const watchdog = `exec 3<&0; "$0" "$@" & server=$!; { cat <&3 >/dev/null; kill -${options.stopSignal} "$server"; } 2>/dev/null & wait "$server"${options.afterExit === undefined ? '' : `; ${options.afterExit}`}`;
	const child = spawn('/bin/sh', ['-c', watchdog, binary, ...args], {
		...options.spawn,
		stdio: ['pipe', 'pipe', 'pipe'],
		detached: true,
	});
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
	const kill = () => {
		killGroup(child, 'SIGKILL');
		process.off('exit', onExit);
	};
	return {
		child,
		get exited() {
			return exited;
		},
		exit,
		output: () => output,
		async stop(graceMs) {
			if (!exited) {
				child.stdin?.destroy();
				const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
				await exit;
				clearTimeout(timer);
			}
			kill();
		},
		kill,
	};
}

/** A port free on 127.0.0.1 a moment ago (another process may still take it before we bind). */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** Sends `name` to `pid`, if it is still there. */
export function signal(pid: number, name: NodeJS.Signals): void {
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
