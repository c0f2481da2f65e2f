import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { RedisStore } from '../../src/storage/redis.js';
import type { WorkerResult } from '../fixtures/redis-worker.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { expiredRecord } from '../helpers/redis-fleet.js';
import { command, type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireBinary } from '../helpers/requirements.js';
import { sessionOn } from '../helpers/session.js';

const redisServer = requireBinary('redis-server', 'apt-get install redis-server', [
	'/usr/bin/redis-server',
]);

const WORKER = fileURLToPath(new URL('../fixtures/redis-worker.ts', import.meta.url));
const PROCESSES = 8;
const REQUESTS = 25;

/** A worker process, which writes one JSON message a line. */
interface Worker {
	child: ChildProcess;
	/** Resolves with the first message that has the property `name`. */
	message<T = true>(name: string): Promise<T>;
	stderr(): string;
}

describe.skipIf(redisServer.missing)(redisServer.title('RedisStore shared by sessions'), () => {
	let redis: RedisTestServer;
	let server: OAuthTestServer;
	const workers: Worker[] = [];
	const stores: RedisStore[] = [];
	const sessions: OAuth2Session[] = [];
	let keys = 0;

	const storeFor = (url = redis.url, commandTimeout?: number) => {
		const store = new RedisStore({
			url,
			...(commandTimeout === undefined ? {} : { commandTimeout }),
		});
		stores.push(store);
		return store;
	};
	const session = (options: Partial<OAuth2SessionOptions>) => {
		const made = sessionOn(server, undefined, options);
		sessions.push(made);
		return made;
	};
	/** A fresh store key holding a token whose access token has expired. */
	const expiredRecordUnder = async (store: RedisStore) => {
		const key = `shared-${++keys}`;
		await store.set(key, expiredRecord(server));
		return key;
	};
	const startWorker = (mode: 'session' | 'hold', env: Record<string, string>): Worker => {
		const child = spawn(process.execPath, ['--import', 'tsx', WORKER, mode], {
			env: { ...process.env, REDIS_URL: redis.url, ...env },
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		const waiting: { name: string; resolve: (value: never) => void }[] = [];
		child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
			out += chunk;
			const lines = out.split('\n');
			out = lines.pop() ?? '';
			for (const line of lines) {
				let message: Record<string, never>;
				try {
					message = JSON.parse(line);
				} catch {
					continue;
				}
				for (const w of waiting.filter(({ name }) => name in message)) {
					waiting.splice(waiting.indexOf(w), 1);
					w.resolve(message[w.name] as never);
				}
			}
		});
		child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
			err += chunk;
		});
		const worker: Worker = {
			child,
			message: <T>(name: string) =>
				new Promise<T>((resolve, reject) => {
					waiting.push({ name, resolve: resolve as (value: never) => void });
					child.once('close', (code, signal) =>
						reject(new Error(`worker exited (${code ?? signal}) before "${name}":\n${err}`)),
					);
				}),
			stderr: () => err,
		};
		workers.push(worker);
		return worker;
	};

	beforeAll(async () => {
		[redis, server] = await Promise.all([
			startRedisServer(redisServer.path as string),
			startOAuthServer({ tokenLatency: 30 }),
		]);
	});
	afterEach(async () => {
		for (const made of sessions.splice(0)) made.close();
		for (const { child } of workers.splice(0)) {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
		}
		await Promise.all(stores.splice(0).map((store) => store.close()));
		server.resetStats();
	});
	afterAll(async () => {
		await Promise.all([redis?.stop(), server?.close()]);
	});

	it(`${PROCESSES} processes × ${REQUESTS} requests on an expired shared token: exactly 1 token request, all succeed`, async () => {
		const key = await expiredRecordUnder(storeFor());
		const env = {
			STORE_KEY: key,
			TOKEN_ENDPOINT: server.tokenEndpoint,
			API_ORIGIN: server.origin,
			REQUESTS: String(REQUESTS),
		};
		const started = Array.from({ length: PROCESSES }, () => startWorker('session', env));
		await Promise.all(started.map((w) => w.message('ready')));
		const results = started.map((w) => w.message<WorkerResult>('result'));
		// Released together: every process has read the expired token and fires at once.
		for (const { child } of started) child.stdin?.write('go\n');
		const outcomes = await Promise.all(results);

		expect(server.stats.tokenRequests).toBe(1);
		for (const outcome of outcomes) {
			expect(outcome.errors).toEqual([]);
			expect(outcome.storeErrors).toEqual([]);
			expect(outcome.statuses).toEqual(Array(REQUESTS).fill(200));
		}
		expect(server.stats.api401).toBe(0);
		expect(new Set(outcomes.map((o) => o.accessToken)).size).toBe(1);
		// One process refreshed; the others took its token from the store or its notification.
		expect(outcomes.flatMap((o) => o.sources).filter((s) => s === 'refresh')).toHaveLength(1);
		expect(outcomes.filter((o) => o.sources.includes('store'))).toHaveLength(PROCESSES - 1);
		for (const w of started) expect(w.stderr()).toBe('');
	}, 90_000);

	it('Redis slower than commandTimeout on a live connection is waited for: exactly 1 token request', async () => {
		const key = await expiredRecordUnder(storeFor());
		// Connected first, so the load of the machine cannot fail the sessions' first reads.
		const connected = Array.from({ length: 4 }, () => storeFor(redis.url, 500));
		await Promise.all(connected.map((store) => store.get(key)));
		const made = connected.map((store) => session({ store, storeKey: key }));
		await Promise.all(made.map((s) => s.ready));
		for (const s of made) expect(s.token).toBeDefined();
		const storeErrors: string[] = [];
		for (const s of made) s.on('storeError', (event) => storeErrors.push(event.operation));
		// A script that keeps Redis busy for 1.5 s: every command of the sessions waits behind it.
		const busy = command(
			redis.port,
			[
				'EVAL',
				"local s = redis.call('TIME') while true do local n = redis.call('TIME') if (n[1] - s[1]) * 1000000 + n[2] - s[2] > 1500000 then return 1 end end",
				'0',
			],
			/:1\r\n/,
		);
		await new Promise((r) => setTimeout(r, 100));
		const statuses = await Promise.all(
			made.flatMap((s, i) =>
				Array.from({ length: 10 }, (_, j) =>
					s.fetch(`${server.origin}/api/slow/${i}/${j}`).then((r) => r.status),
				),
			),
		);
		await busy;
		expect(statuses).toEqual(Array(40).fill(200));
		expect(server.stats.tokenRequests).toBe(1);
		expect(storeErrors).toEqual([]);
		expect(new Set(made.map((s) => s.token?.accessToken)).size).toBe(1);
	}, 30_000);

	it('a lock holder killed with SIGKILL: the others go on after its ttl, and one refresh works', async () => {
		const setup = storeFor();
		const key = await expiredRecordUnder(setup);
		const ttl = 3_000;
		const holder = startWorker('hold', { STORE_KEY: key, LOCK_TTL: String(ttl) });
		await holder.message('locked');
		holder.child.kill('SIGKILL');
		await once(holder.child, 'exit');
		// The dead holder's lock is still there; no session may refresh before it expires.
		const { lock } = setup.keysFor(key);
		const since = Date.now();
		const left = Number((await command(redis.port, ['PTTL', lock], /:(-?\d+)\r\n/))[1]);
		expect(left).toBeGreaterThan(0);

		const a = session({ store: storeFor(), storeKey: key });
		const b = session({ store: storeFor(), storeKey: key });
		const statuses = await Promise.all(
			[a, b].flatMap((s) =>
				Array.from({ length: 5 }, (_, i) =>
					s.fetch(`${server.origin}/api/after-kill/${i}`).then((r) => r.status),
				),
			),
		);
		expect(statuses).toEqual(Array(10).fill(200));
		// Two milliseconds of leeway for rounding between the two clocks.
		expect(Date.now() - since).toBeGreaterThanOrEqual(left - 2);
		expect((await command(redis.port, ['EXISTS', lock], /:(\d+)\r\n/))[1]).toBe('0');
		expect(server.stats.tokenRequests).toBe(1);
		expect(a.token?.accessToken).toBe(b.token?.accessToken);
		expect((await setup.get(key))?.token?.access_token).toBe(a.token?.accessToken);
	}, 30_000);

	it('Redis stopped mid-test: typed StorageErrors through storeError, requests go on with the token in memory', async () => {
		const own = await startRedisServer(redisServer.path as string);
		try {
			const store = storeFor(own.url, 1_000);
			const first = server.issue();
			const s = session({ store, token: first, storeKey: 'down' });
			await s.ready;
			expect((await store.get('down'))?.token?.access_token).toBe(first.access_token);
			const errors: { error: StorageError; operation: string }[] = [];
			s.on('storeError', (event) => errors.push(event));

			await own.stop();
			expect(own.running).toBe(false);
			// The server revokes the token: the 401s need a refresh, which can neither lock nor save.
			server.revokeAccessTokens();
			const statuses = await Promise.all(
				Array.from({ length: 5 }, (_, i) =>
					s.fetch(`${server.origin}/api/down/${i}`).then((r) => r.status),
				),
			);

			expect(statuses).toEqual(Array(5).fill(200));
			expect(server.stats.tokenRequests).toBe(1);
			expect(s.token?.accessToken).not.toBe(first.access_token);
			expect(errors.map((e) => e.operation)).toEqual(['lock', 'set']);
			for (const { error } of errors) {
				expect(error).toBeInstanceOf(StorageError);
				expect(error).toMatchObject({ problem: 'unavailable', key: 'down' });
				expect(error.cause).toBeInstanceOf(Error);
			}
			const started = Date.now();
			await expect(store.get('down')).rejects.toMatchObject({
				name: 'StorageError',
				problem: 'unavailable',
			});
			expect(Date.now() - started).toBeLessThan(5_000);
		} finally {
			await own.stop();
		}
	}, 30_000);
});
