import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { killFixtureProcesses, startFixture } from '../helpers/child-process.js';
import { expiredRecord, fleetRun, oneRefresh, runFleet } from '../helpers/fleet.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import {
	type PostgresTestServer,
	requirePostgres,
	startPostgresServer,
} from '../helpers/postgres-server.js';
import { sessionOn } from '../helpers/session.js';

const postgres = requirePostgres();

const PROCESSES = 8;
const REQUESTS = 20;
const TABLE = 'fleet_tokens';

describe.skipIf(postgres.missing)(postgres.title('PostgresStore shared by sessions'), () => {
	let database: PostgresTestServer;
	let server: OAuthTestServer;
	let admin: pg.Pool;
	const stores: PostgresStore[] = [];
	const sessions: OAuth2Session[] = [];
	let keys = 0;

	const storeFor = () => {
		const store = new PostgresStore({ connectionString: database.url, table: TABLE });
		stores.push(store);
		return store;
	};
	/** A fresh store key holding a token whose access token has expired. */
	const expiredRecordUnder = async (store: PostgresStore) => {
		const key = `shared-${++keys}`;
		await store.set(key, expiredRecord(server));
		return key;
	};
	const holdWorker = (env: Record<string, string>) =>
		startFixture('redis-worker.ts', ['hold'], {
			env: { DATABASE_URL: database.url, TABLE, ...env },
		});
	const advisoryLocks = async () =>
		(await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'"))
			.rows[0].n as number;

	beforeAll(async () => {
		[database, server] = await Promise.all([
			startPostgresServer(postgres.path as string),
			startOAuthServer({ tokenLatency: 30 }),
		]);
		admin = new pg.Pool({ connectionString: database.url });
		admin.on('error', () => {});
		await storeFor().migrate();
	}, 60_000);
	afterEach(async () => {
		for (const made of sessions.splice(0)) made.close();
		await killFixtureProcesses();
		await Promise.all(stores.splice(0).map((store) => store.close()));
		server.resetStats();
	});
	afterAll(async () => {
		await admin?.end();
		await Promise.all([database?.stop(), server?.close()]);
	});

	it(`${PROCESSES} processes × ${REQUESTS} requests on an expired shared token: exactly 1 token request, all succeed`, async () => {
		const key = await expiredRecordUnder(storeFor());
		const env = {
			STORE_KEY: key,
			TOKEN_ENDPOINT: server.tokenEndpoint,
			API_ORIGIN: server.origin,
			REQUESTS: String(REQUESTS),
		};
		const fleet = await runFleet(PROCESSES, { DATABASE_URL: database.url, TABLE, ...env });

		expect(fleetRun(fleet, server)).toEqual(oneRefresh(PROCESSES * REQUESTS));
		expect(server.stats.api401).toBe(0);
		// The others took its token from the store or its notification.
		expect(fleet.outcomes.filter((o) => o.sources.includes('store'))).toHaveLength(PROCESSES - 1);
	}, 90_000);

	it('a lock holder killed with SIGKILL: its lock goes with its connection, and one refresh works', async () => {
		const setup = storeFor();
		const key = await expiredRecordUnder(setup);
		// A ttl longer than this test's timeout: only the connection's end can free the lock.
		const holder = holdWorker({ STORE_KEY: key, LOCK_TTL: String(10 * 60_000) });
		await holder.message((m: { locked?: true }) => m.locked === true);
		expect(await advisoryLocks()).toBe(1);
		holder.child.kill('SIGKILL');
		await holder.exited;
		await expect.poll(advisoryLocks, { timeout: 10_000 }).toBe(0);

		const a = sessionOn(server, undefined, { store: storeFor(), storeKey: key });
		const b = sessionOn(server, undefined, { store: storeFor(), storeKey: key });
		sessions.push(a, b);
		const statuses = await Promise.all(
			[a, b].flatMap((s) =>
				Array.from({ length: 5 }, (_, i) =>
					s.fetch(`${server.origin}/api/after-kill/${i}`).then((r) => r.status),
				),
			),
		);
		expect(statuses).toEqual(Array(10).fill(200));
		expect(server.stats.tokenRequests).toBe(1);
		expect(a.token?.accessToken).toBe(b.token?.accessToken);
		expect((await setup.get(key))?.token?.access_token).toBe(a.token?.accessToken);
	}, 30_000);
});
