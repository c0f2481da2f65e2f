#!/usr/bin/env node
/**
 * `oauth2-session`: a daemon's first login, from a terminal. Signs in once (browser or device
 * flow), saves the token in a FileStore the daemon then opens with the same `dir` and `key`.
 *
 * Exit codes: 0 done, 1 failed, 2 wrong command line.
 */
import { isOAuth2Error } from '../index.js';
import { CliError, UsageError } from './cli-error.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { parseCommandLine, usage } from './options.js';
import { status } from './status.js';
import { say } from './terminal.js';

async function main(argv: readonly string[]): Promise<number> {
	const options = parseCommandLine(argv);
	if (options === 'help') {
		say(usage);
		return 0;
	}
	const { issuer, clientId } = options;
	if (options.command === 'login' && issuer !== undefined && clientId !== undefined) {
		await login({ ...options, issuer, clientId });
	} else if (options.command === 'status') {
		await status(options);
	} else {
		await logout(options);
	}
	return 0;
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	if (error instanceof UsageError) {
		say(`${error.message}\n\n${usage}`);
		process.exitCode = 2;
	} else if (error instanceof CliError || isOAuth2Error(error)) {
		// Library errors never carry a secret in their message: safe to show.
		say(`Error: ${error.message}`);
		process.exitCode = 1;
	} else {
		throw error;
	}
}
