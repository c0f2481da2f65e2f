import { promisifyRequest, type UseStore } from 'idb-keyval';
import { StorageError } from '../../errors/storage-error.js';

/**
 * Reads the value under `key` and lets `change` write to the object store, all inside one
 * readwrite transaction (idb-keyval's `update`, with the object store at hand so a change can
 * touch more than one key). Readwrite transactions on one object store run one at a time across
 * every tab, which is what makes a read-then-write decision here safe.
 */
export function readModifyWrite(
	useStore: UseStore,
	key: IDBValidKey,
	change: (store: IDBObjectStore, current: unknown) => void,
): Promise<void> {
	return useStore(
		'readwrite',
		(store) =>
			new Promise<void>((resolve, reject) => {
				const request = store.get(key);
				request.onerror = () => reject(request.error);
				request.onsuccess = () => {
					try {
						change(store, request.result);
					} catch (error) {
						reject(error);
						store.transaction.abort();
						return;
					}
					promisifyRequest(store.transaction).then(() => resolve(), reject);
				};
			}),
	);
}

/**
 * Runs an IndexedDB operation and turns whatever it throws (quota exceeded, a missing object
 * store, no IndexedDB at all) into a `StorageError` naming the key.
 */
export async function unavailableOnError<T>(
	key: string,
	operation: string,
	run: () => Promise<T>,
): Promise<T> {
	try {
		return await run();
	} catch (error) {
		if (error instanceof StorageError) throw error;
		throw new StorageError(
			`The IndexedDB store could not ${operation} the record under "${key}"`,
			{ problem: 'unavailable', key },
			{ cause: error ?? undefined },
		);
	}
}

/** The error of a lock not taken in time. */
export function lockTimeout(key: string): StorageError {
	return new StorageError(`Timed out waiting for the lock on "${key}"`, {
		problem: 'lock-timeout',
		key,
	});
}

/** Resolves when `promise` settles, either way, or after `ms`, whichever comes first. */
export function settledOrElapsed(promise: Promise<unknown>, ms: number): Promise<void> {
	return new Promise((resolve) => {
		const timer = setTimeout(resolve, ms);
		const done = () => {
			clearTimeout(timer);
			resolve();
		};
		promise.then(done, done);
	});
}
