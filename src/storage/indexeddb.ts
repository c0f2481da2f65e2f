// The browser entry `oauth2-session/storage/indexeddb`: tabs and workers of one origin share a token.
import { get, type UseStore } from 'idb-keyval';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { StorageError } from '../errors/storage-error.js';
import type { RecordCipher } from './indexeddb/cipher.js';
import { openStore } from './indexeddb/connection.js';
import { isAesGcmKey, isSealedRecord, type SealedRecord } from './indexeddb/sealed-record.js';
import { readModifyWrite, unavailableOnError } from './indexeddb/transaction.js';
import { withWebLock } from './indexeddb/web-lock.js';
import { StoreListeners } from './store-listeners.js';
import {
	decodeStoredRecord,
	type LockOptions,
	MAX_RECORD_BYTES,
	refuseToReplaceNewer,
	type StoredRecord,
	type StoreListener,
	type TokenStore,
} from './token-store.js';

/** Options of `new IndexedDBStore(...)`. All are optional. */
export interface IndexedDBStoreOptions {
	/**
	 * The IndexedDB database the records are kept in. Give the store a database of its own:
	 * the object store is created only when the database is created.
	 * @default 'oauth2-session'
	 * @example new IndexedDBStore({ databaseName: 'my-app-auth' })
	 */
	databaseName?: string | undefined;
	/**
	 * The object store inside the database.
	 * @default 'tokens'
	 * @example new IndexedDBStore({ objectStoreName: 'sessions' })
	 */
	objectStoreName?: string | undefined;
	/**
	 * The BroadcastChannel that tells other tabs and workers of the origin about writes. Stores on
	 * other databases may share it: a message names its database and object store.
	 * @default 'oauth2-session'
	 * @example new IndexedDBStore({ channelName: 'my-app-auth' })
	 */
	channelName?: string | undefined;
	/**
	 * Encrypts records at rest with AES-GCM (256-bit key, a fresh 96-bit IV per write, the record's
	 * key bound as additional data). `true` generates a non-extractable key once per database and
	 * keeps it in the database; `{ key }` uses a 256-bit AES-GCM key of yours (allowed to encrypt and
	 * decrypt), kept wherever you like.
	 *
	 * What it protects against: token text showing up where stored values are read without this
	 * library: a dump or export of IndexedDB's values, a search of the profile's files or of a
	 * disk image for token strings, tools that read IndexedDB's database files.
	 *
	 * What it does not protect against:
	 * - Script running in the origin (XSS, a compromised dependency): it can call the store, or use
	 *   the key, to decrypt. Non-extractable only stops it from exporting the key's bytes.
	 * - With `true`, a reader of the profile's files who knows where to look: the key is kept in the
	 *   same database, and browsers write a CryptoKey's material into the database files, non-
	 *   extractable or not (seen in Chromium's IndexedDB files). Against a copied profile, pass a
	 *   key that is not kept in it, such as one unwrapped after login from a secret your server holds.
	 *
	 * Needs WebCrypto, which browsers offer only in secure contexts.
	 * A record written without encryption is still read, and is encrypted at its next write.
	 * @default false
	 * @example new IndexedDBStore({ encryption: true })
	 * @example new IndexedDBStore({ encryption: { key: await loadMyAesGcmKey() } })
	 */
	encryption?:
		| boolean
		| {
				/**
				 * An AES-GCM key with `encrypt` and `decrypt` usages; best non-extractable. Records
				 * written with another key fail to decrypt, and `get` throws a `StorageError` (`corrupt`).
				 */
				key: CryptoKey;
		  }
		| undefined;
}

/** Which lock an `IndexedDBStore` uses. */
export type IndexedDBLockKind = 'web-locks' | 'lease';

interface NormalizedIndexedDBStoreOptions {
	databaseName: string;
	objectStoreName: string;
	channelName: string;
	encryption: false | 'generated' | CryptoKey;
}

const defaults = {
	databaseName: 'oauth2-session',
	objectStoreName: 'tokens',
	channelName: 'oauth2-session',
	encryption: false,
} as const satisfies Partial<NormalizedIndexedDBStoreOptions>;

/** What one store tells the others on the channel; `value` is what was written, as stored. */
interface ChangeMessage {
	type: 'oauth2-session:changed';
	database: string;
	objectStore: string;
	key: string;
	value: StoredRecord | SealedRecord | undefined;
}

/** Where an unreadable record is moved before it is replaced: an array key, never a record's. */
const unreadableKey = (key: string): IDBValidKey => ['unreadable', key];

/**
 * A token store in IndexedDB, for browsers and workers: every tab of an origin shares the token,
 * refreshes it once per expiry and hears about the new one.
 *
 * - Lock: a Web Lock (`navigator.locks`), released by the browser when its tab dies. Where Web
 *   Locks are missing (older browsers, insecure contexts), a lease record with an expiry taken in
 *   a readwrite transaction; a dead holder's lease then blocks the others until its `ttl` ends.
 *   `lockKind` tells which. All contexts of an origin use the same kind.
 * - Notifications: a BroadcastChannel message after each write and delete, carrying what was
 *   stored; listeners in other contexts get the record (decrypted) or `undefined`, in write order.
 *   Listeners of this same instance are told at once. A message this store cannot decrypt is
 *   dropped: `get` reports it.
 * - An unreadable record (corrupt, from a newer version) makes `get` throw a `StorageError` and is
 *   left as it is. The next `set` or `delete` under its key moves it aside to the array key
 *   `['unreadable', key]` of the object store, in the same transaction, where it stays for
 *   inspection (the browser's developer tools show it) until something overwrites it.
 *
 * @example
 * ```ts
 * import { OAuth2Session } from 'oauth2-session';
 * import { IndexedDBStore } from 'oauth2-session/storage/indexeddb';
 *
 * const session = new OAuth2Session({
 *   clientId: 'my-spa',
 *   tokenEndpoint: 'https://auth.example.com/token',
 *   allowedOrigins: ['https://api.example.com'],
 *   store: new IndexedDBStore({ encryption: true }),
 * });
 * ```
 */
export class IndexedDBStore implements TokenStore {
	/** `'web-locks'` where the browser has `navigator.locks`, else `'lease'`. */
	readonly lockKind: IndexedDBLockKind;
	readonly #options: NormalizedIndexedDBStoreOptions;
	readonly #useStore: UseStore;
	#cipher: Promise<RecordCipher> | undefined;
	readonly #listeners = new StoreListeners();
	#channel: BroadcastChannel | undefined;
	/** Messages are decoded one after another, so listeners see writes in the order they were made. */
	#inbox: Promise<void> = Promise.resolve();
	#opened = false;
	#closed = false;

	/** @throws {InvalidOptionsError} for an encryption key that is not an AES-GCM key, or no WebCrypto. */
	constructor(options: IndexedDBStoreOptions = {}) {
		this.#options = normalizeOptions(options);
		const { databaseName, objectStoreName } = this.#options;
		const useStore = openStore(databaseName, objectStoreName);
		this.#useStore = (mode, callback) => {
			if (this.#closed) return Promise.reject(new Error('The IndexedDBStore is closed'));
			this.#opened = true;
			return useStore(mode, callback);
		};
		this.lockKind = typeof navigator !== 'undefined' && navigator.locks ? 'web-locks' : 'lease';
	}

	/**
	 * Without encryption, records are structured clones: a DPoP session keeps a non-extractable
	 * key pair. Encrypted records are JSON, so the DPoP key is kept, encrypted, as a JWK.
	 */
	get keepsCryptoKeys(): boolean {
		return this.#options.encryption === false;
	}

	async get(key: string): Promise<StoredRecord | undefined> {
		const value: unknown = await unavailableOnError(key, 'read', () => get(key, this.#useStore));
		if (value === undefined) return undefined;
		const sealed = isSealedRecord(value);
		refuseTooLarge(sealed ? value.ciphertext.byteLength : sizeOf(value), key);
		const record = sealed ? await this.#open(key, value) : value;
		decodeStoredRecord(record, key);
		return record as StoredRecord;
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		refuseTooLarge(sizeOf(record), key);
		const value = await unavailableOnError(key, 'encrypt', async () =>
			this.#options.encryption === false ? record : (await this.#recordCipher()).seal(key, record),
		);
		await this.#replace(key, value, 'write');
		this.#announce(key, value, record);
	}

	async delete(key: string): Promise<void> {
		await this.#replace(key, undefined, 'delete');
		this.#announce(key, undefined, undefined);
	}

	lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		if (this.lockKind === 'web-locks') {
			const { databaseName, objectStoreName } = this.#options;
			const name = `oauth2-session:${databaseName}/${objectStoreName}/${key}`;
			return withWebLock(navigator.locks, name, key, fn, options);
		}
		// Loaded on first use: browsers without Web Locks are rare, so most bundles never fetch it.
		return import('./indexeddb/lease-lock.js').then(({ withLease }) =>
			withLease(this.#useStore, key, fn, options),
		);
	}

	subscribe(key: string, listener: StoreListener): () => void {
		const unsubscribe = this.#listeners.add(key, listener);
		this.#channelOpen();
		return unsubscribe;
	}

	/** Closes the channel and the database connection. The store cannot be used afterwards. */
	async close(): Promise<void> {
		if (this.#closed) return;
		const opened = this.#opened;
		this.#channel?.close();
		this.#channel = undefined;
		this.#listeners.clear();
		if (opened) {
			// Let transactions under way finish; an open connection would block other code's upgrades.
			await this.#useStore('readonly', (store) => store.transaction.db.close()).catch(() => {});
		}
		this.#closed = true;
	}

	/** Writes or deletes, first moving an unreadable record aside, in one readwrite transaction. */
	#replace(key: string, value: unknown, operation: string): Promise<void> {
		return unavailableOnError(key, operation, () =>
			readModifyWrite(this.#useStore, key, (store, current) => {
				if (value !== undefined) refuseToReplaceNewer(current, key);
				if (current !== undefined && !isReadable(current, key)) {
					store.put({ value: current, movedAt: Date.now() }, unreadableKey(key));
				}
				if (value === undefined) store.delete(key);
				else store.put(value, key);
			}),
		);
	}

	async #open(key: string, sealed: SealedRecord): Promise<unknown> {
		if (this.#options.encryption === false) {
			throw new StorageError(
				`The record under "${key}" is encrypted and this store has no encryption option`,
				{ problem: 'corrupt', key },
			);
		}
		return unavailableOnError(key, 'decrypt', async () =>
			(await this.#recordCipher()).open(key, sealed),
		);
	}

	/**
	 * The cipher, loaded on first use: an app that does not encrypt never fetches its chunk. A
	 * failed load is not kept, so the next call tries again.
	 */
	#recordCipher(): Promise<RecordCipher> {
		const { encryption } = this.#options;
		const givenKey = typeof encryption === 'object' ? encryption : undefined;
		this.#cipher ??= import('./indexeddb/cipher.js').then(
			({ RecordCipher }) => new RecordCipher(this.#useStore, givenKey),
			(error: unknown) => {
				this.#cipher = undefined;
				throw error;
			},
		);
		return this.#cipher;
	}

	#announce(
		key: string,
		value: StoredRecord | SealedRecord | undefined,
		record: StoredRecord | undefined,
	): void {
		const { databaseName, objectStoreName } = this.#options;
		this.#channelOpen()?.postMessage({
			type: 'oauth2-session:changed',
			database: databaseName,
			objectStore: objectStoreName,
			key,
			value,
		} satisfies ChangeMessage);
		this.#listeners.notify(key, record);
	}

	#channelOpen(): BroadcastChannel | undefined {
		if (this.#channel !== undefined || this.#closed || typeof BroadcastChannel === 'undefined') {
			return this.#channel;
		}
		this.#channel = new BroadcastChannel(this.#options.channelName);
		this.#channel.onmessage = (event: MessageEvent<unknown>) => {
			const message = event.data as Partial<ChangeMessage> | null;
			const { databaseName, objectStoreName } = this.#options;
			if (
				message?.type !== 'oauth2-session:changed' ||
				message.database !== databaseName ||
				message.objectStore !== objectStoreName ||
				typeof message.key !== 'string' ||
				!this.#listeners.has(message.key)
			) {
				return;
			}
			const { key, value } = message;
			this.#inbox = this.#inbox.then(async () => {
				try {
					const record = isSealedRecord(value) ? await this.#open(key, value) : value;
					this.#listeners.notify(key, record as StoredRecord | undefined);
				} catch {
					// Undecryptable here (another key): listeners cannot use it, and get() reports it.
				}
			});
		};
		return this.#channel;
	}
}

/** The bytes of a value's JSON, as a record's size is counted everywhere else. */
function sizeOf(value: unknown): number {
	return new Blob([JSON.stringify(value) ?? '']).size;
}

/**
 * A record is a few kB: one over `MAX_RECORD_BYTES` was not written by this library.
 * @throws {StorageError} `corrupt`.
 */
function refuseTooLarge(size: number, key: string): void {
	// Left in place when read, not written when set.
	if (size > MAX_RECORD_BYTES) {
		throw new StorageError(`The record under "${key}" is over the 1 MiB a record may be`, {
			problem: 'corrupt',
			key,
		});
	}
}

/** Whether a stored value is something a store can read: a valid record or an encrypted one. */
function isReadable(value: unknown, key: string): boolean {
	if (isSealedRecord(value)) return true;
	try {
		decodeStoredRecord(value, key);
		return true;
	} catch {
		return false;
	}
}

function normalizeOptions(options: IndexedDBStoreOptions): NormalizedIndexedDBStoreOptions {
	const encryption = options.encryption ?? defaults.encryption;
	if (encryption !== false && typeof crypto === 'undefined') {
		throw new InvalidOptionsError('IndexedDBStore encryption needs WebCrypto');
	}
	if (encryption !== false && crypto.subtle === undefined) {
		throw new InvalidOptionsError(
			'IndexedDBStore encryption needs WebCrypto (crypto.subtle), which browsers offer only in secure contexts',
		);
	}
	if (typeof encryption === 'object' && !isAesGcmKey(encryption.key)) {
		throw new InvalidOptionsError(
			'IndexedDBStore encryption.key must be a 256-bit AES-GCM CryptoKey allowed to encrypt and decrypt',
		);
	}
	return {
		databaseName: nonEmpty(options.databaseName, defaults.databaseName, 'databaseName'),
		objectStoreName: nonEmpty(options.objectStoreName, defaults.objectStoreName, 'objectStoreName'),
		channelName: nonEmpty(options.channelName, defaults.channelName, 'channelName'),
		encryption: encryption === true ? 'generated' : encryption === false ? false : encryption.key,
	};
}

function nonEmpty(value: string | undefined, fallback: string, option: string): string {
	if (value === undefined) return fallback;
	if (typeof value !== 'string' || value === '') {
		throw new InvalidOptionsError(`IndexedDBStore ${option} must be a non-empty string`);
	}
	return value;
}
