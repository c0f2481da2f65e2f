import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, StorageError } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import {
	type PostgresTestServer,
	requirePostgres,
	startPostgresServer,
} from '../helpers/postgres-server.js';
import { describeStoreContract } from './contract.js';

const postgres = requirePostgres();

const record = (accessToken: string, extra = ''): StoredRecord =>
	encodeStoredRecord(
		new Token({
			accessToken: `${accessToken}${extra}`,
			refreshToken: `r-${accessToken}`,
			expiresAt: Date.now() + 60_000,
		}),
	);

/** Everything an error shows: message, fields, causes. */
const shown = (error: unknown) => `${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`;

describe('PostgresStore options', () => {
	const url = 'postgres://app:hunter2-secret@127.0.0.1:1/app';

	it('refuses options without exactly one of pool and connectionString, or with bad values', () => {
		const pool = new pg.Pool({ connectionString: url });
		expect(() => new PostgresStore({})).toThrow(InvalidOptionsError);
		expect(() => new PostgresStore({ pool, connectionString: url })).toThrow(InvalidOptionsError);
		expect(() => new PostgresStore({ pool: {} as pg.Pool })).toThrow(InvalidOptionsError);
		expect(() => new PostgresStore({ connectionString: 'not a url' })).toThrow(InvalidOptionsError);
		expect(() => new PostgresStore({ connectionString: url, commandTimeout: 0 })).toThrow(
			InvalidOptionsError,
		);
		for (const table of ['', 'a b', 'x;drop', '"t"', 'a.b.c', '1t', 'x'.repeat(64)]) {
			expect(() => new PostgresStore({ connectionString: url, table }), table).toThrow(
				InvalidOptionsError,
			);
		}
		expect(
			() => new PostgresStore({ connectionString: url, table: 'auth.tokens_2' }),
		).not.toThrow();
	});

	it('never repeats the connection string, which may hold a password', () => {
		const error = (() => {
			try {
				new PostgresStore({ connectionString: 'mysql://app:hunter2-secret@db/app' });
			} catch (e) {
				return e;
			}
		})();
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect(shown(error)).not.toMatch(/hunter2/);
		expect(inspect(new PostgresStore({ connectionString: url }), { depth: 10 })).not.toMatch(
			/hunter2/,
		);
	});

	it('a server that does not answer is unavailable, quickly, and the password stays out', async () => {
		const store = new PostgresStore({ connectionString: url, commandTimeout: 2_000 });
		for (const step of [() => store.get('k'), () => store.set('k', record('one'))]) {
			const error = await step().catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StorageError);
			expect(error).toMatchObject({ problem: 'unavailable', key: 'k' });
			expect((error as Error).cause).toBeInstanceOf(Error);
			expect(shown(error)).not.toMatch(/hunter2/);
		}
		await store.close();
		await expect(store.get('k')).rejects.toMatchObject({ problem: 'unavailable' });
	});
});

describe.skipIf(postgres.missing)(postgres.title('PostgresStore on PostgreSQL'), () => {
	let server: PostgresTestServer;
	let admin: pg.Pool;
	const stores: PostgresStore[] = [];
	let tables = 0;

	/** A pool as a user would make one, with the 'error' listener pg asks for. */
	const pool = (max?: number) => {
		const made = new pg.Pool({
			connectionString: server.url,
			...(max === undefined ? {} : { max }),
		});
		made.on('error', () => {});
		return made;
	};
	const storeOn = (table: string, options: { pool?: pg.Pool; commandTimeout?: number } = {}) => {
		const store = new PostgresStore({
			...(options.pool === undefined ? { connectionString: server.url } : { pool: options.pool }),
			table,
			...(options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout }),
		});
		stores.push(store);
		return store;
	};
	/** Two stores on pools of their own, as two processes would have, sharing a fresh table. */
	const pair = async () => {
		const table = `tokens_${++tables}`;
		const store = storeOn(table);
		await store.migrate();
		return { store, peer: storeOn(table), table };
	};
	/** Resolves once `store` hears writes made through `peer` (its LISTEN is in place). */
	const listening = async (store: PostgresStore, peer: PostgresStore) => {
		let heard = false;
		const stop = store.subscribe('warm-up', () => {
			heard = true;
		});
		await expect
			.poll(
				async () => {
					await peer.set('warm-up', record('warm'));
					return heard;
				},
				{ timeout: 10_000 },
			)
			.toBe(true);
		stop();
	};

	beforeAll(async () => {
		server = await startPostgresServer(postgres.path as string);
		admin = pool();
	}, 60_000);
	afterEach(async () => {
		await Promise.all(stores.splice(0).map((store) => store.close()));
	});
	afterAll(async () => {
		await admin?.end();
		await server?.stop();
	});

	describeStoreContract('PostgresStore', {
		async create() {
			const { store, peer } = await pair();
			await listening(store, peer);
			return { store, peer, cleanup: async () => {} };
		},
	});

	it('keeps one row per key, the JSON of the record', async () => {
		const { store, table } = await pair();
		const second = record('two');
		await store.set('k', record('one'));
		await store.set('k', second);
		const { rows } = await admin.query(`SELECT key, record FROM ${table}`);
		expect(rows).toEqual([{ key: 'k', record: JSON.parse(JSON.stringify(second)) }]);
		expect(rows[0].record.token.access_token).toBe('two');
	});

	it('migrate() is safe to run again, from several stores at once', async () => {
		const table = `tokens_${++tables}`;
		const many = Array.from({ length: 4 }, () => storeOn(table));
		await Promise.all(many.map((store) => store.migrate()));
		await many[0]?.migrate();
		await many[1]?.set('k', record('one'));
		expect((await many[2]?.get('k'))?.token?.access_token).toBe('one');
	});

	it('a missing table is unavailable, and the message says to migrate', async () => {
		const store = storeOn('never_migrated');
		await expect(store.get('k')).rejects.toMatchObject({
			name: 'StorageError',
			problem: 'unavailable',
			message: expect.stringContaining('migrate()'),
		});
	});

	it('a wrong password is unavailable, and the password appears nowhere', async () => {
		const store = new PostgresStore({
			connectionString: server.url.replace(server.password, 'wrong-secret-pw'),
			table: 'tokens_x',
		});
		stores.push(store);
		const error = await store.get('k').catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'StorageError', problem: 'unavailable' });
		expect(shown(error)).not.toMatch(/wrong-secret-pw|pg-secret/);
	});

	it('moves a corrupt row aside, names it in a typed error, and never loses it', async () => {
		const { store, peer, table } = await pair();
		const bad = [
			'"at-secret-1 as a string"',
			JSON.stringify({ version: 1, token: { refresh_token: 'rt-secret-2' }, writtenAt: 1 }),
			JSON.stringify([{ access_token: 'at-secret-3' }]),
		];
		for (const bytes of bad) {
			await admin.query(
				`INSERT INTO ${table} (key, record) VALUES ('k', $1::jsonb) ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record`,
				[bytes],
			);
			const error = await store.get('k').catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StorageError);
			expect(error).toMatchObject({ problem: 'corrupt', key: 'k' });
			const aside = (error as Error).message.match(/moved to the key "([^"]+)"/)?.[1] ?? '';
			expect(aside).toMatch(/^k:corrupt:\d+$/);
			const { rows } = await admin.query(`SELECT record::text AS r FROM ${table} WHERE key = $1`, [
				aside,
			]);
			expect(JSON.parse(rows[0].r)).toEqual(JSON.parse(bytes));
			await admin.query(`DELETE FROM ${table} WHERE key = $1`, [aside]);
			expect(shown(error)).not.toMatch(/secret/);
			expect(await peer.get('k')).toBeUndefined();
		}
	});

	it('leaves a record of a newer version in place', async () => {
		const { store, table } = await pair();
		const newer = JSON.stringify({ version: 3, token: {}, writtenAt: 1 });
		await admin.query(`INSERT INTO ${table} (key, record) VALUES ('k', $1::jsonb)`, [newer]);
		await expect(store.get('k')).rejects.toMatchObject({
			name: 'StorageError',
			problem: 'unsupported-version',
			key: 'k',
		});
		const { rows } = await admin.query(`SELECT record FROM ${table} WHERE key = 'k'`);
		expect(rows[0].record).toEqual(JSON.parse(newer));
	});

	it('the lock is a transaction-scoped advisory lock, gone with its connection', async () => {
		const { store, peer } = await pair();
		let holder: { pid: number; state: string; mode: string } | undefined;
		let done!: () => void;
		const held = store.lock(
			'k',
			async () => {
				const { rows } = await admin.query(
					`SELECT a.pid, a.state, l.mode FROM pg_locks l JOIN pg_stat_activity a USING (pid)
					 WHERE l.locktype = 'advisory' AND l.granted`,
				);
				holder = rows[0];
				await new Promise<void>((resolve) => (done = resolve));
				return 'held';
			},
			{ ttl: 60_000, waitTimeout: 1_000 },
		);
		await expect.poll(() => holder, { timeout: 5_000 }).toBeDefined();
		expect(holder?.state).toBe('idle in transaction');
		expect(holder?.mode).toBe('ExclusiveLock');
		// Its connection ends (as when its process dies): the peer gets the lock at once.
		await admin.query('SELECT pg_terminate_backend($1)', [holder?.pid]);
		expect(await peer.lock('k', async () => 'next', { ttl: 5_000, waitTimeout: 5_000 })).toBe(
			'next',
		);
		done();
		expect(await held).toBe('held');
		const { rows } = await admin.query(
			"SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'",
		);
		expect(rows[0].n).toBe(0);
	});

	it('callers of one store wait for a key in memory, holding no connection while they wait', async () => {
		const table = `tokens_${++tables}`;
		const small = pool(2);
		try {
			const store = storeOn(table, { pool: small });
			await store.migrate();
			// Ten holders at once on a pool of two: each holder still gets a connection to write with.
			const results = await Promise.all(
				Array.from({ length: 10 }, (_, i) =>
					store.lock(
						'k',
						async () => {
							await store.set('k', record(`t${i}`));
							return (await store.get('k'))?.token?.access_token;
						},
						{ ttl: 5_000, waitTimeout: 20_000 },
					),
				),
			);
			expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
		} finally {
			await Promise.all(stores.splice(0).map((store) => store.close()));
			await small.end();
		}
	});

	it('a connection the pool hands out after the timeout goes back to it', async () => {
		const table = `tokens_${++tables}`;
		const single = pool(1);
		try {
			// The short timeout is only for the wait on the held pool, which no speed can end early;
			// the real queries (the migration, the next lock) go through a store with the default one,
			// which a loaded machine's slow CREATE TABLE or BEGIN cannot run out.
			const store = storeOn(table, { pool: single, commandTimeout: 300 });
			const patient = storeOn(table, { pool: single });
			await patient.migrate();
			const busy = await single.connect();
			await expect(
				store.lock('k', async () => 'late', { ttl: 5_000, waitTimeout: 5_000 }),
			).rejects.toMatchObject({ name: 'StorageError', problem: 'unavailable', key: 'k' });
			busy.release();
			// Had the late connection been kept, the pool's only one would be gone for good.
			expect(await patient.lock('k', async () => 'next', { ttl: 5_000, waitTimeout: 5_000 })).toBe(
				'next',
			);
		} finally {
			await Promise.all(stores.splice(0).map((store) => store.close()));
			await single.end();
		}
	});

	it('a server stopped mid-test: unavailable within commandTimeout, the password nowhere', async () => {
		const own = await startPostgresServer(postgres.path as string);
		try {
			const store = new PostgresStore({ connectionString: own.url, commandTimeout: 1_000 });
			stores.push(store);
			await store.migrate();
			await store.set('k', record('one'));
			await own.stop();
			for (const step of [
				() => store.get('k'),
				() => store.set('k', record('two')),
				() => store.lock('k', async () => 'never', { ttl: 1_000, waitTimeout: 1_000 }),
			]) {
				const error = await step().catch((e: unknown) => e);
				expect(error).toBeInstanceOf(StorageError);
				expect(error).toMatchObject({ problem: 'unavailable', key: 'k' });
				expect(shown(error)).not.toContain(own.password);
			}
		} finally {
			await own.stop();
		}
	}, 60_000);

	it('a record too big for a notification is announced by key, and listeners read it', async () => {
		const { store, peer } = await pair();
		await listening(store, peer);
		const seen: (string | undefined)[] = [];
		store.subscribe('k', (r) => seen.push(r?.token?.access_token));
		const big = record('big', 'x'.repeat(10_000));
		await peer.set('k', big);
		await peer.set('k', record('small'));
		await expect.poll(() => seen, { timeout: 5_000 }).toHaveLength(2);
		// The read may already see the later write: only the latest state is promised.
		expect(seen[1]).toBe('small');
		expect([big.token?.access_token, 'small']).toContain(seen[0]);
	});

	it('drops a notification that is not a valid record, and delivers the next one', async () => {
		const { store, peer, table } = await pair();
		await listening(store, peer);
		const seen: (string | undefined)[] = [];
		store.subscribe('k', (r) => seen.push(r?.token?.access_token));
		await admin.query('SELECT pg_notify($1, $2)', [table, '{"key":"k","record":{"version":1}}']);
		await admin.query('SELECT pg_notify($1, $2)', [table, 'not json']);
		await peer.set('k', record('one'));
		await expect.poll(() => seen, { timeout: 5_000 }).toEqual(['one']);
	});

	it('listens again after its LISTEN connection was lost', async () => {
		const { store, peer, table } = await pair();
		await listening(store, peer);
		await admin.query(
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN "${table}"'`,
		);
		const seen: (string | undefined)[] = [];
		store.subscribe('k', (r) => seen.push(r?.token?.access_token));
		await expect
			.poll(
				async () => {
					await peer.set('k', record('again'));
					return seen.length;
				},
				{ timeout: 15_000 },
			)
			.toBeGreaterThan(0);
	});

	it('close() ends its own pool, not the pool it was given', async () => {
		const table = `tokens_${++tables}`;
		const given = pool();
		try {
			const borrowed = new PostgresStore({ pool: given, table });
			const owned = new PostgresStore({ connectionString: server.url, table });
			await borrowed.migrate();
			for (const store of [borrowed, owned]) {
				store.subscribe('k', () => {});
				await store.get('k');
			}
			const connections = async () =>
				(
					await admin.query(
						"SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
					)
				).rows[0].n as number;
			// subscribe() starts its LISTEN connection without waiting for it: count once both are up
			// (each store's query connection and its LISTEN connection).
			await expect.poll(connections, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
			const before = await connections();
			await borrowed.close();
			await owned.close();
			// The owned pool's connections and both LISTEN connections are gone; the given pool's
			// query connection stays.
			await expect.poll(connections, { timeout: 10_000 }).toBeLessThan(before - 2);
			expect((await given.query('SELECT 1 AS one')).rows[0].one).toBe(1);
			await expect(owned.get('k')).rejects.toMatchObject({ problem: 'unavailable' });
		} finally {
			await given.end();
		}
	});
});
