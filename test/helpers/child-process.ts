import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A TypeScript fixture running in its own Node process, which speaks one JSON message a line. */
export interface FixtureProcess {
	readonly child: ChildProcess;
	/** Every message it wrote so far. */
	readonly messages: unknown[];
	/** The first message (past or future) that `matches`; rejects when the process exits first. */
	message<T = Record<string, unknown>>(matches: (message: T) => boolean): Promise<T>;
	/** Resolves when the process has exited (and been reaped). */
	readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	/** What it wrote to stderr. */
	stderr(): string;
}

const running = new Set<ChildProcess>();
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `node --import tsx test/fixtures/<fixture> ...args`. Ends every started process with
 * `killFixtureProcesses()` in `afterAll`.
 */
export function startFixture(
	fixture: string,
	args: readonly string[],
	options: { env?: Record<string, string>; uid?: number; gid?: number } = {},
): FixtureProcess {
	const script = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
	const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
		cwd: root,
		env: { ...process.env, ...options.env },
		stdio: ['pipe', 'pipe', 'pipe'],
		...(options.uid === undefined ? {} : { uid: options.uid }),
		...(options.gid === undefined ? {} : { gid: options.gid }),
	});
	running.add(child);
	const messages: unknown[] = [];
	const waiting = new Set<() => void>();
	let stdout = '';
	let stderr = '';
	child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
		for (let end = stdout.indexOf('\n'); end >= 0; end = stdout.indexOf('\n')) {
			const line = stdout.slice(0, end).trim();
			stdout = stdout.slice(end + 1);
			if (line !== '') messages.push(JSON.parse(line));
		}
		for (const check of waiting) check();
	});
	child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	let closed = false;
	// 'close' comes after the process was reaped and its output read to the end.
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
		child.once('close', (code, signal) => {
			running.delete(child);
			closed = true;
			resolve({ code, signal });
			for (const check of waiting) check();
		});
	});
	return {
		child,
		messages,
		exited,
		stderr: () => stderr,
		message: <T>(matches: (message: T) => boolean) =>
			new Promise<T>((resolve, reject) => {
				const check = () => {
					const found = (messages as T[]).find(matches);
					if (found !== undefined) {
						waiting.delete(check);
						resolve(found);
					} else if (closed) {
						waiting.delete(check);
						reject(
							new Error(`The fixture ${fixture} exited without the message; stderr:\n${stderr}`),
						);
					}
				};
				waiting.add(check);
				check();
			}),
	};
}

/** Kills (SIGKILL) every fixture process still running and waits until they are gone. */
export function killFixtureProcesses(): Promise<void> {
	return killAll(running);
}

/** Kills (SIGKILL) each of `children` and waits until every one has closed. */
export async function killAll(children: Iterable<ChildProcess>): Promise<void> {
	await Promise.all(
		[...children].map(
			(child) =>
				new Promise<void>((resolve) => {
					child.once('close', () => resolve());
					child.kill('SIGKILL');
				}),
		),
	);
}
