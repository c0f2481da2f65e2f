// FileStore between real Node processes: test/fixtures/file-worker.ts runs in each child.
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { FileStore } from '../../src/storage/file.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import { killFixtureProcesses, startFixture } from '../helpers/child-process.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';

let server: OAuthTestServer;
const dirs: string[] = [];
const stores: FileStore[] = [];
const sessions: OAuth2Session[] = [];

beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 30 });
});
afterEach(async () => {
	server.resetStats();
	for (const session of sessions.splice(0)) session.close();
	await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
	await killFixtureProcesses();
	await server.close();
	await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A directory whose store holds an expired token with a valid refresh token. */
async function dirWithExpiredToken(): Promise<{ dir: string; store: FileStore }> {
	const dir = await mkdtemp(join(tmpdir(), 'file-store-processes-'));
	dirs.push(dir);
	const store = new FileStore({ dir });
	stores.push(store);
	const issued = server.issue();
	await store.set(
		'default',
		encodeStoredRecord(
			new Token({
				accessToken: issued.access_token,
				refreshToken: issued.refresh_token,
				expiresAt: Date.now() - 1_000,
			}),
		),
	);
	return { dir, store };
}

const worker = (
	mode: string,
	env: Record<string, string>,
	ids: { uid?: number; gid?: number } = {},
) =>
	startFixture('file-worker.ts', [mode], { env: { OAUTH_ORIGIN: server.origin, ...env }, ...ids });

const sessionOn = (store: FileStore) => {
	const session = new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: server.tokenEndpoint,
		allowedOrigins: [server.origin],
		store,
		proactiveRefresh: false,
	});
	sessions.push(session);
	return session;
};

/** Sends one request through a session and returns its status. */
const statusOf = async (session: OAuth2Session, path = '/api/me') => {
	const response = await session.fetch(`${server.origin}${path}`);
	await response.arrayBuffer();
	return response.status;
};

interface RequestsReport {
	statuses: (number | string)[];
	accessToken: string;
	storeErrors: string[];
	ms: number;
}

describe('FileStore across processes', () => {
	it('processes sharing an expired token refresh it once, and every request succeeds', async () => {
		const { dir, store } = await dirWithExpiredToken();
		const processes = 6;
		const requests = 25;
		const children = Array.from({ length: processes }, () =>
			worker('requests', { FILE_STORE_DIR: dir, REQUESTS: String(requests) }),
		);
		await Promise.all(children.map((child) => child.message((m) => m.ready === true)));
		const started = Date.now();
		// Released together: each child starts when its stdin ends.
		for (const child of children) child.child.stdin?.end();
		const reports = await Promise.all(
			children.map((child) => child.message<RequestsReport>((m) => 'statuses' in m)),
		);
		const elapsed = Date.now() - started;

		expect(server.stats.tokenRequests).toBe(1);
		const statuses = reports.flatMap((report) => report.statuses);
		expect(statuses).toHaveLength(processes * requests);
		expect(statuses.every((status) => status === 200)).toBe(true);
		expect(reports.flatMap((report) => report.storeErrors)).toEqual([]);
		const tokens = new Set(reports.map((report) => report.accessToken));
		expect(tokens.size).toBe(1);
		expect((await store.get('default'))?.token?.access_token).toBe([...tokens][0]);
		for (const child of children) {
			expect(await child.exited).toEqual({ code: 0, signal: null });
			expect(child.stderr()).toBe('');
		}
		expect(elapsed).toBeLessThan(60_000);
	}, 90_000);

	it('a lock holder killed with SIGKILL does not block: its lock is taken at once, not after the ttl', async () => {
		const { dir, store } = await dirWithExpiredToken();
		const holder = worker('hold-lock', { FILE_STORE_DIR: dir, TTL: '30000' });
		await holder.message((m) => m.locked === true);
		await expect(
			store.lock('default', async () => 'taken', { ttl: 5_000, waitTimeout: 200 }),
		).rejects.toMatchObject({ problem: 'lock-timeout' });
		holder.child.kill('SIGKILL');
		expect(await holder.exited).toMatchObject({ signal: 'SIGKILL' });
		const started = Date.now();
		expect(
			await store.lock('default', async () => 'taken', { ttl: 5_000, waitTimeout: 20_000 }),
		).toBe('taken');
		// The holder's pid is gone, so the 30 s ttl need not pass.
		expect(Date.now() - started).toBeLessThan(10_000);
		expect(await statusOf(sessionOn(store))).toBe(200);
		expect(server.stats.tokenRequests).toBe(1);
	}, 60_000);

	it('after a lock holder was killed, another process refreshes under the lock', async () => {
		const { dir, store } = await dirWithExpiredToken();
		const holder = worker('hold-lock', { FILE_STORE_DIR: dir, TTL: '2000' });
		await holder.message((m) => m.locked === true);
		holder.child.kill('SIGKILL');
		await holder.exited;
		// Another process waits for it, with a session refresh under the lock.
		const child = worker('requests', { FILE_STORE_DIR: dir, REQUESTS: '5' });
		await child.message((m) => m.ready === true);
		child.child.stdin?.end();
		const report = await child.message<RequestsReport>((m) => 'statuses' in m);
		expect(report.statuses).toEqual([200, 200, 200, 200, 200]);
		expect(server.stats.tokenRequests).toBe(1);
		expect((await store.get('default'))?.token?.access_token).toBe(report.accessToken);
	}, 60_000);

	it('a session killed in the middle of a refresh does not block the others', async () => {
		const { dir, store } = await dirWithExpiredToken();
		const hanging = worker('hang-in-refresh', { FILE_STORE_DIR: dir });
		await hanging.message((m) => m.refreshing === true);
		hanging.child.kill('SIGKILL');
		await hanging.exited;
		const started = Date.now();
		const session = sessionOn(store);
		const errors: unknown[] = [];
		session.on('storeError', (event) => errors.push(event.error));
		expect(await statusOf(session)).toBe(200);
		// Its lock's ttl is the refresh timeout (60 s) plus a margin: far from waited for.
		expect(Date.now() - started).toBeLessThan(20_000);
		expect(errors).toEqual([]);
		expect(server.stats.tokenRequests).toBe(1);
	}, 60_000);

	it('waiters that all find a dead process’s lock take it over one at a time', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'file-store-processes-'));
		dirs.push(dir);
		// A lock left by a process that is gone, with an hour left on its ttl.
		const dead = worker('hold-lock', { FILE_STORE_DIR: dir, TTL: '3600000' });
		await dead.message((m) => m.locked === true);
		dead.child.kill('SIGKILL');
		await dead.exited;
		const counter = join(dir, 'counter');
		await writeFile(counter, '0');
		const processes = 5;
		const rounds = 8;
		const children = Array.from({ length: processes }, () =>
			worker('contend', {
				FILE_STORE_DIR: dir,
				ROUNDS: String(rounds),
				COUNTER: counter,
				INSIDE: join(dir, 'inside'),
			}),
		);
		await Promise.all(children.map((child) => child.message((m) => m.ready === true)));
		for (const child of children) child.child.stdin?.end();
		const reports = await Promise.all(
			children.map((child) => child.message<{ overlaps: number }>((m) => 'overlaps' in m)),
		);
		expect(reports.map((report) => report.overlaps)).toEqual(Array(processes).fill(0));
		expect(Number(await readFile(counter, 'utf8'))).toBe(processes * rounds);
	}, 90_000);

	it('a write in another process reaches listeners, and a session adopts it without refreshing', async () => {
		const { dir, store } = await dirWithExpiredToken();
		const session = sessionOn(store);
		await session.ready;
		const heard: (StoredRecord | undefined)[] = [];
		store.subscribe('default', (r) => heard.push(r));
		const adopted: string[] = [];
		session.on('tokenUpdated', (event) => adopted.push(event.source));
		const fresh = server.issue();
		const writer = worker('write', { FILE_STORE_DIR: dir, TOKEN: JSON.stringify(fresh) });
		await writer.message((m) => m.written === true);
		// It subscribed and never closed its store: its watchers must not keep it alive.
		expect(await writer.exited).toEqual({ code: 0, signal: null });
		await expect
			.poll(() => heard.map((r) => r?.token?.access_token), { timeout: 10_000 })
			.toEqual([fresh.access_token]);
		await expect
			.poll(() => session.token?.accessToken, { timeout: 10_000 })
			.toBe(fresh.access_token);
		expect(adopted).toEqual(['store']);
		expect(await statusOf(session)).toBe(200);
		expect(server.stats.tokenRequests).toBe(0);
	}, 60_000);

	it('a directory the process may not write to gives StorageError unavailable', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'file-store-processes-'));
		dirs.push(dir);
		// Root writes anywhere: then the writer runs as nobody, in a read-only directory of its own
		// (one of another user's would be refused as insecure before any write).
		const asRoot = process.getuid?.() === 0;
		if (asRoot) await chown(dir, 65534, 65534);
		await chmod(dir, 0o500);
		const child = worker(
			'try-write',
			{ FILE_STORE_DIR: dir, HOME: tmpdir() },
			asRoot ? { uid: 65534, gid: 65534 } : {},
		);
		const report = await child.message<{ error?: Record<string, unknown> }>(() => true);
		await chmod(dir, 0o700);
		expect(report.error).toMatchObject({
			name: 'StorageError',
			problem: 'unavailable',
			causeCode: 'EACCES',
		});
		expect(String(report.error?.message)).toContain('"default"');
	}, 60_000);
});
