import { type Credentials, OAuth2Client } from 'google-auth-library';
import { loadJson, saveJson } from './shared-file.js';
import type { ClientAdapter, SeedToken } from './types.js';

function toCredentials(token: SeedToken): Credentials {
	return {
		access_token: token.accessToken,
		refresh_token: token.refreshToken,
		expiry_date: token.expiresAt,
		token_type: 'Bearer',
	};
}

/**
 * The status of the API's answer when `client.request` threw it (gaxios rejects non-2xx);
 * `undefined` for anything else, a refused refresh included (its answer is the token endpoint's).
 */
function statusOf(error: unknown, url: string): number | undefined {
	const { response } = error as { response?: { status?: unknown; config?: { url?: unknown } } };
	if (typeof response?.status !== 'number' || String(response.config?.url) !== url)
		return undefined;
	return response.status;
}

export const googleAuthLibrary: ClientAdapter = {
	name: 'google-auth-library',
	how:
		'`OAuth2Client({ clientId, clientSecret, endpoints: { oauth2TokenUrl }, forceRefreshOnFailure: true })`, ' +
		'`setCredentials(...)`, each request `client.request({ url })` (refreshes an expired token ' +
		'first; its documented `forceRefreshOnFailure` makes a 401 on an unexpired token refresh and ' +
		'retry once). Its refreshes are shared per refresh token (`refreshTokenPromises`).',
	sharing:
		'The JSON file holds its `Credentials`; each process `setCredentials` from it at start, and ' +
		"its documented `on('tokens')` listener writes the merged credentials after a refresh.",
	async seed(path, token) {
		await saveJson(path, toCredentials(token));
	},
	async create(setup, source) {
		const client = new OAuth2Client({
			clientId: setup.clientId,
			clientSecret: setup.clientSecret,
			endpoints: { oauth2TokenUrl: setup.tokenEndpoint },
			forceRefreshOnFailure: true,
		});
		const shared = 'sharedPath' in source ? source.sharedPath : undefined;
		const credentials =
			'token' in source
				? toCredentials(source.token)
				: await loadJson<Credentials>(shared as string);
		client.setCredentials(credentials);
		if (shared !== undefined) {
			let saved = credentials;
			client.on('tokens', (tokens) => {
				saved = { ...saved, ...tokens };
				void saveJson(shared, saved);
			});
		}
		return {
			async get(url) {
				try {
					return (await client.request({ url, responseType: 'json' })).status;
				} catch (error) {
					const status = statusOf(error, url);
					if (status === undefined) throw error;
					return status;
				}
			},
			async close() {},
		};
	},
};
