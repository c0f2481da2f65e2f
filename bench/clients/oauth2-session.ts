import { OAuth2Session } from '../../src/index.js';
import { Token } from '../../src/protocol/token.js';
import { FileStore } from '../../src/storage/file.js';
import { encodeStoredRecord, type TokenStore } from '../../src/storage/token-store.js';
import type { ClientAdapter, SeedToken } from './types.js';

const KEY = 'default';

function toToken(seed: SeedToken): Token {
	return new Token({
		accessToken: seed.accessToken,
		refreshToken: seed.refreshToken,
		expiresAt: seed.expiresAt,
		issuedAt: seed.expiresAt - 3_600_000,
	});
}

export const oauth2Session: ClientAdapter = {
	name: 'oauth2-session',
	how:
		'`new OAuth2Session({ clientId, clientSecret, tokenEndpoint, token, allowedOrigins })` with its ' +
		'defaults (`refresh: "auto"`); each request is `session.fetch(url)`.',
	sharing:
		'`FileStore` on one directory (its lock and `subscribe`); the parent writes the expired token ' +
		'into it with `store.set`, each process opens a session on it.',
	async seed(dir, token) {
		const store = new FileStore({ dir });
		await store.set(KEY, encodeStoredRecord(toToken(token)));
		await store.close();
	},
	async create(setup, source) {
		const store: TokenStore | undefined =
			'sharedPath' in source ? new FileStore({ dir: source.sharedPath }) : undefined;
		const session = new OAuth2Session({
			clientId: setup.clientId,
			clientSecret: setup.clientSecret,
			tokenEndpoint: setup.tokenEndpoint,
			allowedOrigins: [setup.origin],
			...('token' in source ? { token: toToken(source.token) } : {}),
			...(store === undefined ? {} : { store, storeKey: KEY }),
		});
		await session.ready;
		return {
			async get(url) {
				const response = await session.fetch(url);
				// Read, as an application would (and as the overhead benchmark times every client).
				await response.arrayBuffer();
				return response.status;
			},
			async close() {
				session.close();
				await store?.close?.();
			},
		};
	},
};
