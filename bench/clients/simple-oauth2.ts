import { type AccessToken, AuthorizationCode } from 'simple-oauth2';
import { loadJson, saveJson } from './shared-file.js';
import type { ClientAdapter, SeedToken } from './types.js';

function toJson(token: SeedToken): Record<string, unknown> {
	return {
		access_token: token.accessToken,
		refresh_token: token.refreshToken,
		token_type: 'Bearer',
		expires_at: new Date(token.expiresAt).toISOString(),
	};
}

export const simpleOAuth2: ClientAdapter = {
	name: 'simple-oauth2',
	how:
		'`new AuthorizationCode({ client, auth: { tokenHost, tokenPath } })`, `client.createToken(json)`, ' +
		"and the README's wrapper before each request: `if (accessToken.expired()) accessToken = await " +
		'accessToken.refresh()` (an error is caught, as in the README, and the request goes out with ' +
		'the token it has), then `fetch` with `Authorization: Bearer`. The library has no 401 handling: ' +
		'the wrapper as documented never refreshes a token the server revoked before its expiry.',
	sharing:
		"The JSON file holds `JSON.stringify(accessToken)` as the README's persistence section shows; " +
		'each process `createToken`s from it at start and writes it after a refresh.',
	async seed(path, token) {
		await saveJson(path, toJson(token));
	},
	async create(setup, source) {
		const client = new AuthorizationCode({
			client: { id: setup.clientId, secret: setup.clientSecret },
			auth: { tokenHost: setup.origin, tokenPath: '/token' },
		});
		const shared = 'sharedPath' in source ? source.sharedPath : undefined;
		let accessToken: AccessToken = client.createToken(
			'token' in source ? toJson(source.token) : await loadJson(shared as string),
		);
		return {
			async get(url) {
				if (accessToken.expired()) {
					try {
						accessToken = await accessToken.refresh();
						if (shared !== undefined) await saveJson(shared, accessToken);
					} catch {
						// The README logs the error and goes on.
					}
				}
				const response = await fetch(url, {
					headers: { authorization: `Bearer ${accessToken.token.access_token as string}` },
				});
				// Read, as an application would (and as the overhead benchmark times every client).
				await response.arrayBuffer();
				return response.status;
			},
			async close() {},
		};
	},
};
