// OAuth2Client in several real Node processes sharing a store, as the servers of one web app do:
// test/fixtures/client-worker.ts runs in each.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toToken } from '../../src/protocol/token-record.js';
import { FileStore } from '../../src/storage/file.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { encodeStoredRecord, type TokenStore } from '../../src/storage/token-store.js';
import type { ClientWorkerResult } from '../fixtures/client-worker.js';
import { killFixtureProcesses, startFixture } from '../helpers/child-process.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import {
	type PostgresTestServer,
	requirePostgres,
	startPostgresServer,
} from '../helpers/postgres-server.js';

const PROCESSES = 4;
const USERS = 20;
const REQUESTS = 2;
const postgres = requirePostgres();

let server: OAuthTestServer;

beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 30 });
});
afterEach(async () => {
	await killFixtureProcesses();
	server.resetStats();
});
afterAll(() => server.close());

/** Signs in USERS users whose tokens have all expired; returns their keys. */
async function expiredUsers(store: TokenStore, prefix: string): Promise<string[]> {
	const keys = Array.from({ length: USERS }, (_, i) => `${prefix}-user-${i}`);
	for (const key of keys) {
		await store.set(key, encodeStoredRecord(toToken({ ...server.issue(), expires_in: -60 })));
	}
	server.resetStats();
	return keys;
}

/** Starts PROCESSES workers on the store, releases them together and returns what each saw. */
async function runWorkers(keys: string[], env: Record<string, string>) {
	const workers = Array.from({ length: PROCESSES }, () =>
		startFixture('client-worker.ts', [], {
			env: {
				TOKEN_ENDPOINT: server.tokenEndpoint,
				API_ORIGIN: server.origin,
				USERS: keys.join(','),
				REQUESTS: String(REQUESTS),
				...env,
			},
		}),
	);
	await Promise.all(workers.map((w) => w.message((m: { ready?: true }) => m.ready === true)));
	const results = workers.map((w) =>
		w.message((m: { result?: ClientWorkerResult }) => m.result !== undefined),
	);
	for (const { child } of workers) child.stdin?.write('go\n');
	const outcomes = (await Promise.all(results)).map((m) => m.result as ClientWorkerResult);
	for (const w of workers) expect(w.stderr()).toBe('');
	return outcomes;
}

function expectOneRefreshPerUser(outcomes: ClientWorkerResult[]): void {
	for (const outcome of outcomes) {
		expect(outcome.storeErrors).toEqual([]);
		expect(outcome.errors).toEqual([]);
		expect(outcome.statuses).toEqual(Array(USERS * REQUESTS).fill(200));
	}
	expect(server.stats.tokenRequests).toBe(USERS);
	// Each user refreshed in one process; the others took the token from the store.
	const refreshed = outcomes.reduce((sum, o) => sum + (o.sources.refresh ?? 0), 0);
	const adopted = outcomes.reduce((sum, o) => sum + (o.sources.store ?? 0), 0);
	expect(refreshed).toBe(USERS);
	expect(adopted).toBeGreaterThanOrEqual(USERS * (PROCESSES - 1));
	expect(server.stats.api401).toBe(0);
}

describe('OAuth2Client in several processes', () => {
	it(`${PROCESSES} processes on one FileStore, ${USERS} users with expired tokens, ${REQUESTS} requests each: one refresh per user`, async () => {
		const dir = await mkdtemp(join(tmpdir(), 'oauth2-client-'));
		try {
			const store = new FileStore({ dir });
			const keys = await expiredUsers(store, 'file');
			await store.close();
			expectOneRefreshPerUser(await runWorkers(keys, { FILE_STORE_DIR: dir }));
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	}, 90_000);

	describe.skipIf(postgres.missing)(postgres.title('on PostgreSQL'), () => {
		let database: PostgresTestServer;
		const TABLE = 'client_tokens';

		beforeAll(async () => {
			database = await startPostgresServer(postgres.path as string);
		}, 60_000);
		afterAll(() => database?.stop());

		it(`${PROCESSES} processes on one PostgresStore, ${USERS} users with expired tokens: one refresh per user`, async () => {
			const store = new PostgresStore({ connectionString: database.url, table: TABLE });
			await store.migrate();
			const keys = await expiredUsers(store, 'pg');
			await store.close();
			expectOneRefreshPerUser(await runWorkers(keys, { DATABASE_URL: database.url, TABLE }));
		}, 90_000);
	});
});
