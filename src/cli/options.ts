import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
	type ClientAuthentication,
	clientSecretBasic,
	noneClientAuthentication,
} from '../index.js';
import { UsageError } from './cli-error.js';

/** The commands of `oauth2-session`. */
export type Command = 'login' | 'status' | 'logout';

/** What the command line asked for, every default applied. */
export interface CliOptions {
	command: Command;
	/** The authorization server's issuer; its endpoints come from discovery. */
	issuer: string | undefined;
	clientId: string | undefined;
	/** For confidential clients. Visible to other users in the process list: prefer public clients. */
	clientSecret: string | undefined;
	scope: string[];
	/** The FileStore directory. */
	dir: string;
	/** The record's key in the FileStore. */
	key: string;
	/** Device authorization grant instead of a browser with a loopback redirect. */
	device: boolean;
	/**
	 * Bind the token to a new ES256 key (DPoP, RFC 9449), saved with it: daemons sharing the
	 * FileStore with `dpop: true` sign with that key.
	 */
	dpop: boolean;
	/** Try to open the authorization URL in a browser. */
	open: boolean;
	/** How long login waits for the user, in milliseconds. */
	timeout: number;
	/**
	 * The loopback server's port: 0 for one the system picks (RFC 8252 §7.3). A fixed one is for
	 * servers that compare the redirect URI's port too, with `http://127.0.0.1:<port>/callback`
	 * registered.
	 */
	port: number;
}

export const usage = `Usage:
  oauth2-session login  --issuer URL --client-id ID [--client-secret S] [--scope "a b"]
                        [--device] [--dpop] [--open] [--port N] [--timeout SECONDS] [--dir DIR]
                        [--key KEY]
  oauth2-session status [--dir DIR] [--key KEY]
  oauth2-session logout [--issuer URL --client-id ID [--client-secret S]] [--dir DIR] [--key KEY]

login   signs in with authorization code + PKCE through a browser and a one-shot server on
        127.0.0.1 (RFC 8252), or with --device through the device flow (RFC 8628), and saves
        the token in a FileStore. The request is pushed first (PAR, RFC 9126) when the
        issuer's metadata names a pushed_authorization_request_endpoint. With --dpop, in either
        flow, the token is bound to a new key (DPoP, RFC 9449), saved with it for sessions
        with dpop: true.
status  shows the saved token's expiry, scope and whether it has a refresh token (no secrets).
logout  revokes the token at the issuer's revocation endpoint, if any, and deletes it.

Defaults: --dir $XDG_CONFIG_HOME/oauth2-session/tokens (~/.config/...), --key default,
--timeout 300, --port 0 (a free port; the redirect URI is http://127.0.0.1:<port>/callback).`;

/** Every default, in one place. */
export const defaults = {
	key: 'default',
	timeoutSeconds: 300,
	port: 0,
} as const;

/** The default FileStore directory: `$XDG_CONFIG_HOME/oauth2-session/tokens`. */
export function defaultDir(env: NodeJS.ProcessEnv = process.env): string {
	const config = env.XDG_CONFIG_HOME || join(homedir(), '.config');
	return join(config, 'oauth2-session', 'tokens');
}

/** Reads the command line. @throws {UsageError} */
export function parseCommandLine(argv: readonly string[]): CliOptions | 'help' {
	let parsed: ReturnType<typeof parse>;
	try {
		parsed = parse(argv);
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}
	const { values, positionals } = parsed;
	if (values.help || positionals.length === 0) return 'help';
	const [command, ...extra] = positionals;
	if (command !== 'login' && command !== 'status' && command !== 'logout') {
		throw new UsageError(`Unknown command: ${command}`);
	}
	if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra[0]}`);
	const timeout = Number(values.timeout ?? defaults.timeoutSeconds);
	if (!(timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
	const port = Number(values.port ?? defaults.port);
	if (!Number.isInteger(port) || port < 0 || port > 65_535) {
		throw new UsageError('--port must be a port number, or 0 for a free one');
	}
	const options: CliOptions = {
		command,
		issuer: values.issuer,
		clientId: values['client-id'],
		clientSecret: values['client-secret'],
		scope: (values.scope ?? []).flatMap((scope) => scope.split(/[\s,]+/)).filter(Boolean),
		dir: values.dir ?? defaultDir(),
		key: values.key ?? defaults.key,
		device: values.device ?? false,
		dpop: values.dpop ?? false,
		open: values.open ?? false,
		timeout: timeout * 1000,
		port,
	};
	if (command === 'login' && (options.issuer === undefined || options.clientId === undefined)) {
		throw new UsageError('login needs --issuer and --client-id');
	}
	if (command === 'logout' && (options.issuer === undefined) !== (options.clientId === undefined)) {
		throw new UsageError('logout needs both --issuer and --client-id to revoke, or neither');
	}
	return options;
}

function parse(argv: readonly string[]) {
	return parseArgs({
		args: [...argv],
		allowPositionals: true,
		strict: true,
		options: {
			issuer: { type: 'string' },
			'client-id': { type: 'string' },
			'client-secret': { type: 'string' },
			scope: { type: 'string', multiple: true },
			dir: { type: 'string' },
			key: { type: 'string' },
			device: { type: 'boolean' },
			dpop: { type: 'boolean' },
			open: { type: 'boolean' },
			timeout: { type: 'string' },
			port: { type: 'string' },
			help: { type: 'boolean', short: 'h' },
		},
	});
}

/** How the client authenticates: HTTP Basic with a secret, else as a public client. */
export function clientAuthenticationFor(options: {
	clientId: string;
	clientSecret: string | undefined;
}): ClientAuthentication {
	return options.clientSecret === undefined
		? noneClientAuthentication(options.clientId)
		: clientSecretBasic(options.clientId, options.clientSecret);
}
