import { writeFileSync } from 'node:fs';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { killFixtureProcesses } from '../helpers/child-process.js';
import { expiredRecord, fleetRun, oneRefresh, runFleet } from '../helpers/fleet.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { type RedisTestCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { requireBinary, requireRedisServer } from '../helpers/requirements.js';
import { sessionOn } from '../helpers/session.js';
import { describeStoreContract } from './contract.js';

const redisServer = requireRedisServer();
const redisCli = requireBinary('redis-cli', 'apt-get install redis-tools', ['/usr/bin/redis-cli']);
const missing = redisServer.missing || redisCli.missing;
const PROCESSES = 8;
const REQUESTS = 25;
/** Failover runs: a few in `npm test`, more with LONG=1 (for BENCHMARKS.md). */
const FAILOVER_RUNS = process.env.LONG === '1' ? Number(process.env.FAILOVER_RUNS ?? 9) : 1;

/** What one failover run measured. */
interface FailoverRun {
	tokenRequests: number;
	/** Tokens the processes took from their own refresh (1 when the lock held across the failover). */
	refreshes: number;
	failedRequests: number;
	/** Processes whose session ended (no token left). */
	sessionsLost: number;
	storeErrors: string[];
	errors: string[];
	/** The slowest process, from "go" to its last answer. */
	longestMs: number;
	promotedFrom: number;
	promotedTo: number;
	seconds: number;
}

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
		// Non-sharded pub/sub crosses the cluster bus, and a node resets its bus link to a peer
		// silent for half the node timeout, losing the messages on it: with the 1 s a quick
		// failover needs, a starved node drops them (the subscribeAll contract failed so under
		// load). The contract holds a healthy Cluster to delivery; the failover test shortens it.
		cluster = await startRedisCluster(redisServer.path as string, redisCli.path as string, {
			nodeTimeoutMs: 15_000,
		});
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

	it('a node stalled for 800 ms (a loaded machine) leaves the bus links that pub/sub crosses up', async () => {
		const [stalled, ...others] = cluster.nodes;
		// Judged by creation time, not by comparing two listings: CI once saw a link made at the
		// cluster's start missing from a first listing and present in the second.
		const since = Date.now();
		for (let i = 0; i < 2; i++) {
			await cluster.stall(stalled as (typeof cluster.nodes)[number], 800);
			// The links' cron runs every 100 ms: a few turns, after the stall, to reset them.
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		const after = await Promise.all(others.map((node) => cluster.busLinks(node)));
		const remade = after.flat().filter((link) => link.createdAt >= since);
		expect(remade).toEqual([]);
	});

	it('keeps a key’s record and lock on the one master that serves its slot', async () => {
		const { store } = pair();
		const names = store.keysFor('user-1');
		const owners = await Promise.all(
			[names.record, names.lock, names.channel].map(async (n) => (await cluster.ownerOf(n)).master),
		);
		expect(new Set(owners.map((node) => node.port)).size).toBe(1);
	});

	it('a master without the scripts cached (a promoted replica) runs them, also when ioredis wraps the NOSCRIPT in its redirection error', async () => {
		// After a failover's redirections use up ioredis' budget, the NOSCRIPT of the new master
		// comes as "Too many Cluster redirections. Last error: ReplyError: NOSCRIPT …": with no
		// budget at all, it always does.
		const client = new Cluster([...cluster.startupNodes], { maxRedirections: 0 });
		client.on('error', () => {});
		const store = storeOn(client, `cluster-${++prefixes}:`);
		const record = encodeStoredRecord(new Token({ accessToken: 'before-flush' }));
		try {
			await store.set('k', record);
			await Promise.all(client.nodes('master').map((node) => node.script('FLUSH')));
			const next = encodeStoredRecord(new Token({ accessToken: 'after-flush' }));
			await store.set('k', next);
			expect((await store.get('k'))?.token?.access_token).toBe('after-flush');
			await store.delete('k');
			expect(await store.get('k')).toBeUndefined();
		} finally {
			await store.close();
			client.disconnect();
		}
	});

	// Last in this block: the cluster is left with a promoted master and no replica for it.
	it('a write sent while its slot’s master is dead waits for the failover, not only for ioredis’ redirections', async () => {
		// Few redirections, quickly spent: a failover outlasts them, as one on a loaded machine
		// outlasts the default 16 tries 100 ms apart.
		const client = new Cluster([...cluster.startupNodes], {
			maxRedirections: 2,
			retryDelayOnFailover: 20,
		});
		client.on('error', () => {});
		await cluster.setNodeTimeout(1_000);
		const store = new RedisStore({
			client,
			prefix: `cluster-${++prefixes}:`,
			commandTimeout: 30_000,
		});
		stores.push(store);
		try {
			await store.set('k', encodeStoredRecord(new Token({ accessToken: 'before' })));
			const { master } = await cluster.ownerOf(store.keysFor('k').record);
			await cluster.kill(master);
			await store.set('k', encodeStoredRecord(new Token({ accessToken: 'during' })));
			await cluster.settled();
			expect((await store.get('k'))?.token?.access_token).toBe('during');
		} finally {
			client.disconnect();
		}
	}, 90_000);
});

describe.skipIf(missing)(redisServer.title('Sessions in processes sharing a Redis Cluster'), () => {
	let cluster: RedisTestCluster;
	let server: OAuthTestServer;
	let keys = 0;

	beforeAll(async () => {
		[cluster, server] = await Promise.all([
			startRedisCluster(redisServer.path as string, redisCli.path as string),
			startOAuthServer({ tokenLatency: 30 }),
		]);
	}, 120_000);
	afterEach(async () => {
		await killFixtureProcesses();
		server.resetStats();
		server.settings.tokenLatency = 30;
		server.settings.tokenHold = undefined;
	});
	afterAll(async () => {
		await Promise.all([cluster?.stop(), server?.close()]);
	});

	/** A fresh store key holding an expired token, under a slot of one of `masters` if given. */
	const expiredKey = async (masters?: readonly number[]) => {
		const store = new RedisStore({ client: cluster.client() });
		try {
			let key = `fleet-${++keys}`;
			while (
				masters !== undefined &&
				!masters.includes((await cluster.ownerOf(store.keysFor(key).record)).master.port)
			) {
				key = `fleet-${++keys}`;
			}
			await store.set(key, expiredRecord(server));
			return { key, record: store.keysFor(key).record };
		} finally {
			await store.close();
		}
	};

	/** Starts the fleet on `key`, releases every process at once, and resolves with what each saw. */
	const fleet = async (key: string, during?: () => Promise<void>) => {
		const env = {
			REDIS_CLUSTER: cluster.nodes.map((node) => node.port).join(','),
			STORE_KEY: key,
			TOKEN_ENDPOINT: server.tokenEndpoint,
			API_ORIGIN: server.origin,
			REQUESTS: String(REQUESTS),
		};
		return runFleet(PROCESSES, env, during);
	};

	it(`${PROCESSES} processes × ${REQUESTS} requests on an expired shared token: exactly 1 token request, all succeed`, async () => {
		const { key } = await expiredKey();
		expect(fleetRun(await fleet(key), server)).toEqual(oneRefresh(PROCESSES * REQUESTS));
	}, 120_000);

	it(
		`failover: the master of the session's slot SIGKILLed while ${PROCESSES} processes refresh`,
		async () => {
			const figures: FailoverRun[] = [];
			for (let run = 0; run < FAILOVER_RUNS; run++) {
				// Each of the three shards fails over once; then a new cluster has three more.
				if (run > 0 && run % 3 === 0) {
					await cluster.stop();
					cluster = await startRedisCluster(redisServer.path as string, redisCli.path as string);
				}
				const intact = (await cluster.intactMasters()).map((node) => node.port);
				const { key, record } = await expiredKey(intact);
				const { master } = await cluster.ownerOf(record);
				server.resetStats();
				// The refresh answer is held back long enough for the kill to land inside it.
				server.settings.tokenLatency = 1_500;
				const started = Date.now();
				const { outcomes } = await fleet(key, async () => {
					await expect
						.poll(() => server.stats.tokenRequests, { timeout: 30_000, interval: 5 })
						.toBeGreaterThan(0);
					await cluster.kill(master);
				});
				await cluster.settled();
				const promoted = (await cluster.ownerOf(record)).master;
				figures.push({
					tokenRequests: server.stats.tokenRequests,
					refreshes: outcomes.flatMap((o) => o.sources).filter((s) => s === 'refresh').length,
					failedRequests: outcomes.flatMap((o) => o.statuses).filter((s) => s !== 200).length,
					sessionsLost: outcomes.filter((o) => o.accessToken === undefined).length,
					storeErrors: outcomes.flatMap((o) => o.storeErrors),
					errors: outcomes.flatMap((o) => o.errors),
					longestMs: Math.max(...outcomes.map((o) => o.durationMs)),
					promotedFrom: master.port,
					promotedTo: promoted.port,
					seconds: (Date.now() - started) / 1_000,
				});
				// After every run, so a long run cut short still leaves its figures.
				if (process.env.FAILOVER_RESULTS !== undefined) {
					writeFileSync(process.env.FAILOVER_RESULTS, `${JSON.stringify(figures, null, 2)}\n`);
				}
			}
			for (const run of figures) {
				expect(run.promotedTo).not.toBe(run.promotedFrom);
				expect(run, JSON.stringify(run)).toMatchObject({ sessionsLost: 0, failedRequests: 0 });
			}
		},
		FAILOVER_RUNS * 180_000,
	);

	it('a lock a failover lost (not yet replicated): the second holder meets invalid_grant, re-reads the store and keeps the session', async () => {
		const { key } = await expiredKey();
		const [a, b] = [cluster.client(), cluster.client()].map((client) => new RedisStore({ client }));
		const raw = cluster.client();
		const sessionA = sessionOn(server, undefined, { store: a as RedisStore, storeKey: key });
		const sessionB = sessionOn(server, undefined, { store: b as RedisStore, storeKey: key });
		try {
			await Promise.all([sessionA.ready, sessionB.ready]);
			// A's answer is held until B's token request is in: with a fixed 500 ms latency, a loaded
			// machine could have B look after A's save and adopt it, with no second request.
			server.settings.tokenHold = (nth) => (nth === 1 ? server.tokenRequestsReach(2) : undefined);
			const first = sessionA.fetch(`${server.origin}/api/lost-lock/a`);
			await server.tokenRequestsReach(1);
			expect(server.stats.tokenRequests).toBe(1);
			// What a promoted replica that never got the lock's SET looks like: no lock.
			expect(await raw.del((a as RedisStore).keysFor(key).lock)).toBe(1);
			// B takes the lock and refreshes with the refresh token A is spending.
			const second = sessionB.fetch(`${server.origin}/api/lost-lock/b`);
			expect((await first).status).toBe(200);
			expect((await second).status).toBe(200);
			expect(server.stats.tokenRequests).toBe(2);
			expect(sessionB.token?.accessToken).toBe(sessionA.token?.accessToken);
		} finally {
			sessionA.close();
			sessionB.close();
			await Promise.all([a?.close(), b?.close()]);
		}
	}, 60_000);
});
