// Node-only entry: `oauth2-session/storage/postgres`. The only module that imports pg.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { StorageError } from '../errors/storage-error.js';
import { StoreListeners } from './store-listeners.js';
import {
	decodeStoredRecord,
	type LockOptions,
	newerRecordLeftInPlace,
	STORED_RECORD_VERSION,
	type StoreChangeListener,
	type StoredRecord,
	type StoreListener,
	storedRecordOr,
	type TokenStore,
} from './token-store.js';

/** Options of `new PostgresStore(...)`. Give either `pool` or `connectionString`. */
export interface PostgresStoreOptions {
	/**
	 * A `pg.Pool` you made. The store runs its queries on it, keeps one of its connections for
	 * LISTEN once something subscribes, and leaves it open on `close()`.
	 * @example new PostgresStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) })
	 */
	pool?: pg.Pool | undefined;
	/**
	 * A `postgres:` or `postgresql:` URL: the store makes its own pool and ends it on `close()`.
	 * Its password never appears in an error message.
	 * @example 'postgres://app:password@db.internal:5432/app'
	 */
	connectionString?: string | undefined;
	/**
	 * The table of the records (`name` or `schema.name`, letters, digits and `_`, at most 63
	 * characters), one row per key. `migrate()` creates it. Also the LISTEN/NOTIFY channel's name.
	 * @default 'oauth2_session_tokens'
	 * @example 'auth.tokens'
	 */
	table?: string | undefined;
	/**
	 * How long one query (or getting a connection from the pool) may take, in milliseconds, before
	 * it fails with a `StorageError` (`unavailable`). It bounds how long a session waits on a
	 * database that is down.
	 * @default 5_000
	 * @example 1_000
	 */
	commandTimeout?: number | undefined;
}

const defaults = { table: 'oauth2_session_tokens', commandTimeout: 5_000 } as const;

/** NOTIFY refuses payloads of 8000 bytes or more; a bigger record is announced by key only. */
const NOTIFY_LIMIT = 7_900;
/** Bounds of the wait before listening again after the LISTEN connection was lost, in ms. */
const RELISTEN_MIN = 100;
const RELISTEN_MAX = 10_000;
/** SQLSTATE of a lock wait that ran past `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';
/** SQLSTATE of a table that does not exist. */
const UNDEFINED_TABLE = '42P01';

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** What a write or delete announces on the channel. */
interface Notice {
	key: string;
	/** The record written, when it fits in a notification; absent, listeners read the row. */
	record?: StoredRecord;
	deleted?: true;
}

/**
 * A token store in PostgreSQL, through pg (node-postgres): processes and machines sharing the
 * database share one token, with one refresh per expiry.
 *
 * - One row per key in `table` (`key text PRIMARY KEY, record jsonb, updated_at timestamptz`),
 *   created by `migrate()`; the record is the JSON of a `StoredRecord`, versioned like every
 *   store's. A `set` resolves once its transaction has committed.
 * - A row that is not a valid record is moved aside, to the key `<key>:corrupt:<ms>` in the same
 *   table (kept until you delete it), and reported as a `StorageError` (`corrupt`); one written
 *   by a newer version of this library is left in place (`unsupported-version`).
 * - The lock is a transaction-scoped advisory lock (`pg_advisory_xact_lock` on a hash of the
 *   table and key), held by a transaction that stays open on one connection while `fn` runs.
 *   That is what works behind PgBouncer in transaction mode, where a session-level advisory lock
 *   would stay on a server connection handed to other clients (and could be released on another
 *   one): an open transaction keeps its server connection. A holder whose process dies loses the
 *   lock with its connection; one that hangs, after `ttl` (`idle_in_transaction_session_timeout`
 *   ends its connection). The waiting is bounded by `lock_timeout`. The record itself is read and
 *   written on other connections, so `fn` needs no transaction of its own. Each lock held or
 *   waited for takes one connection of the pool; callers in one process queue for a key in
 *   memory, so they never hold more than one connection per key.
 * - Writes and deletes are announced with NOTIFY in the same transaction, so listeners hear of a
 *   write once it is committed, in commit order, with the record (or the key, for records too big
 *   for a notification). LISTEN needs a session of its own: behind PgBouncer in transaction mode,
 *   give the store a `pool` that connects to PostgreSQL directly (or in session mode), or go
 *   without notifications: sessions still read the store under the lock before they refresh.
 * - Every failure is a `StorageError`: `unavailable` (with pg's error as `cause`) when the
 *   database cannot be reached within `commandTimeout`, or the table is missing.
 *
 * pg rather than postgres.js: the most used PostgreSQL client for Node, pure JavaScript, with a
 * `Pool` most applications already have (and pass here), LISTEN on a plain connection, and types.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { OAuth2Session } from 'oauth2-session';
 * import { PostgresStore } from 'oauth2-session/storage/postgres';
 *
 * const store = new PostgresStore({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate(); // CREATE TABLE IF NOT EXISTS oauth2_session_tokens (...)
 * const session = new OAuth2Session({ clientId: 'app', tokenEndpoint, store, storeKey: 'user-42' });
 * // On shutdown:
 * session.close();
 * await store.close();
 * ```
 */
export class PostgresStore implements TokenStore {
	readonly #pool: pg.Pool;
	readonly #ownsPool: boolean;
	/** The table, quoted for SQL. */
	readonly #table: string;
	/** The table as given: the channel's name and the advisory locks' namespace. */
	readonly #name: string;
	readonly #commandTimeout: number;
	readonly #listeners = new StoreListeners();
	/** The listeners of every key (`subscribeAll`). */
	readonly #everyKey = new Set<StoreChangeListener>();
	/** The connection that LISTENs, while it is up. */
	#listener: pg.PoolClient | undefined;
	#listening = false;
	#relistenDelay = RELISTEN_MIN;
	/** Deliveries in the order notifications came, as some of them need a read. */
	#deliveries: Promise<void> = Promise.resolve();
	/** The last holder or waiter of each key's lock in this process. */
	readonly #queues = new Map<string, Promise<void>>();
	/**
	 * Locks of different keys held at once, each on a connection of its own (many users refreshing
	 * together): at most half the pool, so holders always find one to read and write the record.
	 */
	#lockHolders = 0;
	readonly #slotWaiters: (() => void)[] = [];
	#closed = false;

	constructor(options: PostgresStoreOptions) {
		if (typeof options !== 'object' || options === null) {
			throw new InvalidOptionsError(
				'PostgresStore needs an options object with a pool or a connectionString',
			);
		}
		const { pool, connectionString } = options;
		if ((pool === undefined) === (connectionString === undefined)) {
			throw new InvalidOptionsError(
				'PostgresStore needs either a pool or a connectionString, not both',
			);
		}
		const table = options.table ?? defaults.table;
		if (typeof table !== 'string' || table.length > 63 || !TABLE_NAME.test(table)) {
			throw new InvalidOptionsError(
				'PostgresStore table must be a name or schema.name of letters, digits and _ (at most 63 characters)',
			);
		}
		this.#name = table;
		this.#table = table
			.split('.')
			.map((part) => `"${part}"`)
			.join('.');
		this.#commandTimeout = options.commandTimeout ?? defaults.commandTimeout;
		if (typeof this.#commandTimeout !== 'number' || !(this.#commandTimeout > 0)) {
			throw new InvalidOptionsError(
				'PostgresStore commandTimeout must be a number of milliseconds',
			);
		}
		if (pool !== undefined) {
			if (typeof pool !== 'object' || pool === null || typeof pool.connect !== 'function') {
				throw new InvalidOptionsError('PostgresStore pool must be a pg.Pool');
			}
			this.#pool = pool;
			this.#ownsPool = false;
		} else {
			this.#pool = makePool(connectionString, this.#commandTimeout);
			this.#ownsPool = true;
		}
	}

	/**
	 * Creates the table if it does not exist (`CREATE TABLE IF NOT EXISTS`, so it is safe to run
	 * at every start, from several processes at once). To create it yourself, see the README.
	 * @throws {StorageError} `unavailable`, as when the user may not create tables.
	 */
	async migrate(): Promise<void> {
		await this.#withClient('', 'create the table of', async (client) => {
			// Two processes creating the same table at once can both fail without the lock.
			await client.query(
				`BEGIN; SELECT pg_advisory_xact_lock(${lockId(this.#name, '')}); CREATE TABLE IF NOT EXISTS ${this.#table} (key text PRIMARY KEY, record jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()); COMMIT`,
			);
		});
	}

	async get(key: string): Promise<StoredRecord | undefined> {
		const { rows } = await this.#query<{ record: string }>(
			key,
			'read',
			`SELECT record::text AS record FROM ${this.#table} WHERE key = $1`,
			[key],
		);
		const value = rows[0]?.record;
		if (value === undefined) return undefined;
		const parsed: unknown = JSON.parse(value);
		return storedRecordOr(parsed, key, (error) => this.#unreadable(key, value, error));
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		if ((await this.#write(key, record, '')) === 0) throw newerRecordLeftInPlace(key);
	}

	async setIfUnchanged(
		key: string,
		record: StoredRecord,
		replaces: string | undefined,
	): Promise<boolean> {
		// Both checks in the writing statement: a row another context wrote meanwhile stays. With
		// something to replace, no row is a row deleted meanwhile (a logout): nothing is inserted.
		// A record of a DPoP key alone gives way only to one with that key.
		const unchanged = ` AND (t.record #>> '{token,access_token}' IN ($6, $7) OR (t.record -> 'token' IS NULL AND t.record #>> '{dpop,jkt}' = $8))`;
		const values = [replaces ?? '', record.token?.access_token ?? '', record.dpop?.jkt ?? ''];
		return (await this.#write(key, record, unchanged, values, replaces !== undefined)) === 1;
	}

	async delete(key: string): Promise<void> {
		await this.#query(
			key,
			'delete',
			`WITH deleted AS (DELETE FROM ${this.#table} WHERE key = $1 RETURNING 1) SELECT pg_notify($2, $3) FROM deleted`,
			[key, this.#name, JSON.stringify({ key, deleted: true } satisfies Notice)],
		);
	}

	async lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		const deadline = Date.now() + options.waitTimeout;
		// Callers in this process wait here rather than each on a connection of the pool: a pool
		// full of waiters would leave the holder none to read and write the record with.
		const previous = this.#queues.get(key) ?? Promise.resolve();
		let release: () => void = () => {};
		const turn = new Promise<void>((resolve) => {
			release = resolve;
		});
		const tail = previous.then(() => turn);
		this.#queues.set(key, tail);
		let tookSlot = false;
		try {
			await within(previous, deadline - Date.now(), () => lockTimeout(key));
			await this.#takeLockSlot(key, deadline);
			tookSlot = true;
			const client = await this.#acquire(key, deadline, options.ttl);
			let lost = false;
			// The server ends a connection idle in its transaction for longer than ttl.
			const onError = () => {
				lost = true;
				client.release(true);
			};
			client.on('error', onError);
			try {
				return await fn();
			} finally {
				client.off('error', onError);
				if (!lost) {
					// A commit that fails leaves the lock to go with the connection; fn's outcome stands.
					const ended = await client.query('COMMIT').then(
						() => true,
						() => false,
					);
					client.release(!ended);
				}
			}
		} finally {
			if (tookSlot) {
				this.#lockHolders--;
				// Each waiter checks again: one that gave up leaves no slot unclaimed.
				for (const wake of this.#slotWaiters.splice(0)) wake();
			}
			release();
			if (this.#queues.get(key) === tail) this.#queues.delete(key);
		}
	}

	async #takeLockSlot(key: string, deadline: number): Promise<void> {
		const slots = Math.max(1, Math.floor((this.#pool.options.max ?? 10) / 2));
		while (this.#lockHolders >= slots) {
			const freed = new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
			await within(freed, deadline - Date.now(), () => lockTimeout(key));
		}
		this.#lockHolders++;
	}

	subscribe(key: string, listener: StoreListener): () => void {
		if (this.#closed) return () => {};
		// Wrapped, so one function subscribed twice is two subscriptions, each ended by its own call.
		const remove = this.#listeners.add(key, (record) => listener(record));
		this.#startListening();
		return remove;
	}

	/** Every key's changes arrive on the table's one channel: no more than `subscribe` costs. */
	subscribeAll(listener: StoreChangeListener): () => void {
		if (this.#closed) return () => {};
		// Wrapped, so one function subscribed twice is two subscriptions, each ended by its own call.
		const wrapped: StoreChangeListener = (key, record) => listener(key, record);
		this.#everyKey.add(wrapped);
		this.#startListening();
		return () => {
			this.#everyKey.delete(wrapped);
		};
	}

	#startListening(): void {
		if (this.#listening) return;
		this.#listening = true;
		void this.#listen();
	}

	/**
	 * Ends the LISTEN connection and, when the store made its pool from a `connectionString`, the
	 * pool. A `pool` you passed stays open. Calls made after `close()` fail with `unavailable`.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#listeners.clear();
		this.#everyKey.clear();
		this.#listener?.release(true);
		this.#listener = undefined;
		if (this.#ownsPool) await this.#pool.end().catch(() => {});
	}

	/** Takes a connection, opens a transaction and waits in it for the key's advisory lock. */
	async #acquire(key: string, deadline: number, ttl: number): Promise<pg.PoolClient> {
		const client = await this.#connect(key, 'lock');
		try {
			await this.#run(key, 'lock', async () => {
				await client.query('BEGIN');
				// lock_timeout 0 would mean no limit.
				const wait = Math.max(1, Math.ceil(deadline - Date.now()));
				await client.query(
					"SELECT set_config('lock_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true)",
					[`${wait}ms`, `${Math.max(1, Math.ceil(ttl))}ms`],
				);
			});
			const wait = Math.max(0, deadline - Date.now());
			await this.#run(
				key,
				'lock',
				() => client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockId(this.#name, key)]),
				wait + this.#commandTimeout,
			);
			return client;
		} catch (error) {
			const timedOut = isLockTimeout(error);
			if (timedOut) await client.query('ROLLBACK').catch(() => {});
			client.release(!timedOut);
			if (timedOut) throw lockTimeout(key);
			throw error;
		}
	}

	async #listen(): Promise<void> {
		while (!this.#closed && this.#listener === undefined) {
			let client: pg.PoolClient | undefined;
			try {
				client = await this.#connect('', 'listen on');
				const listening = client;
				listening.on('notification', ({ channel, payload }) => {
					if (channel === this.#name && payload !== undefined) this.#heard(payload);
				});
				listening.on('error', () => {
					if (this.#listener !== listening) return;
					this.#listener = undefined;
					listening.release(true);
					// Notifications sent while nobody listened are lost: the lock's read covers them.
					void this.#listen();
				});
				await this.#run('', 'listen on', () =>
					listening.query(`LISTEN ${quoteIdentifier(this.#name)}`),
				);
				if (this.#closed) {
					listening.release(true);
					return;
				}
				this.#listener = listening;
				this.#relistenDelay = RELISTEN_MIN;
			} catch {
				client?.release(true);
				await delay(this.#relistenDelay);
				this.#relistenDelay = Math.min(RELISTEN_MAX, this.#relistenDelay * 2);
			}
		}
	}

	#heard(payload: string): void {
		let notice: Notice;
		try {
			notice = JSON.parse(payload) as Notice;
			if (typeof notice.key !== 'string') return;
		} catch {
			return;
		}
		const { key } = notice;
		if (!this.#listeners.has(key) && this.#everyKey.size === 0) return;
		this.#deliveries = this.#deliveries.then(async () => {
			let record: StoredRecord | undefined;
			try {
				if (notice.deleted === true) record = undefined;
				else if (notice.record !== undefined) {
					decodeStoredRecord(notice.record, key);
					record = notice.record;
				} else record = await this.get(key);
			} catch {
				// Subscribers have no error channel: the session meets the record at its next read,
				// which reports it.
				return;
			}
			this.#listeners.notify(key, record);
			for (const listener of this.#everyKey) {
				listener(key, record === undefined ? undefined : structuredClone(record));
			}
		});
	}

	async #unreadable(key: string, value: string, cause: unknown): Promise<never> {
		const aside = `${key}:corrupt:${Date.now()}`;
		// The record is corrupt whether or not it can be moved: that is the error to report.
		const moved = await this.#query(
			key,
			'move aside',
			`UPDATE ${this.#table} SET key = $2, updated_at = now() WHERE key = $1 AND record = $3::jsonb`,
			[key, aside, value],
		).then(
			(result) => result.rowCount,
			() => undefined,
		);
		const what = `The record under "${key}" is not a valid token record`;
		throw new StorageError(
			moved === 1
				? `${what}; it was moved to the key "${aside}"`
				: moved === 0
					? `${what} (it has changed since it was read)`
					: `${what}; it is left in place (moving it aside failed)`,
			{ problem: 'corrupt', key },
			cause === undefined ? {} : { cause },
		);
	}

	/**
	 * Writes the record and notifies, in one statement, unless the row holds a record of a newer
	 * schema version or fails `condition` (SQL on the row `t`, with `values` from `$6`). Resolves
	 * with the number of rows written.
	 */
	async #write(
		key: string,
		record: StoredRecord,
		condition: string,
		values: string[] = [],
		existingOnly = false,
	): Promise<number> {
		const notice = JSON.stringify({ key, record } satisfies Notice);
		const allowed = `(jsonb_typeof(t.record -> 'version') IS DISTINCT FROM 'number' OR (t.record ->> 'version')::numeric <= $5)${condition}`;
		const write = existingOnly
			? `UPDATE ${this.#table} AS t SET record = $2::jsonb, updated_at = now() WHERE t.key = $1 AND ${allowed}`
			: `INSERT INTO ${this.#table} AS t (key, record, updated_at) VALUES ($1, $2::jsonb, now()) ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, updated_at = EXCLUDED.updated_at WHERE ${allowed}`;
		// NOTIFY in the writing statement: listeners hear of it at commit, never of a rolled-back one.
		const { rowCount } = await this.#query(
			key,
			'write',
			`WITH written AS (${write} RETURNING 1) SELECT pg_notify($3, $4) FROM written`,
			[
				key,
				JSON.stringify(record),
				this.#name,
				Buffer.byteLength(notice) < NOTIFY_LIMIT ? notice : JSON.stringify({ key }),
				STORED_RECORD_VERSION,
				...values,
			],
		);
		return rowCount ?? 0;
	}

	#query<R extends pg.QueryResultRow = pg.QueryResultRow>(
		key: string,
		operation: string,
		text: string,
		values: unknown[],
	): Promise<pg.QueryResult<R>> {
		return this.#run(key, operation, () => this.#pool.query<R>(text, values));
	}

	/** A connection of the pool within `commandTimeout`; one that comes later goes back to it. */
	#connect(key: string, operation: string): Promise<pg.PoolClient> {
		const pending = this.#pool.connect();
		return this.#run(key, operation, () => pending).catch((error: unknown) => {
			pending.then(
				(client) => client.release(),
				() => {},
			);
			throw error;
		});
	}

	async #withClient(
		key: string,
		operation: string,
		use: (client: pg.PoolClient) => Promise<void>,
	): Promise<void> {
		const client = await this.#connect(key, operation);
		let failed = true;
		try {
			await this.#run(key, operation, () => use(client));
			failed = false;
		} finally {
			client.release(failed);
		}
	}

	/** Runs one step within `timeout`, turning any failure into a `StorageError`. */
	async #run<T>(
		key: string,
		operation: string,
		step: () => Promise<T>,
		timeout = this.#commandTimeout,
	): Promise<T> {
		const what = `"${key}"`;
		if (this.#closed) {
			throw new StorageError(`Cannot ${operation} ${what}: the PostgresStore is closed`, {
				problem: 'unavailable',
				key,
			});
		}
		let timer: ReturnType<typeof setTimeout> | undefined;
		const pending = step();
		// The step may still fail after the timeout has answered for it.
		pending.catch(() => {});
		try {
			return await Promise.race([
				pending,
				new Promise<never>((_, reject) => {
					timer = setTimeout(
						() => reject(new Error(`No answer from PostgreSQL within ${timeout} ms`)),
						timeout,
					);
				}),
			]);
		} catch (error) {
			if (isLockTimeout(error)) throw error;
			const missing = (error as { code?: unknown } | null)?.code === UNDEFINED_TABLE;
			throw new StorageError(
				missing
					? `PostgreSQL could not ${operation} ${what}: the table ${this.#name} does not exist (run store.migrate())`
					: `PostgreSQL could not ${operation} ${what}`,
				{ problem: 'unavailable', key },
				{ cause: safeCause(error) },
			);
		} finally {
			clearTimeout(timer);
		}
	}
}

function makePool(connectionString: string | undefined, timeout: number): pg.Pool {
	let protocol: string | undefined;
	try {
		protocol = new URL(connectionString as string).protocol;
	} catch {
		// Reported below, without repeating the string: it may hold a password.
	}
	if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
		throw new InvalidOptionsError(
			'PostgresStore connectionString must be an absolute postgres: or postgresql: URL',
		);
	}
	const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: timeout });
	// A connection that fails while idle is dropped by the pool; the next query reports it.
	pool.on('error', () => {});
	return pool;
}

/** The advisory lock's id: 64 bits of a hash of the table and key (a collision only serializes). */
function lockId(table: string, key: string): string {
	return createHash('sha256').update(`${table}\0${key}`).digest().readBigInt64BE(0).toString();
}

function quoteIdentifier(name: string): string {
	return `"${name.replaceAll('"', '""')}"`;
}

/**
 * pg's error, without what it may carry besides its message: the pool attaches the connection
 * (whose parameters hold the password) and `detail` may quote a value.
 */
function safeCause(error: unknown): Error {
	if (!(error instanceof Error)) return new Error('PostgreSQL failed');
	const { code } = error as { code?: unknown };
	const cause = new Error(error.message);
	cause.name = error.name;
	if (typeof code === 'string') Object.assign(cause, { code });
	return cause;
}

function isLockTimeout(error: unknown): boolean {
	return (error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE;
}

function lockTimeout(key: string): StorageError {
	return new StorageError(`Timed out waiting for the lock on "${key}"`, {
		problem: 'lock-timeout',
		key,
	});
}

/** Waits for `promise` at most `ms`, then throws what `error` makes. */
async function within(promise: Promise<unknown>, ms: number, error: () => Error): Promise<void> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(error()), Math.max(0, ms));
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
