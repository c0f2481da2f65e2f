// Node-only entry: `oauth2-session/storage/redis`. The only module that imports ioredis.
import { createHash, randomUUID } from 'node:crypto';
import { type Cluster, Redis } from 'ioredis';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { StorageError } from '../errors/storage-error.js';
import { StoreListeners } from './store-listeners.js';
import {
	decodeStoredRecord,
	type LockOptions,
	MAX_RECORD_BYTES,
	newerRecordLeftInPlace,
	STORED_RECORD_VERSION,
	type StoreChangeListener,
	type StoredRecord,
	type StoreListener,
	storedRecordOr,
	type TokenStore,
} from './token-store.js';

/** A client made with ioredis: `new Redis(...)` or `new Cluster(...)`. */
export type RedisStoreClient = Redis | Cluster;

/** Options of `new RedisStore(...)`. Give either `client` or `url`. */
export interface RedisStoreOptions {
	/**
	 * An ioredis client you made (`new Redis(...)` or `new Cluster(...)`). The store sends its
	 * commands through it, subscribes through a `duplicate()` of it, and leaves it open on `close()`.
	 * Its `'error'` events are yours to listen to.
	 * @example new RedisStore({ client: new Redis(process.env.REDIS_URL) })
	 */
	client?: RedisStoreClient | undefined;
	/**
	 * A `redis:` or `rediss:` URL: the store makes its own connections, fails fast while Redis is
	 * unreachable, and ends them on `close()`. For a Cluster or Sentinel, pass a `client`.
	 * @example 'redis://:password@127.0.0.1:6379/0'
	 */
	url?: string | undefined;
	/**
	 * Prepended to every session key; not empty. Names are `{<prefix><key>}` (a Cluster hash tag,
	 * so a session's record, lock and channel share one slot; any `}` or `%` in it is
	 * percent-encoded) with `:lock`, `:changed` or `:corrupt:<ms>` after it.
	 * @default 'oauth2-session:'
	 * @example 'myapp:tokens:'
	 */
	prefix?: string | undefined;
	/**
	 * How long one Redis command may wait on Redis that cannot be reached, in milliseconds, before it
	 * fails with a `StorageError` (`unavailable`): it bounds how long a session waits on Redis that
	 * is down. On a connection that is up, a slow answer (a busy Redis, a starved process) is
	 * awaited up to 30 s: "unavailable" sends sessions on without the lock, a second refresh.
	 * @default 5_000
	 * @example 1_000
	 */
	commandTimeout?: number | undefined;
}

/** The names a session key maps to in Redis. */
export interface RedisKeyNames {
	/** The string holding the record's JSON. */
	record: string;
	/** The lock: a string holding the owner's id, with a PX expiry. */
	lock: string;
	/** The pub/sub channel announcing writes and deletes. */
	channel: string;
	/**
	 * The mark a delete leaves (for a day, or until the next write), so a save replayed after an
	 * outage tells a record deleted meanwhile (a logout: it writes nothing) from one Redis lost in a
	 * restart without persistence (it writes).
	 */
	ended: string;
}

const defaults = { prefix: 'oauth2-session:', commandTimeout: 5_000 } as const;

/** The longest wait for a command on a connection that is up (Redis busy, not down), in ms. */
const SLOW_COMMAND_LIMIT = 30_000;

/** How long the mark of a delete outlives it, in ms: longer than any save waits to be replayed. */
const ENDED_MARK_TTL = 24 * 60 * 60 * 1_000;

/**
 * A script the server has not cached, as Redis says it, or as a Cluster client wraps it once a
 * failover's redirections used up its budget: a promoted replica never cached the scripts.
 */
const NOSCRIPT = /^(?:Too many Cluster redirections\. Last error: ReplyError: )?NOSCRIPT /;

/** Bounds of the wait between two tries to take a held lock, in milliseconds. */
const LOCK_POLL_MIN = 5;
const LOCK_POLL_MAX = 100;

// Write and notify in one script: a subscriber never misses a write that happened, nor hears of
// one that did not, and messages arrive in write order. A record of a newer schema version (above
// ARGV[3]) is left alone, in the same step: 0. A write clears the mark of a delete (KEYS[2]).
const SET_SCRIPT = script(
	"local c = redis.call('GET', KEYS[1]) if c then local ok, v = pcall(cjson.decode, c) if ok and type(v) == 'table' and type(v.version) == 'number' and v.version > tonumber(ARGV[3]) then return 0 end end redis.call('SET', KEYS[1], ARGV[1]) redis.call('DEL', KEYS[2]) redis.call('PUBLISH', ARGV[2], ARGV[1]) return 1",
);
// SET_SCRIPT, only while the record holds the access token the write replaces (ARGV[4]) or its
// own (ARGV[5]), or there is none and no delete marked it (KEYS[2]) since: a replayed write never
// lands on one another context made, nor brings back a session ended meanwhile. A first save
// (ARGV[4] empty) lands where there is none.
const SET_IF_UNCHANGED_SCRIPT = script(
	"local c = redis.call('GET', KEYS[1]) if c then local ok, v = pcall(cjson.decode, c) if not ok or type(v) ~= 'table' or (type(v.version) == 'number' and v.version > tonumber(ARGV[3])) then return 0 end if type(v.token) ~= 'table' then if type(v.dpop) ~= 'table' or v.dpop.jkt ~= ARGV[6] then return 0 end elseif v.token.access_token ~= ARGV[4] and v.token.access_token ~= ARGV[5] then return 0 end elseif ARGV[4] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end redis.call('SET', KEYS[1], ARGV[1]) redis.call('DEL', KEYS[2]) redis.call('PUBLISH', ARGV[2], ARGV[1]) return 1",
);
// The length first: a record too large to be one is not sent over (its length is, as a number).
const GET_SCRIPT = script(
	"local n = redis.call('STRLEN', KEYS[1]) if n > tonumber(ARGV[1]) then return n end return redis.call('GET', KEYS[1])",
);
// The mark (KEYS[2]) is left even when there was no record: the session ended all the same.
const DELETE_SCRIPT = script(
	"redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[1], '') return 1 end return 0",
);
const RELEASE_SCRIPT = script(
	"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
);
// Moves unreadable bytes aside only if they are still what was read: a writer may have fixed them.
const MOVE_ASIDE_SCRIPT = script(
	"if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('RENAME', KEYS[1], KEYS[2]) return 1 end return 0",
);

/**
 * A token store in Redis (standalone, Sentinel or Cluster), through ioredis: processes and machines
 * sharing it share one token, with one refresh per expiry.
 *
 * - Records are the JSON of a `StoredRecord`, under `{<prefix><key>}`. A `set` resolves once the
 *   primary has applied it: whether it survives a restart (AOF, RDB) or a failover (replicas) is
 *   the Redis operator's choice.
 * - A record that is not a valid record is moved aside to `{<prefix><key>}:corrupt:<ms>` (kept
 *   until you delete it) and reported as a `StorageError` (`corrupt`); one written by a newer
 *   version of this library is left in place (`unsupported-version`).
 * - A delete leaves `{<prefix><key>}:ended` for a day (or until the next write): a save replayed
 *   after an outage does not bring back a session logged out meanwhile, yet still lands in a Redis
 *   that came back empty from a restart without persistence.
 * - The lock is `SET … NX PX ttl` with a random owner id, released by a script that deletes it only
 *   for its owner; a holder that crashed loses it after `ttl`.
 * - Writes and deletes are published on `{<prefix><key>}:changed` with the record, so subscribers
 *   get it without another read. Pub/sub delivers at most once: a session that misses a message
 *   (while reconnecting) still reads the store under the lock before it refreshes. On a Cluster the
 *   messages cross the cluster bus, whose link to a node silent for half `cluster-node-timeout`
 *   (a starved or stalled node) is reset, losing the messages on it. Clients allowed
 *   to subscribe to that channel see the record, as those allowed to read the key do.
 * - Every failure is a `StorageError`: `unavailable` (with the client's error as `cause`) when
 *   Redis cannot be reached within `commandTimeout`.
 *
 * ioredis rather than node-redis: one command API for `Redis` and `Cluster` (so a user's Cluster
 * client works unchanged), simple bundled types a caller's client is assignable to, and a client
 * without an `'error'` listener that does not crash the process.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { OAuth2Session } from 'oauth2-session';
 * import { RedisStore } from 'oauth2-session/storage/redis';
 *
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL) });
 * const session = new OAuth2Session({ clientId: 'app', tokenEndpoint, store, storeKey: 'user-42' });
 * // On shutdown:
 * session.close();
 * await store.close();
 * ```
 */
export class RedisStore implements TokenStore {
	readonly #client: RedisStoreClient;
	readonly #ownsClient: boolean;
	readonly #prefix: string;
	readonly #commandTimeout: number;
	/** Listeners by channel. */
	readonly #listeners = new StoreListeners();
	/** The channels subscribed to: those with a listener. */
	readonly #channels = new Set<string>();
	/** The listeners of every key (`subscribeAll`), told through one pattern subscription. */
	readonly #everyKey = new Set<StoreChangeListener>();
	/** The subscribing connection, made on the first `subscribe`. */
	#subscriber: RedisStoreClient | undefined;
	#closed = false;

	constructor(options: RedisStoreOptions) {
		if (typeof options !== 'object' || options === null) {
			throw new InvalidOptionsError('RedisStore needs an options object with a client or a url');
		}
		const { client, url } = options;
		if ((client === undefined) === (url === undefined)) {
			throw new InvalidOptionsError('RedisStore needs either a client or a url, not both');
		}
		this.#prefix = options.prefix ?? defaults.prefix;
		// An empty hash tag (`{}`) would make Redis hash whole names, scattering a key's slots.
		if (typeof this.#prefix !== 'string' || this.#prefix === '') {
			throw new InvalidOptionsError('RedisStore prefix must be a non-empty string');
		}
		this.#commandTimeout = options.commandTimeout ?? defaults.commandTimeout;
		if (typeof this.#commandTimeout !== 'number' || !(this.#commandTimeout > 0)) {
			throw new InvalidOptionsError('RedisStore commandTimeout must be a number of milliseconds');
		}
		if (client !== undefined) {
			this.#client = client;
			this.#ownsClient = false;
		} else {
			this.#client = connect(url as string);
			this.#ownsClient = true;
		}
	}

	/** The Redis names of a session key's record, lock and channel (for ACLs and inspection). */
	keysFor(key: string): RedisKeyNames {
		// `}` ends a hash tag early, so it is escaped (with `%`, to stay one-to-one): every name of
		// a key then hashes `<prefix><key>` and lands in the same Cluster slot.
		const tag = `{${`${this.#prefix}${key}`.replace(/[%}]/g, (c) => encodeURIComponent(c))}}`;
		return { record: tag, lock: `${tag}:lock`, channel: `${tag}:changed`, ended: `${tag}:ended` };
	}

	async get(key: string): Promise<StoredRecord | undefined> {
		const { record } = this.keysFor(key);
		const value = await this.#run(key, 'read', () =>
			this.#eval(GET_SCRIPT, [record], [String(MAX_RECORD_BYTES)]),
		);
		if (value === null) return undefined;
		if (typeof value !== 'string') {
			throw new StorageError(
				`The record under "${key}" is larger than the ${MAX_RECORD_BYTES / 1024 / 1024} MiB a record may be; it is left in place`,
				{ problem: 'corrupt', key },
			);
		}
		let parsed: unknown;
		try {
			parsed = JSON.parse(value);
		} catch {
			// Not kept as the cause: a JSON SyntaxError quotes the bytes, which may hold a token.
			return this.#unreadable(key, value, undefined);
		}
		return storedRecordOr(parsed, key, (error) => this.#unreadable(key, value, error));
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		const { record: name, channel, ended } = this.keysFor(key);
		const value = JSON.stringify(record);
		const written = await this.#run(key, 'write', (abandoned) =>
			this.#sendWhenReady(abandoned, () =>
				this.#eval(SET_SCRIPT, [name, ended], [value, channel, String(STORED_RECORD_VERSION)]),
			),
		);
		if (written === 0) throw newerRecordLeftInPlace(key);
	}

	async setIfUnchanged(
		key: string,
		record: StoredRecord,
		replaces: string | undefined,
	): Promise<boolean> {
		const { record: name, channel, ended } = this.keysFor(key);
		const value = JSON.stringify(record);
		// An access token is never empty, so '' stands for "no token" and matches none.
		const args = [
			value,
			channel,
			String(STORED_RECORD_VERSION),
			replaces ?? '',
			record.token?.access_token ?? '',
			// A record of a DPoP key alone gives way only to one with that key.
			record.dpop?.jkt ?? '',
		];
		const written = await this.#run(key, 'write', (abandoned) =>
			this.#sendWhenReady(abandoned, () =>
				this.#eval(SET_IF_UNCHANGED_SCRIPT, [name, ended], args),
			),
		);
		return written === 1;
	}

	async delete(key: string): Promise<void> {
		const { record, channel, ended } = this.keysFor(key);
		await this.#run(key, 'delete', (abandoned) =>
			this.#sendWhenReady(abandoned, () =>
				this.#eval(DELETE_SCRIPT, [record, ended], [channel, String(ENDED_MARK_TTL)]),
			),
		);
	}

	async lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		const { lock } = this.keysFor(key);
		const owner = randomUUID();
		const ttl = Math.max(1, Math.ceil(options.ttl));
		const deadline = Date.now() + options.waitTimeout;
		for (let attempt = 0; ; attempt++) {
			const trying = this.#client.set(lock, owner, 'PX', ttl, 'NX');
			const taken = await this.#run(key, 'lock', () => trying).catch((error: unknown) => {
				// Given up on, it may still land: the lock it took must not block everyone for its ttl.
				trying
					.then((late) => late === 'OK' && this.#eval(RELEASE_SCRIPT, [lock], [owner]))
					.catch(() => {});
				throw error;
			});
			if (taken === 'OK') break;
			const left = deadline - Date.now();
			if (left <= 0) {
				throw new StorageError(`Timed out waiting for the lock on "${key}"`, {
					problem: 'lock-timeout',
					key,
				});
			}
			// Exponential with jitter, so waiters in many processes do not poll in step.
			const backoff = Math.min(LOCK_POLL_MAX, LOCK_POLL_MIN * 2 ** attempt);
			await delay(Math.min(left, backoff / 2 + Math.random() * (backoff / 2)));
		}
		try {
			return await fn();
		} finally {
			// A release that fails leaves the lock to expire after ttl; fn's outcome stands.
			// On a Cluster, through a failover too: a lock left behind holds every waiter for its ttl.
			await this.#run(key, 'unlock', (abandoned) =>
				this.#client.isCluster
					? untilFailedOver(abandoned, () => this.#eval(RELEASE_SCRIPT, [lock], [owner]))
					: this.#eval(RELEASE_SCRIPT, [lock], [owner]),
			).catch(() => {});
		}
	}

	subscribe(key: string, listener: StoreListener): () => void {
		if (this.#closed) return () => {};
		const { channel } = this.keysFor(key);
		// Wrapped, so one function subscribed twice is two subscriptions, each ended by its own call.
		const remove = this.#listeners.add(channel, (record) => listener(record));
		if (!this.#channels.has(channel)) {
			this.#channels.add(channel);
			// A failed SUBSCRIBE is retried on the next 'ready' (see #subscriberConnection).
			this.#subscriberConnection()
				.subscribe(channel)
				.catch(() => {});
		}
		return () => {
			remove();
			if (this.#listeners.has(channel) || !this.#channels.delete(channel)) return;
			this.#subscriber?.unsubscribe(channel).catch(() => {});
		};
	}

	/** One PSUBSCRIBE to the channels of every key under the prefix. */
	subscribeAll(listener: StoreChangeListener): () => void {
		if (this.#closed) return () => {};
		// Wrapped, so one function subscribed twice is two subscriptions, each ended by its own call.
		const wrapped: StoreChangeListener = (key, record) => listener(key, record);
		if (this.#everyKey.size === 0) {
			this.#subscriberConnection()
				.psubscribe(this.#everyKeyPattern())
				.catch(() => {});
		}
		this.#everyKey.add(wrapped);
		return () => {
			if (!this.#everyKey.delete(wrapped) || this.#everyKey.size > 0) return;
			this.#subscriber?.punsubscribe(this.#everyKeyPattern()).catch(() => {});
		};
	}

	/** `{<prefix>*}:changed`, the prefix as `keysFor` writes it, with glob characters escaped. */
	#everyKeyPattern(): string {
		const tag = this.#prefix.replace(/[%}]/g, (c) => encodeURIComponent(c));
		return `{${tag.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*}:changed`;
	}

	/**
	 * Ends the subscribing connection and, when the store made it from a `url`, its client. A
	 * `client` you passed stays open. Calls made after `close()` fail with `unavailable`.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#listeners.clear();
		this.#everyKey.clear();
		this.#channels.clear();
		const subscriber = this.#subscriber;
		this.#subscriber = undefined;
		await Promise.all([
			subscriber === undefined ? undefined : end(subscriber, this.#commandTimeout),
			this.#ownsClient ? end(this.#client, this.#commandTimeout) : undefined,
		]);
	}

	#subscriberConnection(): RedisStoreClient {
		if (this.#subscriber !== undefined) return this.#subscriber;
		// A connection in subscriber mode takes no other command, so it is a duplicate of the client.
		const client = this.#client;
		const subscriber = client.isCluster
			? (client as Cluster).duplicate()
			: (client as Redis).duplicate();
		// Redis down is reported by the commands that fail; the event only needs a listener.
		subscriber.on('error', () => {});
		subscriber.on('message', (channel: string, message: string) => this.#deliver(channel, message));
		subscriber.on('pmessage', (_pattern: string, channel: string, message: string) =>
			this.#deliverToEveryKey(channel, message),
		);
		subscriber.on('ready', () => {
			// ioredis resubscribes what it had, not a SUBSCRIBE that failed while Redis was down.
			// Subscribing twice to a channel is harmless.
			if (this.#channels.size > 0) {
				subscriber.subscribe(...this.#channels).catch(() => {});
			}
			if (this.#everyKey.size > 0) {
				subscriber.psubscribe(this.#everyKeyPattern()).catch(() => {});
			}
		});
		this.#subscriber = subscriber;
		return subscriber;
	}

	#deliver(channel: string, message: string): void {
		if (!this.#listeners.has(channel)) return;
		const record = announced(channel, message);
		if (record !== null) this.#listeners.notify(channel, record);
	}

	#deliverToEveryKey(channel: string, message: string): void {
		// The channel is `{<prefix><key>}:changed` with `%` and `}` percent-encoded (keysFor).
		const tagged = channel.slice(1, -'}:changed'.length).replace(/%25|%7D/g, decodeURIComponent);
		if (!tagged.startsWith(this.#prefix)) return;
		const key = tagged.slice(this.#prefix.length);
		const record = announced(channel, message);
		if (record === null) return;
		for (const listener of this.#everyKey) {
			listener(key, record === undefined ? undefined : structuredClone(record));
		}
	}

	async #unreadable(key: string, value: string, cause: unknown): Promise<never> {
		const { record } = this.keysFor(key);
		const aside = `${record}:corrupt:${Date.now()}`;
		// The record is corrupt whether or not it can be moved: that is the error to report.
		const moved = await this.#run(key, 'move aside', () =>
			this.#eval(MOVE_ASIDE_SCRIPT, [record, aside], [value]),
		).catch(() => undefined);
		const what = `The record under "${key}" is not a valid token record`;
		throw new StorageError(
			moved === 1
				? `${what}; its bytes were moved to "${aside}"`
				: moved === 0
					? `${what} (it has changed since it was read)`
					: `${what}; it is left in place (moving it aside failed)`,
			{ problem: 'corrupt', key },
			cause === undefined ? {} : { cause },
		);
	}

	/**
	 * Sends a write only on a connection that is up, never queued while Redis is away: a queued
	 * write is sent when Redis comes back, after its caller was told it failed (and replayed it
	 * conditionally), and would land over what another context wrote meanwhile. Once `abandoned`
	 * (the caller gave up), nothing is sent.
	 */
	async #sendWhenReady<T>(abandoned: AbortSignal, send: () => Promise<T>): Promise<T> {
		const client = this.#client;
		// A Cluster queues a write while it moves a slot to a promoted replica and sends it there:
		// the refreshed token reaches the new master at once, before other processes refresh with
		// the spent one. A Cluster's failover is a wait, not Redis gone.
		if (client.isCluster) return untilFailedOver(abandoned, send);
		if (client.status !== 'ready') {
			// A store made from a url connects on first use.
			if (client.status === 'wait') client.connect().catch(() => {});
			await new Promise<void>((resolve, reject) => {
				const settle = () => {
					client.off('ready', onReady);
					abandoned.removeEventListener('abort', onAbort);
				};
				const onReady = () => {
					settle();
					resolve();
				};
				const onAbort = () => {
					settle();
					reject(new Error('Not sent: Redis was not connected'));
				};
				client.on('ready', onReady);
				abandoned.addEventListener('abort', onAbort);
			});
		}
		if (abandoned.aborted) throw new Error('Not sent: Redis was not connected');
		return send();
	}

	/** EVALSHA, falling back to EVAL when the server does not have the script cached (NOSCRIPT). */
	async #eval(lua: Script, keys: string[], args: string[]): Promise<unknown> {
		try {
			return await this.#client.evalsha(lua.sha, keys.length, ...keys, ...args);
		} catch (error) {
			// Either way the script did not run: send it whole.
			if (!(error instanceof Error) || !NOSCRIPT.test(error.message)) throw error;
			return this.#client.eval(lua.source, keys.length, ...keys, ...args);
		}
	}

	/**
	 * Runs one command, turning any failure into a `StorageError`. It fails after `commandTimeout`
	 * while Redis cannot be reached; on a connection that is up, Redis is slow rather than down and
	 * the answer is awaited up to `SLOW_COMMAND_LIMIT`: a caller told "unavailable" falls back to
	 * working without the store, which for a lock means a second refresh with a spent token.
	 */
	async #run<T>(
		key: string,
		operation: string,
		command: (abandoned: AbortSignal) => Promise<T>,
	): Promise<T> {
		if (this.#closed) {
			throw new StorageError(`Cannot ${operation} "${key}": the RedisStore is closed`, {
				problem: 'unavailable',
				key,
			});
		}
		const giveUp = new AbortController();
		const pending = command(giveUp.signal);
		// The command may still fail after the timeout has answered for it.
		pending.catch(() => {});
		const started = Date.now();
		let timer: ReturnType<typeof setTimeout> | undefined;
		try {
			for (;;) {
				const tick = new Promise<'tick'>((resolve) => {
					timer = setTimeout(resolve, this.#commandTimeout, 'tick');
				});
				const answer = await Promise.race([pending.then((value) => ({ value })), tick]);
				clearTimeout(timer);
				if (answer !== 'tick') return answer.value;
				const waited = Date.now() - started;
				const { status } = this.#client;
				if (status !== 'ready' || waited >= Math.max(SLOW_COMMAND_LIMIT, this.#commandTimeout)) {
					giveUp.abort();
					throw new Error(`No answer from Redis within ${waited} ms (connection: ${status})`);
				}
			}
		} catch (error) {
			const wrongType = error instanceof Error && error.message.startsWith('WRONGTYPE');
			throw new StorageError(
				wrongType
					? `The Redis key of "${key}" does not hold a string`
					: `Redis could not ${operation} "${key}"`,
				{ problem: wrongType ? 'corrupt' : 'unavailable', key },
				{ cause: error },
			);
		} finally {
			clearTimeout(timer);
		}
	}
}

interface Script {
	source: string;
	sha: string;
}

function script(source: string): Script {
	return { source, sha: createHash('sha1').update(source).digest('hex') };
}

function connect(url: string): Redis {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new InvalidOptionsError('RedisStore url must be an absolute redis: or rediss: URL');
	}
	if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
		throw new InvalidOptionsError('RedisStore url must be an absolute redis: or rediss: URL');
	}
	const client = new Redis(url, {
		// Connect on first use, as an idle store should cost nothing.
		lazyConnect: true,
		// Fail queued commands after one reconnect attempt rather than twenty: a session keeps its
		// token in memory and does better hearing early that Redis is gone.
		maxRetriesPerRequest: 1,
		// A write sent before a connection dropped is not sent again on the next one: its caller
		// may have been told it failed (see #sendWhenReady).
		autoResendUnfulfilledCommands: false,
	});
	client.on('error', () => {});
	return client;
}

/** QUIT, then drop the socket whatever happened: Redis may be gone. */
async function end(connection: RedisStoreClient, timeout: number): Promise<void> {
	if (connection.status !== 'end') {
		let timer: ReturnType<typeof setTimeout> | undefined;
		await Promise.race([
			connection.quit().catch(() => {}),
			new Promise<void>((resolve) => {
				timer = setTimeout(resolve, timeout);
			}),
		]);
		clearTimeout(timer);
	}
	connection.disconnect();
}

/**
 * What a Cluster client rejects a command with while a slot has no master yet: its redirections
 * (about 1.6 s of tries by default) ran out before the failover ended, or the slot's node is gone.
 */
const FAILING_OVER = /^(?:Too many Cluster redirections|Connection is closed|CLUSTERDOWN)/;

/** How long a command waits before it is sent again to a Cluster failing over, in ms. */
const FAILOVER_RETRY = 200;

/**
 * Sends a Cluster command again while the Cluster is failing over, until it is answered or its
 * caller gives up (`#run`: `commandTimeout`, or the slow-command limit while the client is up). A
 * write given up on after ioredis' redirections would leave the refreshed token unsaved while the
 * processes waiting for the lock read the spent one; they end sessions the holder still has.
 */
async function untilFailedOver<T>(abandoned: AbortSignal, send: () => Promise<T>): Promise<T> {
	for (;;) {
		try {
			return await send();
		} catch (error) {
			if (abandoned.aborted || !(error instanceof Error) || !FAILING_OVER.test(error.message)) {
				throw error;
			}
		}
		await delay(FAILOVER_RETRY);
		if (abandoned.aborted) throw new Error('Not sent: the Cluster did not fail over in time');
	}
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The record a change message carries (`undefined` for a delete), or `null` for one that is not a
 * valid record: subscribers have no error channel, and the session meets the record at its next
 * read, which reports it.
 */
function announced(channel: string, message: string): StoredRecord | undefined | null {
	if (message === '') return undefined;
	try {
		const parsed: unknown = JSON.parse(message);
		decodeStoredRecord(parsed, channel);
		return parsed as StoredRecord;
	} catch {
		return null;
	}
}
