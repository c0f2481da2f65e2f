import { StorageError } from '../errors/storage-error.js';
import { StoreListeners } from './store-listeners.js';
import {
	type LockOptions,
	refuseToReplaceNewer,
	type StoredRecord,
	type StoreListener,
	type TokenStore,
} from './token-store.js';

/**
 * A store in this context's memory: the default when no store is given, and a reference for
 * writing stores. Its lock and notifications reach every session sharing this instance
 * (not other tabs or processes).
 */
export class MemoryStore implements TokenStore {
	readonly #records = new Map<string, StoredRecord>();
	readonly #locks = new Map<string, Promise<void>>();
	readonly #listeners = new StoreListeners();
	/** Records are structured clones: a DPoP key pair is kept as it is, not as a JWK. */
	readonly keepsCryptoKeys = true;

	async get(key: string): Promise<StoredRecord | undefined> {
		const record = this.#records.get(key);
		// A copy, so a caller changing what it got cannot change what is stored.
		return record === undefined ? undefined : structuredClone(record);
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		refuseToReplaceNewer(this.#records.get(key), key);
		this.#records.set(key, structuredClone(record));
		this.#listeners.notify(key, record);
	}

	async delete(key: string): Promise<void> {
		this.#records.delete(key);
		this.#listeners.notify(key, undefined);
	}

	async lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		const deadline = Date.now() + options.waitTimeout;
		// Wait for whoever holds the lock; several waiters each re-check after the holder leaves.
		for (let held = this.#locks.get(key); held !== undefined; held = this.#locks.get(key)) {
			const left = deadline - Date.now();
			if (left <= 0 || !(await settlesWithin(held, left))) {
				throw new StorageError(`Timed out waiting for the lock on "${key}"`, {
					problem: 'lock-timeout',
					key,
				});
			}
		}
		let release!: () => void;
		const held = new Promise<void>((resolve) => {
			release = resolve;
		});
		this.#locks.set(key, held);
		// The ttl frees the lock even if fn never settles, as a crashed holder would elsewhere.
		const expiry = setTimeout(() => {
			if (this.#locks.get(key) === held) this.#locks.delete(key);
			release();
		}, options.ttl);
		try {
			return await fn();
		} finally {
			clearTimeout(expiry);
			if (this.#locks.get(key) === held) this.#locks.delete(key);
			release();
		}
	}

	subscribe(key: string, listener: StoreListener): () => void {
		return this.#listeners.add(key, listener);
	}
}

function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), ms);
		promise.then(() => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}
