import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReauthenticationRequiredError, StorageError } from '../../src/errors/index.js';
import { toToken } from '../../src/protocol/token-record.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterAll(() => server.close());

/** A store holding a token whose reads fail while `down` is set, as Redis down at start does. */
class FlakyStore extends MemoryStore {
	down = true;
	deletes = 0;
	override get(key: string) {
		return this.down ? Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')) : super.get(key);
	}
	override delete(key: string) {
		this.deletes++;
		return super.delete(key);
	}
}

describe('a store that cannot be read at start', () => {
	it('fails requests with StorageError (unavailable), not "sign in again", and recovers when it answers', async () => {
		const store = new FlakyStore();
		await store.set('default', encodeStoredRecord(toToken(server.issue())));
		const session = sessionOn(server, undefined, { store });
		const ended: unknown[] = [];
		session.on('sessionEnded', (e) => ended.push(e));
		for (const attempt of [session.fetch(`${server.origin}/api/me`), session.refreshToken()]) {
			const error = await attempt.catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StorageError);
			expect(error).toMatchObject({ problem: 'unavailable' });
			expect(error).not.toBeInstanceOf(ReauthenticationRequiredError);
		}
		expect(store.deletes).toBe(0);
		expect(ended).toEqual([]);
		expect(server.stats.apiRequests).toBe(0);
		// Redis is back: the next request reads it and goes with the stored token.
		store.down = false;
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(server.stats.tokenRequests).toBe(0);
		session.close();
	});

	it('a store that answers and holds nothing is "sign in again"', async () => {
		const store = new FlakyStore();
		store.down = false;
		const session = sessionOn(server, undefined, { store });
		await expect(session.fetch(`${server.origin}/api/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		session.close();
	});

	it('RedisStore on a closed port: StorageError (unavailable) from fetch', async () => {
		const store = new RedisStore({ url: 'redis://127.0.0.1:1', commandTimeout: 1_000 });
		const session = sessionOn(server, undefined, { store });
		const error = await session.fetch(`${server.origin}/api/me`).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(StorageError);
		expect(error).toMatchObject({ problem: 'unavailable' });
		session.close();
		await store.close();
	});
});
