import type { OAuth2Error } from '../errors/oauth2-error.js';
import type { ReauthenticationRequiredError } from '../errors/reauthentication-required-error.js';
import type { StorageError } from '../errors/storage-error.js';
import type { TokenResponseError } from '../errors/token-response-error.js';
import type { Token } from '../protocol/token.js';

/**
 * Where a new token came from:
 * - `refresh`: this session refreshed it with the refresh token;
 * - `fetch`: `fetchToken()`, or a renewal with the session's `grant` (client credentials...);
 * - `set`: `setToken()`;
 * - `store`: another context sharing the store wrote it.
 */
export type TokenSource = 'refresh' | 'fetch' | 'set' | 'store';

/**
 * Why a refresh was asked for:
 * - `expired`: a request found the token due (or the session had none, with a `grant`);
 * - `unauthorized`: the API answered 401 and its challenge blamed the token;
 * - `proactive`: the background timer, shortly before expiry;
 * - `manual`: `session.refreshToken()`.
 */
export type RefreshReason = 'expired' | 'unauthorized' | 'proactive' | 'manual';

/**
 * How a refresh ended:
 * - `success`: this session got a new token from the token endpoint;
 * - `adopted`: another context sharing the store had refreshed already; its token was taken;
 * - `failed`: no new token; the session goes on (see `refreshFailed`);
 * - `ended`: the server refused the grant; the session has ended (see `sessionEnded`).
 */
export type RefreshOutcome = 'success' | 'adopted' | 'failed' | 'ended';

/**
 * How a wait for the store's lock ended: `acquired`; `timeout` or `unavailable` (the session then
 * refreshed without the lock); `failed` (the store threw something else: the refresh failed).
 */
export type LockWaitOutcome = 'acquired' | 'timeout' | 'unavailable' | 'failed';

/** The events an `OAuth2Session` emits, and what each listener receives. */
export interface OAuth2SessionEvents {
	/** The session holds a new token. `scopeChanged` is set when the granted scopes differ. */
	tokenUpdated: {
		/** The token the session now uses. */
		token: Token;
		/** The token it replaced; `undefined` for the first token, and the first after an end. */
		previous: Token | undefined;
		/** Where the token came from. */
		source: TokenSource;
		/** `undefined` when the scopes are the same set, or either token does not say its scopes. */
		scopeChanged:
			| {
					/** The scopes of `previous`. */
					previous: readonly string[];
					/** The scopes of `token`. */
					current: readonly string[];
			  }
			| undefined;
	};
	/**
	 * A refresh failed but the session goes on: the tokens are kept, and the current access token
	 * is used while it is valid. `error` is a `TokenRequestError`, `TokenResponseError` or an OAuth
	 * error answer other than the ones that end a session.
	 */
	refreshFailed: {
		/**
		 * Why it failed. An error that is not this library's (thrown by a hook, say) is wrapped in an
		 * `OAuth2Error` with code `TOKEN_REQUEST_FAILED` and kept as its `cause`.
		 */
		error: OAuth2Error;
		/**
		 * The end of the back-off, in epoch milliseconds (now + `refreshBackoff`, doubled for each
		 * failure in a row, up to 64 times). Until then, requests use the current token while it is
		 * valid and fail with a `backoff` `TokenRequestError` once it is not; with `proactiveRefresh`
		 * in `auto` mode, the session tries again at that time.
		 */
		retryAt: number;
	};
	/**
	 * The refresh token itself will expire soon (`refresh_expires_in`, `refresh_token_expires_in`):
	 * once it has, the session ends. Ask the user to sign in again before `expiresAt`.
	 */
	refreshTokenExpiring: {
		/** The session's current token, whose refresh token expires. */
		token: Token;
		/** When the refresh token expires, in epoch milliseconds. */
		expiresAt: number;
	};
	/** The session has ended: the token is cleared (also from the store). Sign the user in again. */
	sessionEnded: {
		/**
		 * Why it ended. When the server refused the refresh, its answer (such as `invalid_grant`) is
		 * the `cause`.
		 */
		error: ReauthenticationRequiredError;
	};
	/**
	 * A new token was already expired, or due for refresh within `minRefreshInterval`, by what the
	 * server said (`expires_in` of `-1`, `0.001`): the session uses it until `expiresAt` rather
	 * than refresh again at once. The server or its clock is misconfigured.
	 */
	tokenLifetimeClamped: {
		/** What was wrong with the answer (problem `invalid-field`). */
		error: TokenResponseError;
		/** The expiry the session uses instead, in epoch milliseconds. */
		expiresAt: number;
	};
	/** The store failed; the session keeps working with the token in memory. */
	storeError: {
		/**
		 * What failed. A store's own `StorageError` as it was thrown; any other error is wrapped in
		 * one with problem `unavailable` and kept as its `cause`.
		 */
		error: StorageError;
		/**
		 * What the session was doing:
		 * - `get`: reading the token (at start, or before a refresh);
		 * - `set`: saving a new token;
		 * - `delete`: clearing the token when the session ended (`logout()` included);
		 * - `lock`: taking or releasing the lock; when taking it failed, the session refreshed
		 *   without it;
		 * - `notify`: decoding a record another context wrote; it is ignored;
		 * - `onTokenUpdated`: the `onTokenUpdated` callback threw.
		 */
		operation: 'get' | 'set' | 'delete' | 'lock' | 'notify' | 'onTokenUpdated';
	};
	/**
	 * A refresh starts: one per refresh, however many requests share it. Telemetry; in Node the
	 * same is traced on the `oauth2-session:refresh` diagnostics channel.
	 */
	refreshStarted: {
		/** Why it was asked for. */
		reason: RefreshReason;
		/** The origin of the `resources` API whose token it gets; `undefined` for the session's own. */
		resource: string | undefined;
	};
	/** A refresh ended, its wait for the store's lock included. Telemetry. */
	refreshFinished: {
		/** Why it was asked for. */
		reason: RefreshReason;
		/** The origin of the `resources` API whose token it got; `undefined` for the session's own. */
		resource: string | undefined;
		/** How it ended. */
		outcome: RefreshOutcome;
		/** How long it took, in milliseconds. */
		durationMs: number;
		/** What it failed with (`failed`, `ended`), as its callers get it; usually an `OAuth2Error`. */
		error: unknown;
	};
	/**
	 * A refresh waited for the store's lock (stores with `lock` only). Telemetry; in Node the same
	 * is published on the `oauth2-session:lock` diagnostics channel, with the `storeKey`.
	 */
	lockWaited: {
		/** How the wait ended. */
		outcome: LockWaitOutcome;
		/** How long it took, in milliseconds. */
		durationMs: number;
	};
}

/** A listener of event `E`. */
export type OAuth2SessionListener<E extends keyof OAuth2SessionEvents> = (
	event: OAuth2SessionEvents[E],
) => void;

/** A small typed emitter. A listener that throws is reported as an uncaught error, as EventTarget does. */
export class Emitter<Events> {
	readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();

	on<E extends keyof Events>(name: E, listener: (event: Events[E]) => void): () => void {
		let set = this.#listeners.get(name);
		if (set === undefined) {
			set = new Set();
			this.#listeners.set(name, set);
		}
		set.add(listener as (event: never) => void);
		return () => this.off(name, listener);
	}

	off<E extends keyof Events>(name: E, listener: (event: Events[E]) => void): void {
		this.#listeners.get(name)?.delete(listener as (event: never) => void);
	}

	emit<E extends keyof Events>(name: E, event: Events[E]): void {
		for (const listener of this.#listeners.get(name) ?? []) {
			try {
				(listener as (event: Events[E]) => void)(event);
			} catch (error) {
				// A bug in a listener must not break the refresh that emitted, nor vanish.
				setTimeout(() => {
					throw error;
				}, 0);
			}
		}
	}
}
