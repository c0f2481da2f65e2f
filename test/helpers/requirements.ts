/**
 * Suites that need a program installed on the machine (redis-server, a browser) ask for it here.
 * Missing, the suite is skipped, with a line on stderr and a title that say how to install it; under CI
 * (`OAUTH2_SESSION_REQUIRE_ALL_SUITES=1`) the test file fails instead, so a missing install step
 * cannot pass as green.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface BinaryRequirement {
	/** The program's path, or `undefined` when it is missing. */
	readonly path: string | undefined;
	/** Whether the suite must be skipped: pass it to `describe.skipIf`. */
	readonly missing: boolean;
	/** A suite title: the name as it is, or with why the suite is skipped and how to run it. */
	title(name: string): string;
}

/** Programs whose absence this process has already explained. */
const noted = new Set<string>();

/** Whether every suite must run (CI) rather than skip for a missing program. */
export const requireAllSuites = process.env.OAUTH2_SESSION_REQUIRE_ALL_SUITES === '1';

/**
 * Looks for `name` on PATH, then at each of `fallbacks`.
 * @throws {Error} The program is missing and `OAUTH2_SESSION_REQUIRE_ALL_SUITES=1`.
 * @example
 * const redisCli = requireBinary('redis-cli', 'apt-get install redis-tools', ['/usr/bin/redis-cli']);
 * describe.skipIf(redisCli.missing)(redisCli.title('RedisStore on a Cluster'), () => { ... });
 */
export function requireBinary(
	name: string,
	installHint: string,
	fallbacks: readonly string[] = [],
): BinaryRequirement {
	const searched = (process.env.PATH ?? '')
		.split(delimiter)
		.filter((dir) => dir !== '')
		.map((dir) => join(dir, name));
	const path = [...searched, ...fallbacks].find(isExecutable);
	const where = ['PATH', ...fallbacks].join(', ');
	if (path === undefined && requireAllSuites) {
		throw new Error(
			`${name} is required (OAUTH2_SESSION_REQUIRE_ALL_SUITES=1) but was not found on ${where}. Install it: ${installHint}`,
		);
	}
	if (path === undefined && !noted.has(name)) {
		noted.add(name);
		// The reporter shows a skipped suite as a count only; this says why, and how to run it.
		process.stderr.write(
			`Skipping the suites that need ${name}: not found on ${where}. Install it (${installHint}) to run them.\n`,
		);
	}
	return {
		path,
		missing: path === undefined,
		title: (suite) =>
			path === undefined
				? `${suite} [skipped: ${name} not found on ${where}; install it with \`${installHint}\`]`
				: suite,
	};
}

/** redis-server (Debian's `redis-server` package). */
export function requireRedisServer(): BinaryRequirement {
	return requireBinary('redis-server', 'apt-get install redis-server', ['/usr/bin/redis-server']);
}

/** Chromium, for the suites that run in a real headless browser (Debian's `chromium` package). */
export function requireChromium(): BinaryRequirement {
	return requireBinary('chromium', 'apt-get install -y --no-install-recommends chromium', [
		'/usr/bin/chromium',
	]);
}

function isExecutable(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}
