import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { killAll } from '../helpers/child-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const running = new Set<ChildProcess>();

/** `oauth2-session ...` running from source in a child process, its output collected. */
export interface CliProcess {
	stdout(): string;
	stderr(): string;
	/** The first match of `pattern` in stderr, waiting for it; rejects if the CLI exits first. */
	waitForStderr(pattern: RegExp): Promise<RegExpExecArray>;
	/** The exit code, once the process is gone and its output read. */
	readonly exited: Promise<number | null>;
}

/** Starts `node --import tsx src/cli/main.ts ...args`. `killCliProcesses()` in `afterAll`. */
export function startCli(args: readonly string[]): CliProcess {
	const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
		cwd: root,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	running.add(child);
	let stdout = '';
	let stderr = '';
	let closed = false;
	const waiting = new Set<() => void>();
	child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
		for (const check of waiting) check();
	});
	const exited = new Promise<number | null>((resolve) => {
		child.once('close', (code) => {
			running.delete(child);
			closed = true;
			for (const check of waiting) check();
			resolve(code);
		});
	});
	return {
		stdout: () => stdout,
		stderr: () => stderr,
		exited,
		waitForStderr: (pattern) =>
			new Promise((resolve, reject) => {
				const check = () => {
					const match = pattern.exec(stderr);
					if (match !== null) {
						waiting.delete(check);
						resolve(match);
					} else if (closed) {
						waiting.delete(check);
						reject(new Error(`The CLI exited without printing ${pattern}; stderr:\n${stderr}`));
					}
				};
				waiting.add(check);
				check();
			}),
	};
}

/** Runs the CLI to the end. */
export async function runCli(
	args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const cli = startCli(args);
	const code = await cli.exited;
	return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Kills every CLI process still running and waits until they are gone. */
export function killCliProcesses(): Promise<void> {
	return killAll(running);
}

/** A port free on 127.0.0.1 now, for a server whose redirect URI must name it beforehand. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const address = probe.address();
			probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
}

/** `login` args for `server`'s public code client, the token saved under `key` in `dir`. */
export function publicLoginArgs(
	server: { issuer: string; clients: { public: { clientId: string } } },
	dir: string,
	key: string,
	...more: string[]
): string[] {
	return [
		'login',
		'--issuer',
		server.issuer,
		'--client-id',
		server.clients.public.clientId,
		'--scope',
		'openid offline_access api:read',
		'--dir',
		dir,
		'--key',
		key,
		...more,
	];
}

/** `login --device` args for `server`'s device client, the token saved under `key` in `dir`. */
export function deviceLoginArgs(
	server: { issuer: string; clients: { device: { clientId: string } } },
	dir: string,
	key: string,
	...more: string[]
): string[] {
	const client = { issuer: server.issuer, clients: { public: server.clients.device } };
	return publicLoginArgs(client, dir, key, '--device', ...more);
}

/** Where the CLI prints the device flow's user code. */
export const USER_CODE = /enter the code: (\S+)/;

/** Where the CLI prints the authorization URL to open. */
export const AUTHORIZATION_URL = /http:\/\/127\.0\.0\.1:\d+\/auth\?\S+/;
