// Processes sharing a RedisStore (a real redis-server), killed with SIGKILL at random moments
// across rotating refreshes: the scenario of kill.test.ts (test/helpers/kill-scenario.ts) on the
// other store that processes share. Figures of the long run: bench/results/kill-redis.json.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { RedisStore } from '../../src/storage/redis.js';
import { killRun, runKillScenario } from '../helpers/kill-scenario.js';
import { type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireBinary } from '../helpers/requirements.js';

const redisServer = requireBinary('redis-server', 'apt-get install redis-server', [
	'/usr/bin/redis-server',
]);

describe.skipIf(redisServer.missing)(redisServer.title('SIGKILL, RedisStore'), () => {
	let redis: RedisTestServer;
	beforeAll(async () => {
		redis = await startRedisServer(redisServer.path as string);
	});
	afterAll(() => redis?.stop());

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
});
