import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import { loadJson, saveJson } from './shared-file.js';
import type { ClientAdapter, SeedToken } from './types.js';

/** The token as an app using axios keeps it: the token endpoint's answer, `expires_at` added. */
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

export const axiosAuthRefresh: ClientAdapter = {
	name: 'axios-auth-refresh',
	how:
		'An axios instance with a request interceptor that sets `Authorization` from the current token ' +
		"(the README's `getAccessToken()` pattern) and `createAuthRefresh(instance, refreshAuthLogic)` " +
		'with its defaults (`deduplicateRefresh: true`, 401). `refreshAuthLogic` posts ' +
		'`grant_type=refresh_token` with plain `axios.post`, keeps the answer and sets the failed ' +
		"request's header, as in the README. It has no notion of expiry: the first request goes out with " +
		'the expired token.',
	sharing:
		'The JSON file holds the token endpoint answer; each process reads it at start, ' +
		'`refreshAuthLogic` writes it after a refresh.',
	async seed(path, token) {
		await saveJson(path, toStored(token));
	},
	async create(setup, source) {
		const shared = 'sharedPath' in source ? source.sharedPath : undefined;
		let token =
			'token' in source ? toStored(source.token) : await loadJson<StoredToken>(shared as string);
		const instance = axios.create();
		instance.interceptors.request.use((request) => {
			request.headers.Authorization = `Bearer ${token.access_token}`;
			return request;
		});
		createAuthRefresh(
			// Its types name axios's CommonJS declarations; the instance is the same object.
			instance as unknown as Parameters<typeof createAuthRefresh>[0],
			async (failedRequest: { response: { config: { headers: Record<string, string> } } }) => {
				const answer = await axios.post<{
					access_token: string;
					refresh_token?: string;
					expires_in: number;
				}>(
					setup.tokenEndpoint,
					new URLSearchParams({
						grant_type: 'refresh_token',
						refresh_token: token.refresh_token,
						client_id: setup.clientId,
						client_secret: setup.clientSecret,
					}),
				);
				token = {
					access_token: answer.data.access_token,
					refresh_token: answer.data.refresh_token ?? token.refresh_token,
					expires_at: Date.now() + answer.data.expires_in * 1000,
				};
				if (shared !== undefined) await saveJson(shared, token);
				failedRequest.response.config.headers.Authorization = `Bearer ${token.access_token}`;
			},
		);
		return {
			async get(url) {
				// Default validateStatus: the refresh interceptor only sees a 401 that axios rejects. A
				// refused refresh rejects with the token endpoint's answer: counted as what was thrown.
				try {
					return (await instance.get(url)).status;
				} catch (error) {
					if (
						axios.isAxiosError(error) &&
						error.response !== undefined &&
						error.config?.url === url
					)
						return error.response.status;
					throw error;
				}
			},
			async close() {},
		};
	},
};
