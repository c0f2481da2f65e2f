import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { type RedisTestCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { requireBinary } from '../helpers/requirements.js';
import { describeStoreContract } from './contract.js';

const redisServer = requireBinary('redis-server', 'apt-get install redis-server', [
	'/usr/bin/redis-server',
]);
const redisCli = requireBinary('redis-cli', 'apt-get install redis-tools', ['/usr/bin/redis-cli']);
const missing = redisServer.missing || redisCli.missing;

describe.skipIf(missing)(redisServer.title('RedisStore on a Redis Cluster'), () => {
	let cluster: RedisTestCluster;
	const stores: RedisStore[] = [];
	let prefixes = 0;

	const storeOn = (client: Cluster, prefix: string) => {
		const store = new RedisStore({ client, prefix });
		stores.push(store);
		return store;
	};
	/** Two stores on Cluster clients of their own, as two processes would have. */
	const pair = () => {
		const prefix = `cluster-${++prefixes}:`;
		return { store: storeOn(cluster.client(), prefix), peer: storeOn(cluster.client(), prefix) };
	};
	/**
	 * A Cluster's pub/sub crosses the cluster bus: the subscriber's node may not be the writer's.
	 * The handles are handed out once a write through the peer has reached the store's
	 * subscription, so the contract's own subscribe goes out on an open connection at once.
	 */
	const warm = async (store: RedisStore, peer: RedisStore) => {
		const seen: unknown[] = [];
		const unsubscribe = store.subscribe('warm-up', (r) => seen.push(r));
		await expect
			.poll(
				async () => {
					await peer.set('warm-up', encodeStoredRecord(new Token({ accessToken: 'w' })));
					await peer.delete('warm-up');
					return seen.length;
				},
				{ timeout: 20_000, interval: 200 },
			)
			.toBeGreaterThan(0);
		unsubscribe();
	};

	beforeAll(async () => {
		cluster = await startRedisCluster(redisServer.path as string, redisCli.path as string);
	}, 120_000);
	afterAll(async () => {
		await Promise.all(stores.splice(0).map((store) => store.close()));
		await cluster?.stop();
	});

	describeStoreContract('RedisStore on a Cluster client', {
		async create() {
			const { store, peer } = pair();
			await warm(store, peer);
			return { store, peer, cleanup: async () => {} };
		},
	});

	it('keeps a key’s record and lock on the one master that serves its slot', async () => {
		const { store } = pair();
		const names = store.keysFor('user-1');
		const owners = await Promise.all(
			[names.record, names.lock, names.channel].map(async (n) => (await cluster.ownerOf(n)).master),
		);
		expect(new Set(owners.map((node) => node.port)).size).toBe(1);
	});
});
