import { decodeStoredRecord, discover, revokeToken, type Token } from '../index.js';
import { FileStore } from '../storage/file.js';
import { type CliOptions, clientAuthenticationFor } from './options.js';
import { say } from './terminal.js';

/**
 * `oauth2-session logout`: revokes the token where the issuer has a revocation endpoint (the
 * refresh token, which ends the grant on most servers), then deletes it. The record is deleted
 * even when revocation fails; that failure still makes the command fail.
 */
export async function logout(options: CliOptions): Promise<void> {
	const store = new FileStore({ dir: options.dir });
	try {
		const record = await store.get(options.key);
		if (record === undefined) {
			say(`No token under "${options.key}" in ${store.dir}: nothing to do.`);
			return;
		}
		const { token } = decodeStoredRecord(record, options.key);
		let failure: unknown;
		try {
			// A record of a DPoP key and no token (a sign-in not finished) has nothing to revoke.
			if (token !== undefined) await revoke(options, token);
		} catch (error) {
			failure = error;
		}
		await store.delete(options.key);
		say(`Deleted the token "${options.key}" from ${store.dir}.`);
		if (failure !== undefined) throw failure;
	} finally {
		await store.close();
	}
}

async function revoke(options: CliOptions, token: Token): Promise<void> {
	if (options.issuer === undefined || options.clientId === undefined) {
		say('Not revoked at the server: no --issuer and --client-id given.');
		return;
	}
	const metadata = await discover(options.issuer);
	if (metadata.revocation_endpoint === undefined) {
		say(`Not revoked: ${metadata.issuer} has no revocation endpoint. It expires on its own.`);
		return;
	}
	await revokeToken({
		revocationEndpoint: metadata.revocation_endpoint,
		token: token.refreshToken ?? token.accessToken,
		tokenTypeHint: token.refreshToken === undefined ? 'access_token' : 'refresh_token',
		clientAuthentication: clientAuthenticationFor({
			clientId: options.clientId,
			clientSecret: options.clientSecret,
		}),
	});
	say(
		`Revoked the ${token.refreshToken === undefined ? 'access' : 'refresh'} token at ${metadata.issuer}.`,
	);
}
