import type { UseStore } from 'idb-keyval';

/** How long opening the database may wait behind another connection's upgrade, in milliseconds. */
const OPEN_TIMEOUT = 5_000;

/**
 * idb-keyval's `createStore`, as a good neighbour: the connection is closed when another tab
 * upgrades or deletes the database (an open one would hold that up, "blocked"), an open that
 * waits behind such an upgrade fails after `OPEN_TIMEOUT` rather than hanging every call, and a
 * connection closed or lost (`onclose`) is opened again on the next call.
 */
export function openStore(databaseName: string, objectStoreName: string): UseStore {
	let opening: Promise<IDBDatabase> | undefined;
	const open = (): Promise<IDBDatabase> => {
		if (opening !== undefined) return opening;
		const attempt = new Promise<IDBDatabase>((resolve, reject) => {
			const request = indexedDB.open(databaseName);
			request.onupgradeneeded = () => request.result.createObjectStore(objectStoreName);
			const timer = setTimeout(() => {
				forget();
				reject(new Error('IndexedDB open blocked'));
			}, OPEN_TIMEOUT);
			request.onerror = () => {
				clearTimeout(timer);
				forget();
				reject(request.error);
			};
			request.onsuccess = () => {
				clearTimeout(timer);
				const db = request.result;
				// Given up on: the next call has opened, or will open, its own.
				if (opening !== attempt) return db.close();
				db.onversionchange = () => {
					db.close();
					forget();
				};
				db.onclose = forget;
				resolve(db);
			};
		});
		const forget = () => {
			if (opening === attempt) opening = undefined;
		};
		opening = attempt;
		return attempt;
	};
	return (mode, callback) =>
		open().then((db) =>
			callback(db.transaction(objectStoreName, mode).objectStore(objectStoreName)),
		);
}
