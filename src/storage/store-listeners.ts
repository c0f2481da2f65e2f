import type { StoredRecord, StoreListener } from './token-store.js';

/** The listeners a store's `subscribe` keeps, by key. */
export class StoreListeners {
	readonly #byKey = new Map<string, Set<StoreListener>>();

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

	/** Whether anyone listens to `key`. */
	has(key: string): boolean {
		return (this.#byKey.get(key)?.size ?? 0) > 0;
	}

	/** Calls the listeners of `key`, each with a copy of its own, so none can change what another gets. */
	notify(key: string, record: StoredRecord | undefined): void {
		for (const listener of this.#byKey.get(key) ?? []) {
			listener(record === undefined ? undefined : structuredClone(record));
		}
	}

	clear(): void {
		this.#byKey.clear();
	}
}
