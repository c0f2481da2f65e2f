import { MemoryStore } from '../../src/storage/memory.js';
import type {
	LockOptions,
	StoreChangeListener,
	StoredRecord,
	StoreListener,
	TokenStore,
} from '../../src/storage/token-store.js';

/**
 * A MemoryStore with `subscribeAll`, as the server stores have (MemoryStore leaves it out: one
 * process's users share one client), for OAuth2Client tests in one process. Counts subscriptions.
 */
export class EveryKeyStore implements TokenStore {
	readonly subscriptions = { subscribe: 0, subscribeAll: 0 };
	readonly #memory = new MemoryStore();
	readonly #everyKey = new Set<StoreChangeListener>();

	get(key: string): Promise<StoredRecord | undefined> {
		return this.#memory.get(key);
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		await this.#memory.set(key, record);
		this.#tell(key, record);
	}

	async delete(key: string): Promise<void> {
		await this.#memory.delete(key);
		this.#tell(key, undefined);
	}

	lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		return this.#memory.lock(key, fn, options);
	}

	subscribe(key: string, listener: StoreListener): () => void {
		this.subscriptions.subscribe++;
		return this.#memory.subscribe(key, listener);
	}

	subscribeAll(listener: StoreChangeListener): () => void {
		this.subscriptions.subscribeAll++;
		const wrapped: StoreChangeListener = (key, record) => listener(key, record);
		this.#everyKey.add(wrapped);
		return () => {
			this.#everyKey.delete(wrapped);
		};
	}

	#tell(key: string, record: StoredRecord | undefined): void {
		for (const listener of this.#everyKey) {
			listener(key, record === undefined ? undefined : structuredClone(record));
		}
	}
}
