import { OAuth2Client, OAuth2Fetch, type OAuth2Token } from '@badgateway/oauth2-client';
import { loadJson, saveJson } from './shared-file.js';
import type { ClientAdapter } from './types.js';

export const badgatewayOAuth2Client: ClientAdapter = {
	name: '@badgateway/oauth2-client',
	how:
		'`OAuth2Fetch` (its fetch wrapper) over an `OAuth2Client` with `tokenEndpoint` set; the token ' +
		'comes from `getStoredToken`, `getNewToken` returns `null` (a new login is not possible ' +
		'unattended). Its refresh is single-flight within one `OAuth2Fetch`. `scheduleRefresh: false` ' +
		'only so the process can exit (its timer would fire a minute before a 1 h expiry, never here).',
	sharing:
		'Its documented `getStoredToken` reads the JSON file (its `OAuth2Token` shape) at start, ' +
		'`storeToken` writes it after each refresh.',
	async seed(path, token) {
		const stored: OAuth2Token = {
			accessToken: token.accessToken,
			refreshToken: token.refreshToken,
			expiresAt: token.expiresAt,
		};
		await saveJson(path, stored);
	},
	async create(setup, source) {
		const client = new OAuth2Client({
			server: setup.origin,
			tokenEndpoint: setup.tokenEndpoint,
			clientId: setup.clientId,
			clientSecret: setup.clientSecret,
		});
		const shared = 'sharedPath' in source ? source.sharedPath : undefined;
		const wrapper = new OAuth2Fetch({
			client,
			getNewToken: () => null,
			getStoredToken: () =>
				'token' in source
					? {
							accessToken: source.token.accessToken,
							refreshToken: source.token.refreshToken,
							expiresAt: source.token.expiresAt,
						}
					: loadJson<OAuth2Token>(shared as string),
			storeToken: (token) => {
				if (shared !== undefined) void saveJson(shared, token);
			},
			// Its failures are thrown to the caller too; counted there.
			onError: () => {},
			scheduleRefresh: false,
		});
		return {
			async get(url) {
				const response = await wrapper.fetch(url);
				// Read, as an application would (and as the overhead benchmark times every client).
				await response.arrayBuffer();
				return response.status;
			},
			async close() {},
		};
	},
};
