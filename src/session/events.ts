import type { OAuth2Error } from '../errors/oauth2-error.js';
import type { ReauthenticationRequiredError } from '../errors/reauthentication-required-error.js';
import type { StorageError } from '../errors/storage-error.js';
import type { Token } from '../protocol/token.js';

/** Where a new token came from. */
export type TokenSource = 'refresh' | 'fetch' | 'set' | 'store';

/** The events an `OAuth2Session` emits, and what each listener receives. */
export interface OAuth2SessionEvents {
	/** The session holds a new token. `scopeChanged` is set when the granted scopes differ. */
	tokenUpdated: {
		token: Token;
		previous: Token | undefined;
		source: TokenSource;
		scopeChanged: { previous: readonly string[]; current: readonly string[] } | undefined;
	};
	/**
	 * A refresh failed but the session goes on: the tokens are kept, and the current access token
	 * is used while it is valid. `error` is a `TokenRequestError`, `TokenResponseError` or an OAuth
	 * error answer other than the ones that end a session.
	 */
	refreshFailed: { error: OAuth2Error; retryAt: number };
	/**
	 * The refresh token itself will expire soon (`refresh_expires_in`, `refresh_token_expires_in`):
	 * once it has, the session ends. Ask the user to sign in again before `expiresAt`.
	 */
	refreshTokenExpiring: { token: Token; expiresAt: number };
	/** The session has ended: the token is cleared (also from the store). Sign the user in again. */
	sessionEnded: { error: ReauthenticationRequiredError };
	/** The store failed; the session keeps working with the token in memory. */
	storeError: {
		error: StorageError;
		operation: 'get' | 'set' | 'delete' | 'lock' | 'notify' | 'onTokenUpdated';
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

	clear(): void {
		this.#listeners.clear();
	}
}
