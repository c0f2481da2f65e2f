import type { StoreChangeListener, StoredRecord, StoreListener } from './token-store.js';

/** The listeners a store's `subscribe` keeps, by key. */
export class StoreListeners {
	readonly #byKey = new Map<string, Set<StoreListener>>();
	/** The listeners of every key (`subscribeAll`). */
	readonly #everyKey = new Set<StoreChangeListener>();

	/** Adds a listener of `key`; returns what removes it. */
	add(key: string, listener: StoreListener): () => void {
		let listeners = this.#byKey.get(key);
		if (listeners === undefined) {
			listeners = new Set();
			this.#byKey.set(key, listeners);
		}
		listeners.add(listener);
		return () => {
			listeners.delete(listener);
		};
	}

	/** Adds a listener of every key; returns what removes it. */
	addAll(listener: StoreChangeListener): () => void {
		// Wrapped, so one function added twice is two listeners, each removed by its own call.
		const wrapped: StoreChangeListener = (key, record) => listener(key, record);
		this.#everyKey.add(wrapped);
		return () => {
			this.#everyKey.delete(wrapped);
		};
	}

	/** Whether anyone listens to `key`. */
	has(key: string): boolean {
		return this.#everyKey.size > 0 || (this.#byKey.get(key)?.size ?? 0) > 0;
	}

	/** Calls the listeners of `key`, each with a copy of its own, so none can change what another gets. */
	notify(key: string, record: StoredRecord | undefined): void {
		for (const listener of this.#byKey.get(key) ?? []) {
			listener(record === undefined ? undefined : structuredClone(record));
		}
		for (const listener of this.#everyKey) {
			listener(key, record === undefined ? undefined : structuredClone(record));
		}
	}

	clear(): void {
		this.#byKey.clear();
		this.#everyKey.clear();
	}
}
