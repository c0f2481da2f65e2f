import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { Token } from '../../src/protocol/token.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

/** A store whose reads wait until the test opens it: the session's first read is still pending. */
class GatedStore extends MemoryStore {
	#open!: () => void;
	readonly #gate = new Promise<void>((resolve) => {
		this.#open = resolve;
	});

	open(): void {
		this.#open();
	}

	override async get(key: string): Promise<StoredRecord | undefined> {
		await this.#gate;
		return super.get(key);
	}
}

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

/**
 * A session on a store that holds a valid token, made with `from` as the token's way in (the
 * store, or the `token` option over an empty store). `call` runs right after the constructor,
 * while the store read is pending; then the store answers.
 */
async function callBeforeRead<T>(
	from: 'store' | 'token option',
	call: (session: OAuth2Session) => Promise<T>,
	options: Partial<OAuth2SessionOptions> = {},
): Promise<{ session: OAuth2Session; store: GatedStore; saved: Token; result: T }> {
	const store = new GatedStore();
	const answer = server.issue();
	const saved = new Token({
		accessToken: answer.access_token,
		refreshToken: answer.refresh_token,
		expiresAt: Date.now() + 3_600_000,
	});
	if (from === 'store') await store.set('default', encodeStoredRecord(saved));
	const session = sessionOn(server, from === 'store' ? undefined : saved, {
		store,
		revocationEndpoint: `${server.origin}/revoke`,
		...options,
	});
	const pending = call(session);
	store.open();
	return { session, store, saved, result: await pending };
}

describe.each(['store', 'token option'] as const)(
	'calls made before the session read its store (token from the %s)',
	(from) => {
		it('refreshToken() refreshes the loaded token', async () => {
			const { session, saved, result } = await callBeforeRead(from, (s) => s.refreshToken());
			expect(server.stats.refreshRequests).toBe(1);
			expect(result.accessToken).not.toBe(saved.accessToken);
			expect(session.token?.accessToken).toBe(result.accessToken);
		});

		it('refreshToken() in manual mode refreshes the loaded token', async () => {
			const { result, saved } = await callBeforeRead(from, (s) => s.refreshToken(), {
				refresh: 'manual',
			});
			expect(server.stats.refreshRequests).toBe(1);
			expect(result.accessToken).not.toBe(saved.accessToken);
		});

		it('getToken() returns the loaded token without a request', async () => {
			const { result, saved } = await callBeforeRead(from, (s) => s.getToken());
			expect(result.accessToken).toBe(saved.accessToken);
			expect(server.stats.tokenRequests).toBe(0);
		});

		it('fetch() sends the loaded token', async () => {
			const { result } = await callBeforeRead(from, (s) => s.fetch(`${server.origin}/api/me`));
			expect(result.status).toBe(200);
			expect(server.stats.tokenRequests).toBe(0);
		});

		it('setToken() wins over the loaded token, in memory and in the store', async () => {
			const { session, store } = await callBeforeRead(from, (s) =>
				s.setToken({ accessToken: 'set-early' }),
			);
			expect(session.token?.accessToken).toBe('set-early');
			expect((await store.get('default'))?.token?.access_token).toBe('set-early');
		});

		it('fetchToken() wins over the loaded token, in memory and in the store', async () => {
			const { session, store, result } = await callBeforeRead(from, (s) =>
				s.fetchToken({ grant: clientCredentialsGrant() }),
			);
			expect(session.token?.accessToken).toBe(result.accessToken);
			expect((await store.get('default'))?.token?.access_token).toBe(result.accessToken);
		});

		it('logout() revokes the loaded token and clears the store', async () => {
			const { session, store } = await callBeforeRead(from, (s) => s.logout());
			expect(server.stats.revocations).toBe(1);
			expect(session.token).toBeUndefined();
			expect(await store.get('default')).toBeUndefined();
		});

		it('listeners added at once hear what the early calls do, with the loaded token as previous', async () => {
			const heard: string[] = [];
			const { result, saved } = await callBeforeRead(from, async (s) => {
				s.on('tokenUpdated', ({ source, previous }) => {
					heard.push(`${source} after ${previous?.accessToken}`);
				});
				s.on('sessionEnded', () => heard.push('ended'));
				const token = await s.refreshToken();
				await s.logout();
				return token;
			});
			expect(result.accessToken).not.toBe(saved.accessToken);
			expect(heard).toEqual([`refresh after ${saved.accessToken}`, 'ended']);
		});
	},
);
