// Processes sharing a RedisStore (a real redis-server), killed with SIGKILL at random moments
// across rotating refreshes: the scenario of kill.test.ts (test/helpers/kill-scenario.ts) on the
// other store that processes share. Figures of the long run: bench/results/kill-redis.json.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/storage/redis.js';
import { killFixtureProcesses, startFixture } from '../helpers/child-process.js';
import { killRun, recordOf, runKillScenario } from '../helpers/kill-scenario.js';
import { startOAuthServer } from '../helpers/oauth-server.js';
import { type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireRedisServer } from '../helpers/requirements.js';
import { sessionOn } from '../helpers/session.js';

const redisServer = requireRedisServer();

describe.skipIf(redisServer.missing)(redisServer.title('SIGKILL, RedisStore'), () => {
	let redis: RedisTestServer;
	beforeAll(async () => {
		redis = await startRedisServer(redisServer.path as string);
	});
	afterAll(async () => {
		await killFixtureProcesses();
		await redis?.stop();
	});

	it(
		`${killRun.processes} processes on a RedisStore, ${killRun.refreshes} rotating refreshes of 1-s tokens, SIGKILL at random: a session is lost only by a kill inside the save window`,
		async () => {
			await runKillScenario({
				store: 'redis',
				open: () => new RedisStore({ url: redis.url }),
				workerEnv: { REDIS_URL: redis.url },
				results: fileURLToPath(new URL('../../bench/results/kill-redis.json', import.meta.url)),
			});
		},
		killRun.timeout,
	);

	// The refresh's timeout once started before the lock was waited for, and a session's lock
	// lives refreshTimeout + 10 s: whoever waited out a killed holder's lock got it with its
	// timeout already over, and a request whose token had expired failed though the grant was fine.
	it('a request waiting out the lock of a session killed mid-refresh is served once the lock expires', async () => {
		const server = await startOAuthServer();
		const store = new RedisStore({ url: redis.url });
		try {
			const issued = server.issue();
			const key = 'killed-holder';
			await store.set(key, recordOf(issued, Date.now() - 1_000));
			const refreshTimeout = 1_000;
			// What a session with this refreshTimeout leaves behind when killed holding the lock.
			const holder = startFixture('redis-worker.ts', ['hold'], {
				env: { REDIS_URL: redis.url, STORE_KEY: key, LOCK_TTL: String(refreshTimeout + 10_000) },
			});
			await holder.message((m) => m.locked === true);
			holder.child.kill('SIGKILL');
			await holder.exited;

			const session = sessionOn(server, undefined, { store, storeKey: key, refreshTimeout });
			const response = await session.fetch(`${server.origin}/api/after-wait`);
			expect(response.status).toBe(200);
			expect(server.stats.refreshRequests).toBe(1);
			session.close();
		} finally {
			await store.close();
			await server.close();
		}
	}, 40_000);
});
