import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `node --import tsx demo/<script> ...args` to the end. */
export function runDemo(
	script: string,
	args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			['--import', 'tsx', `demo/${script}`, ...args],
			{ cwd: root, timeout: 60_000 },
			(error, stdout, stderr) => {
				const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
				resolve({ code, stdout, stderr });
			},
		);
	});
}
