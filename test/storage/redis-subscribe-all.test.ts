// RedisStore.subscribeAll: one pattern subscription for every key under the store's prefix, each
// change told with the key it was made under, whatever characters the prefix and key hold.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireRedisServer } from '../helpers/requirements.js';

const redisServer = requireRedisServer();

const record = (accessToken: string) =>
	encodeStoredRecord(new Token({ accessToken, expiresAt: Date.now() + 60_000 }));

describe.skipIf(redisServer.missing)(redisServer.title('RedisStore.subscribeAll'), () => {
	let server: RedisTestServer;
	const stores: RedisStore[] = [];
	const storeOn = (prefix: string) => {
		const store = new RedisStore({ url: server.url, prefix });
		stores.push(store);
		return store;
	};

	beforeAll(async () => {
		server = await startRedisServer(redisServer.path as string);
	});
	afterEach(async () => {
		await Promise.all(stores.splice(0).map((store) => store.close()));
	});
	afterAll(() => server.stop());

	it('tells each key as it was written, for keys with }, % and glob characters, and only its own prefix', async () => {
		const prefix = 'app*[1]?\\%}:';
		const listening = storeOn(prefix);
		const writer = storeOn(prefix);
		const neighbour = storeOn('app*[1]?\\%}:other:');
		const lookalike = storeOn('appX[1]?\\%}:');
		const seen: [string, string | undefined][] = [];
		listening.subscribeAll((key, r) => seen.push([key, r?.token?.access_token]));
		// Both connections up, and the PSUBSCRIBE through, before the writes.
		await listening.get('warm-up');
		await writer.set('warm-up', record('warm'));
		await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(1);
		seen.length = 0;

		await lookalike.set('k', record('not-ours'));
		for (const key of ['}', 'a}b', '%7D', 'x*y', '']) await writer.set(key, record(`t-${key}`));
		await writer.delete('a}b');
		await expect
			.poll(() => seen, { timeout: 5_000 })
			.toEqual([
				['}', 't-}'],
				['a}b', 't-a}b'],
				['%7D', 't-%7D'],
				['x*y', 't-x*y'],
				['', 't-'],
				['a}b', undefined],
			]);
		// A longer prefix that starts with ours is a key of ours to Redis's pattern: it is told so.
		await neighbour.set('n', record('n'));
		await expect.poll(() => seen.at(-1), { timeout: 5_000 }).toEqual(['other:n', 'n']);
	});
});
