import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import type { Token } from '../protocol/token.js';
import type { DPoPNonces } from './dpop-nonces.js';
import { Emitter, type OAuth2SessionEvents } from './events.js';
import { internalsOf } from './internals.js';
import { OAuth2Session } from './oauth2-session.js';
import {
	type NormalizedOAuth2SessionOptions,
	normalizeOptions,
	type OAuth2SessionOptions,
} from './options.js';
import { type UserSetup, userSetup } from './session-setup.js';

/**
 * Options of `new OAuth2Client(...)`: those of `OAuth2Session` but what belongs to one user (the
 * token and its store key) or to a long-lived session (background refresh). Only `clientId` is
 * required.
 */
export interface OAuth2ClientOptions
	extends Omit<
		OAuth2SessionOptions,
		'token' | 'storeKey' | 'proactiveRefresh' | 'refreshTokenWarning' | 'onTokenUpdated'
	> {
	/**
	 * Called with each token a user's session obtains (refresh or `fetchToken`), and the user's
	 * key, after it is saved to `store`. A rejection is reported as a `storeError` event.
	 */
	onTokenUpdated?: ((token: Token, key: string) => void | Promise<void>) | undefined;
	/**
	 * The most users whose session (token, refresh state, listeners) is kept in memory. Beyond it,
	 * the least recently used (to within a second) is dropped; its next `client.session(key)` reads
	 * the store again.
	 * @default 10_000
	 */
	maxCachedSessions?: number | undefined;
	/**
	 * How long a user's session stays in memory after the last `client.session(key)`, in
	 * milliseconds. The store stays the truth: a session dropped is read again when needed.
	 * @default 600_000 (10 minutes)
	 */
	cacheIdleTimeout?: number | undefined;
}

/** The events an `OAuth2Client` emits: every user's session events, with the user's key. */
export type OAuth2ClientEvents = {
	[E in keyof OAuth2SessionEvents]: OAuth2SessionEvents[E] & {
		/** The key of the user whose session emitted the event. */
		key: string;
	};
};

/** A listener of the `OAuth2Client` event `E`. */
export type OAuth2ClientListener<E extends keyof OAuth2ClientEvents> = (
	event: OAuth2ClientEvents[E],
) => void;

/** A user's session emitter that tells the client's listeners too, with the user's key. */
class UserEmitter extends Emitter<OAuth2SessionEvents> {
	readonly #client: Emitter<OAuth2ClientEvents>;
	readonly #key: string;

	constructor(client: Emitter<OAuth2ClientEvents>, key: string) {
		super();
		this.#client = client;
		this.#key = key;
	}

	override emit<E extends keyof OAuth2SessionEvents>(name: E, event: OAuth2SessionEvents[E]): void {
		this.#client.emit(name, { ...event, key: this.#key } as OAuth2ClientEvents[E]);
		super.emit(name, event);
	}
}

/** The cache's defaults. */
const cacheDefaults = { maxCachedSessions: 10_000, cacheIdleTimeout: 600_000 } as const;

/** How often, at most, `session()` looks for idle sessions to drop, in milliseconds. */
const SWEEP_INTERVAL = 1_000;

/**
 * How long a user's place in the cache's order stands, in milliseconds: the order, and so the idle
 * time of a session, is this coarse.
 */
const REORDER_INTERVAL = 1_000;

interface CachedSession {
	readonly session: OAuth2Session;
	usedAt: number;
}

/**
 * An OAuth 2 client for many users, as a web server has: the client's options (its id and
 * authentication, endpoints, allowed origins, store, refresh policy) are worked out once, and
 * `client.session(key)` gives one user's `OAuth2Session` over them.
 *
 * A user's session is cheap to make and to drop: it runs no timer (a web app refreshes when a
 * request needs it) and holds no store subscription (the client holds one, through the store's
 * `subscribeAll`, for all users). Sessions of users not seen for `cacheIdleTimeout`, or beyond
 * `maxCachedSessions`, are dropped from memory; the store stays the truth. Two requests of one user
 * that find the token expired make one refresh, across processes sharing the store, through its
 * lock.
 *
 * With `dpop: true`, each user's tokens are bound to a DPoP key of their own, stored with the
 * user's record; the nonces servers give are the servers', shared by every user's session: a
 * burst of users to a server not heard from yet costs one `use_dpop_nonce` refusal, not one each.
 *
 * @example
 * ```ts
 * const client = new OAuth2Client({
 *   clientId: 'web-app', clientSecret: process.env.CLIENT_SECRET,
 *   tokenEndpoint: 'https://auth.example.com/token',
 *   allowedOrigins: ['https://api.example.com'],
 *   store: new PostgresStore({ pool }),
 * });
 * // In a request handler, for the signed-in user:
 * const res = await client.session(user.id).fetch('https://api.example.com/me');
 * ```
 */
export class OAuth2Client {
	/** The options every user's session works from, normalised once. */
	readonly #options: NormalizedOAuth2SessionOptions;
	/** The sessions in memory, least recently used first (a Map keeps insertion order). */
	readonly #cache = new Map<string, CachedSession>();
	readonly #maxCached: number;
	readonly #idleTimeout: number;
	readonly #events = new Emitter<OAuth2ClientEvents>();
	/** With `dpop`: the servers' nonces, shared by every user's session (loaded with the first). */
	#dpopNonces: Promise<DPoPNonces> | undefined;
	#nextSweep = 0;
	#unsubscribe: (() => void) | undefined;
	#closed = false;

	constructor(options: OAuth2ClientOptions) {
		const {
			maxCachedSessions = cacheDefaults.maxCachedSessions,
			cacheIdleTimeout = cacheDefaults.cacheIdleTimeout,
			...sessionOptions
		} = options ?? ({} as OAuth2ClientOptions);
		if (!Number.isInteger(maxCachedSessions) || maxCachedSessions < 1) {
			throw new InvalidOptionsError('maxCachedSessions must be an integer, 1 or more');
		}
		if (typeof cacheIdleTimeout !== 'number' || !(cacheIdleTimeout >= 0)) {
			throw new InvalidOptionsError('cacheIdleTimeout must be a number of milliseconds, 0 or more');
		}
		this.#maxCached = maxCachedSessions;
		this.#idleTimeout = cacheIdleTimeout;
		// What belongs to one user or to a long-lived session has no meaning here, even from
		// JavaScript callers that pass it anyway.
		const {
			token: _token,
			storeKey: _storeKey,
			...shared
		} = sessionOptions as OAuth2SessionOptions;
		this.#options = normalizeOptions({ ...shared, proactiveRefresh: false });
	}

	/**
	 * The session of the user under `key` (their record's key in the store: a user id, or the
	 * web framework's session id): the one in memory, or a new one that reads the store.
	 * Call it for each request rather than keeping it: a session dropped from memory still works,
	 * but no longer hears other processes' tokens until its next refresh.
	 *
	 * @throws {InvalidOptionsError} `key` is not a non-empty string.
	 */
	session(key: string): OAuth2Session {
		const now = Date.now();
		if (now >= this.#nextSweep) this.#dropIdle(now);
		let cached = this.#cache.get(key);
		if (cached !== undefined) {
			// Moved to the end, the cache being in order of last use; a user seen within the last
			// REORDER_INTERVAL keeps its place: a Map's delete and set cost more than its get.
			if (now - cached.usedAt >= REORDER_INTERVAL) {
				this.#cache.delete(key);
				cached.usedAt = now;
				this.#cache.set(key, cached);
			}
			return cached.session;
		}
		if (typeof key !== 'string' || key === '') {
			throw new InvalidOptionsError("client.session() needs the user's key, a non-empty string");
		}
		this.#subscribe();
		const place = { storeKey: key, events: new UserEmitter(this.#events, key) };
		// OAuth2Session takes a UserSetup in place of options: see its constructor.
		// A nonce one user's request learnt is the server's: every other user's requests carry it.
		if (this.#options.dpop !== undefined) {
			this.#dpopNonces ??= import('./dpop-nonces.js').then(({ DPoPNonces }) => new DPoPNonces());
		}
		const setup: UserSetup = { options: this.#options, place, dpopNonces: this.#dpopNonces };
		const session = new OAuth2Session({ [userSetup]: setup } as unknown as OAuth2SessionOptions);
		cached = { session, usedAt: now };
		this.#cache.set(key, cached);
		if (this.#cache.size > this.#maxCached) {
			const oldest = this.#cache.keys().next().value;
			if (oldest !== undefined) this.#cache.delete(oldest);
		}
		return session;
	}

	/** How many users' sessions are in memory now. */
	get cachedSessions(): number {
		return this.#cache.size;
	}

	/**
	 * Listens to an event of every user's session, with the user's `key`: `tokenUpdated`,
	 * `refreshFailed`, `sessionEnded`, `tokenLifetimeClamped`, `storeError`. Returns a function that
	 * removes the listener.
	 */
	on<E extends keyof OAuth2ClientEvents>(name: E, listener: OAuth2ClientListener<E>): () => void {
		return this.#events.on(name, listener);
	}

	/** Removes a listener. */
	off<E extends keyof OAuth2ClientEvents>(name: E, listener: OAuth2ClientListener<E>): void {
		this.#events.off(name, listener);
	}

	/**
	 * Ends the client's store subscription and drops every session from memory. Sessions still
	 * answer calls; the store you passed is yours to close.
	 */
	close(): void {
		this.#closed = true;
		this.#unsubscribe?.();
		this.#unsubscribe = undefined;
		this.#cache.clear();
	}

	/** One subscription for every user, made with the first session. */
	#subscribe(): void {
		if (this.#unsubscribe !== undefined || this.#closed) return;
		const { store } = this.#options;
		this.#unsubscribe = store.subscribeAll?.((key, record) => {
			const cached = this.#cache.get(key);
			// A user not in memory reads the store when next seen: nothing to tell.
			if (cached !== undefined) internalsOf(cached.session).storeChanged(record);
		});
	}

	/**
	 * Drops the sessions not used for `cacheIdleTimeout` (give or take REORDER_INTERVAL): the oldest
	 * come first.
	 */
	#dropIdle(now: number): void {
		this.#nextSweep = now + Math.min(SWEEP_INTERVAL, this.#idleTimeout);
		const idleSince = now - this.#idleTimeout;
		for (const [key, cached] of this.#cache) {
			if (cached.usedAt > idleSince) break;
			this.#cache.delete(key);
		}
	}
}
