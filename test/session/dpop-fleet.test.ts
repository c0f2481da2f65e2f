/**
 * Processes sharing a DPoP-bound token whose access token has expired, against oidc-provider with
 * DPoP and nonces: 4 on a FileStore, 8 on a RedisStore, all firing at once. One refresh, every
 * request succeeds, and every proof the API saw carries the one key stored with the token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import type { TokenStore } from '../../src/index.js';
import { FileStore } from '../../src/storage/file.js';
import { RedisStore } from '../../src/storage/redis.js';
import type { StoredRecord } from '../../src/storage/token-store.js';
import { killFixtureProcesses, startFixture } from '../helpers/child-process.js';
import { DPOP_REDIRECT_URI, dpopSession, signIn } from '../helpers/dpop-session.js';
import { type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireRedisServer } from '../helpers/requirements.js';

const redirectUri = DPOP_REDIRECT_URI;
const redisServer = requireRedisServer();
let server: AuthServer;
const dirs: string[] = [];
beforeAll(async () => {
	server = await startAuthServer({ redirectUri, dpop: true });
});
afterAll(async () => {
	await killFixtureProcesses();
	await server.close();
	await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Signs in with DPoP into `store`, then makes the stored access token expired. */
async function expiredDPoPRecord(store: TokenStore, storeKey: string): Promise<string> {
	const session = dpopSession(server, { store, storeKey });
	await signIn(session, server);
	const thumbprint = (await session.dpopThumbprint()) as string;
	session.close();
	const record = (await store.get(storeKey)) as StoredRecord;
	if (record.token === undefined) throw new Error('No token stored after the sign-in');
	await store.set(storeKey, {
		...record,
		token: { ...record.token, expires_at: Date.now() / 1000 - 1, expires_in: -1 },
	});
	return thumbprint;
}

interface Report {
	statuses: (number | string)[];
	thumbprint: string;
	storeErrors: string[];
}

async function runFleet(processes: number, requests: number, env: Record<string, string>) {
	const storeKey = env.STORE_KEY as string;
	const children = Array.from({ length: processes }, () =>
		startFixture('dpop-worker.ts', [], {
			env: {
				CLIENT_ID: server.clients.public.clientId,
				TOKEN_ENDPOINT: server.tokenEndpoint,
				API: server.api,
				REQUESTS: String(requests),
				STORE_KEY: storeKey,
				...env,
			},
		}),
	);
	await Promise.all(children.map((child) => child.message((m) => m.ready === true)));
	const tokenRequests = server.stats.tokenRequests;
	const issued = server.stats.refreshesIssued;
	server.stats.dpop?.thumbprints.clear();
	for (const child of children) child.child.stdin?.end();
	const reports = await Promise.all(
		children.map((child) => child.message<Report>((m) => 'statuses' in m)),
	);
	for (const child of children) {
		expect(await child.exited).toEqual({ code: 0, signal: null });
		expect(child.stderr()).toBe('');
	}
	return {
		reports,
		refreshes: server.stats.refreshesIssued - issued,
		tokenRequests: server.stats.tokenRequests - tokenRequests,
	};
}

function expectOneRefreshOneKey(
	outcome: Awaited<ReturnType<typeof runFleet>>,
	thumbprint: string,
	total: number,
) {
	expect(outcome.refreshes).toBe(1);
	// The one refresh is sent twice: its first proof has no nonce yet (use_dpop_nonce).
	expect(outcome.tokenRequests).toBe(2);
	const statuses = outcome.reports.flatMap((report) => report.statuses);
	expect(statuses).toHaveLength(total);
	expect(statuses.filter((status) => status !== 200)).toEqual([]);
	expect(outcome.reports.flatMap((report) => report.storeErrors)).toEqual([]);
	expect(new Set(outcome.reports.map((report) => report.thumbprint))).toEqual(
		new Set([thumbprint]),
	);
	expect(server.stats.dpop?.thumbprints).toEqual(new Set([thumbprint]));
	expect(server.stats.dpop?.refused).toEqual([]);
}

describe('DPoP fleets', () => {
	it('4 processes on a FileStore: one refresh, every request succeeds, one key', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'dpop-fleet-'));
		dirs.push(dir);
		const store = new FileStore({ dir });
		const thumbprint = await expiredDPoPRecord(store, 'fleet');
		await store.close();
		const outcome = await runFleet(4, 10, { FILE_STORE_DIR: dir, STORE_KEY: 'fleet' });
		expectOneRefreshOneKey(outcome, thumbprint, 40);
	}, 120_000);

	describe.skipIf(redisServer.missing)(redisServer.title('RedisStore'), () => {
		let redis: RedisTestServer;
		beforeAll(async () => {
			redis = await startRedisServer(redisServer.path as string);
		});
		afterAll(async () => {
			await redis?.stop();
		});

		it('8 processes on a RedisStore: one refresh, every request succeeds, one key', async () => {
			const store = new RedisStore({ url: redis.url });
			const storeKey = `dpop-fleet-${process.pid}`;
			const thumbprint = await expiredDPoPRecord(store, storeKey);
			await store.close();
			const outcome = await runFleet(8, 10, { REDIS_URL: redis.url, STORE_KEY: storeKey });
			expectOneRefreshOneKey(outcome, thumbprint, 80);
		}, 120_000);
	});
});
