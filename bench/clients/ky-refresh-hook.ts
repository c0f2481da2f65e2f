import ky from 'ky';
import { loadJson, saveJson } from './shared-file.js';
import type { ClientAdapter, SeedToken } from './types.js';

interface StoredToken {
	access_token: string;
	refresh_token: string;
	expires_at: number;
}

function toStored(token: SeedToken): StoredToken {
	return {
		access_token: token.accessToken,
		refresh_token: token.refreshToken,
		expires_at: token.expiresAt,
	};
}

export const kyRefreshHook: ClientAdapter = {
	name: 'ky (README refresh hook)',
	how:
		"ky 2 with a `beforeRequest` hook setting `Authorization` from the current token and the README's " +
		'`afterResponse` hook: on a 401 with `retryCount === 0`, `ky.post` the refresh ' +
		'(`grant_type=refresh_token`), keep the answer, and `return ky.retry({ request: new Request(request, ' +
		"{ headers }), code: 'TOKEN_REFRESHED' })`. No notion of expiry, no sharing of a refresh in flight " +
		'(the README shows none).',
	sharing:
		'The JSON file holds the token endpoint answer; each process reads it at start, the hook writes ' +
		'it after a refresh.',
	async seed(path, token) {
		await saveJson(path, toStored(token));
	},
	async create(setup, source) {
		const shared = 'sharedPath' in source ? source.sharedPath : undefined;
		let token =
			'token' in source ? toStored(source.token) : await loadJson<StoredToken>(shared as string);
		const api = ky.create({
			throwHttpErrors: false,
			hooks: {
				beforeRequest: [
					({ request }) => {
						request.headers.set('Authorization', `Bearer ${token.access_token}`);
					},
				],
				afterResponse: [
					async ({ request, response, retryCount }) => {
						if (response.status === 401 && retryCount === 0) {
							const answer = await ky
								.post(setup.tokenEndpoint, {
									body: new URLSearchParams({
										grant_type: 'refresh_token',
										refresh_token: token.refresh_token,
										client_id: setup.clientId,
										client_secret: setup.clientSecret,
									}),
								})
								.json<{ access_token: string; refresh_token?: string; expires_in: number }>();
							token = {
								access_token: answer.access_token,
								refresh_token: answer.refresh_token ?? token.refresh_token,
								expires_at: Date.now() + answer.expires_in * 1000,
							};
							if (shared !== undefined) await saveJson(shared, token);
							const headers = new Headers(request.headers);
							headers.set('Authorization', `Bearer ${token.access_token}`);
							return ky.retry({
								request: new Request(request, { headers }),
								code: 'TOKEN_REFRESHED',
							});
						}
					},
				],
			},
		});
		return {
			async get(url) {
				const response = await api.get(url);
				// Read, as an application would (and as the overhead benchmark times every client).
				await response.arrayBuffer();
				return response.status;
			},
			async close() {},
		};
	},
};
