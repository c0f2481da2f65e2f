// Loaded by TokenKeeper on the first save a store could not take: most sessions never need it.
import { StorageError } from '../errors/storage-error.js';
import type { Token } from '../protocol/token.js';
import { type StoredRecord, setIfUnchanged, type TokenStore } from '../storage/token-store.js';
import { scheduleAt } from './timer.js';

/** Bounds of the wait between two tries to save a token the store could not take, in ms. */
const RETRY_MIN = 500;
const RETRY_MAX = 5_000;

/** What an `UnsavedToken` needs of its session's keeper. */
export interface UnsavedTokenHost {
	readonly store: TokenStore;
	/** The store key of the record. */
	readonly key: string;
	/** The record a save writes for a token. */
	encode(token: Token): StoredRecord;
	/** The lock options a write under the store's lock takes. */
	readonly lock: { ttl: number; waitTimeout: number };
	/**
	 * Takes what the store holds after it refused the token: resolves `false` when it holds none
	 * (the session ended elsewhere, and the keeper ended it here), `true` otherwise.
	 */
	refused(): Promise<boolean>;
	/** Takes note of the access token the store now holds, once the waiting token is written. */
	saved(accessToken: string): void;
	/** Reports a store failure as a `storeError` of a save. */
	report(error: unknown): void;
	/** Marks the access token being written (its notification is our own echo) or none. */
	writing(accessToken: string | undefined): void;
}

/**
 * A token a save could not write while the store was unavailable, written once it is back: only
 * if the store still holds what it replaces (checked on the store's side, `setIfUnchanged`), so
 * never over a token another context wrote meanwhile; that is reported as a `conflict` and the
 * other token used. One try at a time, on requests and on a timer; while the store stays down the
 * token is kept for the next try.
 */
export class UnsavedToken {
	readonly #host: UnsavedTokenHost;
	#pending: { token: Token; replaces: string | undefined } | undefined;
	#saving: Promise<void> | undefined;
	/** Tries failed in a row: each doubles the wait for the next. */
	#tries = 0;
	#cancelRetry: (() => void) | undefined;

	constructor(host: UnsavedTokenHost) {
		this.#host = host;
	}

	/** Whether a token waits to be saved. */
	get pending(): boolean {
		return this.#pending !== undefined;
	}

	/**
	 * Keeps `token` to save it later, over `replaces` (the access token the store held when the
	 * save failed) or, when one already waits, over what that one replaces.
	 */
	keep(token: Token, replaces: string | undefined): void {
		// What one waiting already replaces, even none: a first sign-in stays one.
		this.#pending = {
			token,
			replaces: this.#pending === undefined ? replaces : this.#pending.replaces,
		};
		this.#retryLater();
	}

	/** Forgets the token: saved, superseded, or the session ended. */
	drop(): void {
		this.#pending = undefined;
		this.#tries = 0;
		this.#cancelRetry?.();
		this.#cancelRetry = undefined;
	}

	/** Another context wrote the record: the token waiting is superseded, and that is reported. */
	superseded(): void {
		this.drop();
		const { key } = this.#host;
		this.#host.report(
			new StorageError(
				`The token refreshed or set while the store was unavailable was not saved: the record under "${key}" was written by another context meanwhile, and is kept`,
				{ problem: 'conflict', key },
			),
		);
	}

	/** Tries to save the waiting token now (one try at a time). */
	save(): Promise<void> {
		if (this.#pending === undefined) return Promise.resolve();
		this.#saving ??= this.#write().finally(() => {
			this.#saving = undefined;
		});
		return this.#saving;
	}

	async #write(): Promise<void> {
		const pending = this.#pending;
		if (pending === undefined) return;
		const host = this.#host;
		let written: boolean;
		host.writing(pending.token.accessToken);
		try {
			written = await setIfUnchanged(
				host.store,
				host.key,
				host.encode(pending.token),
				pending.replaces,
				host.lock,
			);
		} catch (error) {
			// Still down: reported once already, when the save failed.
			if (error instanceof StorageError && error.problem === 'unavailable') {
				this.#retryLater();
				return;
			}
			if (this.#pending === pending) this.drop();
			host.report(error);
			return;
		} finally {
			host.writing(undefined);
		}
		if (!written) {
			if (this.#pending === undefined) return;
			this.drop();
			if (await host.refused()) this.superseded();
			return;
		}
		host.saved(pending.token.accessToken);
		// A later save that failed meanwhile now replaces this one.
		if (this.#pending === pending) this.drop();
		else if (this.#pending !== undefined) this.#pending.replaces = pending.token.accessToken;
	}

	/**
	 * Tries again without waiting for a request: until the token is saved, the other contexts read
	 * the one it replaced, whose refresh token may be spent.
	 */
	#retryLater(): void {
		this.#cancelRetry?.();
		const wait = Math.min(RETRY_MIN * 2 ** this.#tries++, RETRY_MAX);
		this.#cancelRetry = scheduleAt(Date.now() + wait, () => {
			void this.save();
		});
	}
}
