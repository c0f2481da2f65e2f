import { decodeStoredRecord, type Token } from '../index.js';
import { FileStore } from '../storage/file.js';
import { CliError } from './cli-error.js';
import type { CliOptions } from './options.js';
import { formatDuration, print } from './terminal.js';

/** `oauth2-session status`: what the saved token is good for, never its secrets. */
export async function status(options: CliOptions): Promise<void> {
	const store = new FileStore({ dir: options.dir });
	try {
		const record = await store.get(options.key);
		if (record === undefined) {
			throw new CliError(`No token under "${options.key}" in ${store.dir}; run login first`);
		}
		const { token, writtenAt, dpop } = decodeStoredRecord(record, options.key);
		print(`Token "${options.key}" in ${store.dir}, saved ${new Date(writtenAt).toISOString()}`);
		for (const line of describeToken(token, dpop?.jkt)) print(`  ${line}`);
	} finally {
		await store.close();
	}
}

/**
 * A few lines about a token: expiry, scope, refresh token, ID token, and the thumbprint of the
 * DPoP key it is bound to. No secret in any of them.
 */
export function describeToken(
	token: Token,
	dpopThumbprint?: string | undefined,
	now: number = Date.now(),
): string[] {
	const expiry =
		token.expiresAt === undefined
			? 'no expiry given'
			: token.expiresAt > now
				? `expires in ${formatDuration(token.expiresAt - now)} (${new Date(token.expiresAt).toISOString()})`
				: `expired ${formatDuration(now - token.expiresAt)} ago (${new Date(token.expiresAt).toISOString()})`;
	const refresh =
		token.refreshToken === undefined
			? 'no'
			: token.refreshTokenExpiresAt === undefined
				? 'yes'
				: `yes, expires ${new Date(token.refreshTokenExpiresAt).toISOString()}`;
	return [
		`access token: ${token.tokenType}, ${expiry}`,
		`scope: ${token.scope === undefined ? '(not stated by the server)' : token.scope.join(' ') || '(none)'}`,
		`refresh token: ${refresh}`,
		`ID token: ${token.idToken === undefined ? 'no' : 'yes'}`,
		...(dpopThumbprint === undefined ? [] : [`DPoP key: ${dpopThumbprint}`]),
	];
}
