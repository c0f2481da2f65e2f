import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/**
 * What oidc-provider prints once, at import, on a Node release that is not LTS (Node 26 until its
 * LTS begins): the one line a demo may print to stderr, and only on such a release.
 */
const NOT_LTS_WARNING = /^oidc-provider WARNING: Unsupported runtime\..*\n/gm;

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
				const lts = process.release.lts !== undefined;
				resolve({ code, stdout, stderr: lts ? stderr : stderr.replace(NOT_LTS_WARNING, '') });
			},
		);
	});
}
