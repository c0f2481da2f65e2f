import { StorageError } from '../errors/storage-error.js';
import type { Token } from '../protocol/token.js';
import { type TokenRecord, tokenFromRecord, tokenToRecord } from '../protocol/token-record.js';

/**
 * The newest schema version of records this library writes and reads. Version 2 adds the DPoP key
 * (`dpop`); a record without one is still written as version 1, so processes running an older
 * version of this library keep sharing it, while one with a key is refused by them rather than
 * rewritten without it.
 */
export const STORED_RECORD_VERSION = 2;

/** The version of a record without a DPoP key: the format before DPoP, unchanged. */
const PLAIN_RECORD_VERSION = 1;

/**
 * The DPoP key (RFC 9449) a record's token is bound to, so every context sharing the record signs
 * with the same key. Holds the private key: it is as secret as the refresh token beside it.
 */
export interface StoredDPoPKey {
	/** The key's RFC 7638 JWK thumbprint, checked against the key when the record is read. */
	jkt: string;
	/**
	 * The private key as a JWK (public members included): what a store that writes JSON keeps
	 * (file, Redis, PostgreSQL).
	 */
	privateJwk?: JsonWebKey | undefined;
	/**
	 * The key pair itself, its private key not extractable: what a store that keeps structured
	 * clones keeps (memory, IndexedDB without encryption). See `TokenStore.keepsCryptoKeys`.
	 */
	keyPair?: CryptoKeyPair | undefined;
}

/**
 * The most bytes a stored record may have: a token record is a few kB at most, so more is not
 * one this library wrote, and a store refuses to read it (`StorageError` `corrupt`) rather than
 * load it whole.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * What a store keeps under a key: plain JSON, so any store can serialize it as it likes.
 * The token is a requests-oauthlib compatible record.
 */
export interface StoredRecord {
	/** Schema version of the record: 1, or 2 when it holds a DPoP key. */
	version: typeof PLAIN_RECORD_VERSION | typeof STORED_RECORD_VERSION;
	/**
	 * The token, as a requests-oauthlib compatible record. Holds secrets. Absent only from a
	 * version 2 record that holds a DPoP key made before the first token (see `encodeKeyRecord`):
	 * no token, to every reader.
	 */
	token?: TokenRecord | undefined;
	/** When the record was written, in epoch milliseconds. */
	writtenAt: number;
	/**
	 * The access tokens of the session's `resources` APIs (RFC 8707), as token records by the origin
	 * they go to; the refresh token they were obtained with is `token`'s. Holds secrets. Optional
	 * within version 1: a reader that ignores it keeps working, and a record written without it
	 * only costs a token request per API. The session reads it; an entry it cannot read is left out.
	 */
	resources?: Record<string, TokenRecord>;
	/** The DPoP key the token is bound to (version 2). Holds a private key. */
	dpop?: StoredDPoPKey | undefined;
}

/** Options of `TokenStore.lock`. */
export interface LockOptions {
	/**
	 * How long the lock may be held before other contexts may take it, in milliseconds, so a holder
	 * that crashed cannot block them forever. Longer than the token request's timeout.
	 */
	ttl: number;
	/** How long to wait for the lock before failing with a `StorageError` (`lock-timeout`). */
	waitTimeout: number;
}

/**
 * Called when another context wrote the record under the subscribed key, with the record; or
 * deleted it with `delete()`, with `undefined` (a session takes that as a logout elsewhere). A
 * store that shares records across processes may report only the latest state of quick changes.
 */
export type StoreListener = (record: StoredRecord | undefined) => void;

/**
 * Called when another context wrote or deleted the record under any key of the store, with the key
 * and what `StoreListener` gets.
 */
export type StoreChangeListener = (key: string, record: StoredRecord | undefined) => void;

/**
 * Where a session keeps its token. `get`, `set` and `delete` are all a store needs; `lock` and
 * `subscribe` let several tabs, processes or machines share one token with one refresh per expiry.
 *
 * Values are plain JSON. A store validates what it reads with `decodeStoredRecord` so a corrupt
 * record surfaces as a `StorageError` rather than as a wrong token.
 */
export interface TokenStore {
	/** The record under `key`, or `undefined` when there is none. */
	get(key: string): Promise<StoredRecord | undefined>;
	/**
	 * Writes the record durably: when the promise resolves, every context sharing the store reads it.
	 * Refuses (`StorageError` `unsupported-version`) to replace a record of a newer schema version.
	 */
	set(key: string, record: StoredRecord): Promise<void>;
	/** Removes the record. */
	delete(key: string): Promise<void>;
	/**
	 * Writes `record` only if the record under `key` is still the one it replaces: one holding the
	 * access token `replaces`, or this record's own (an earlier try that landed), or none when
	 * `replaces` is `undefined` (a first sign-in). None where `replaces` was is a record deleted
	 * meanwhile (a logout, a session ended in another context): the delete wins. A store that can
	 * lose its data without a delete (a Redis restarted without persistence) marks deletes, and
	 * writes where it holds neither record nor mark: what the session refreshed while it was down
	 * must not be lost. A record of a DPoP key alone (no token, see `encodeKeyRecord`) is replaced
	 * only by a record with the same key (`dpop.jkt`). Checked and written in one step on the
	 * store's side. Resolves `false`, writing nothing, when another context wrote the record
	 * meanwhile (or one of a newer schema version is there). A session replays a save that failed
	 * through it, and stores a DPoP key made before the first token through it (a first save:
	 * written only where there is no record); a store without it gets a read and a write under its
	 * lock instead.
	 */
	setIfUnchanged?(
		key: string,
		record: StoredRecord,
		replaces: string | undefined,
	): Promise<boolean>;
	/**
	 * Runs `fn` while holding an exclusive lock on `key` across every context that shares the store.
	 * The lock is released when `fn` settles, or after `options.ttl` if the holder dies.
	 */
	lock?<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T>;
	/** Calls `listener` when another context changes the record under `key`. Returns an unsubscribe function. */
	subscribe?(key: string, listener: StoreListener): () => void;
	/**
	 * Calls `listener` when another context changes the record under any key: one subscription for
	 * the many users of an `OAuth2Client`, where `subscribe` would take one per user. Returns an
	 * unsubscribe function. Without it, a client's users learn of other contexts' tokens under the
	 * lock, when they refresh.
	 */
	subscribeAll?(listener: StoreChangeListener): () => void;
	/** Releases what the store holds open (connections, channels, watchers). */
	close?(): Promise<void>;
	/**
	 * Whether the store keeps records as structured clones, `CryptoKey` objects included (memory,
	 * IndexedDB without encryption): a DPoP session then stores a non-extractable key pair, and
	 * otherwise the private key as a JWK.
	 * @default false
	 */
	readonly keepsCryptoKeys?: boolean | undefined;
}

/**
 * Throws if `current`, what a store holds under `key`, was written by a newer version of this
 * library: its processes still read it, and overwriting it would end their sessions.
 * @throws {StorageError} `unsupported-version`.
 */
export function refuseToReplaceNewer(current: unknown, key: string): void {
	const version = (current as Partial<StoredRecord> | undefined)?.version;
	// decodeStoredRecord reports it, naming its version.
	if (typeof version === 'number' && version > STORED_RECORD_VERSION) {
		decodeStoredRecord(current, key);
	}
}

/**
 * Whether a record may replace `current` in a conditional write (see `TokenStore.setIfUnchanged`).
 * `current` is what the store holds now, as read. A record of a DPoP key alone (`encodeKeyRecord`)
 * may be replaced only by a record with the same key.
 */
export function isUnchanged(
	current: unknown,
	record: StoredRecord,
	replaces: string | undefined,
): boolean {
	// None there: a first save lands; a replay over a record deleted meanwhile (a logout) does not.
	if (current === undefined || current === null) return replaces === undefined;
	const stored = current as { token?: { access_token?: unknown }; dpop?: { jkt?: unknown } };
	const version = (current as Partial<StoredRecord>).version;
	if (typeof version === 'number' && version > STORED_RECORD_VERSION) return false;
	// A record of a DPoP key alone gives way only to one with that key: the sign-in it was made for.
	if (stored.token === undefined) {
		return stored.dpop?.jkt !== undefined && stored.dpop.jkt === record.dpop?.jkt;
	}
	const held = stored.token.access_token;
	return held !== undefined && (held === replaces || held === record.token?.access_token);
}

/**
 * Writes `record` under `key` only if the store still holds what it replaces: through the store's
 * own `setIfUnchanged`, else with a read and a write under its lock (when it has one), which holds
 * against every writer that takes the lock to write, as sessions do when they refresh.
 */
export async function setIfUnchanged(
	store: TokenStore,
	key: string,
	record: StoredRecord,
	replaces: string | undefined,
	lock: LockOptions,
): Promise<boolean> {
	if (store.setIfUnchanged !== undefined) return store.setIfUnchanged(key, record, replaces);
	const write = async () => {
		if (!isUnchanged(await store.get(key), record, replaces)) return false;
		await store.set(key, record);
		return true;
	};
	return store.lock === undefined ? write() : store.lock(key, write, lock);
}

/** What a store whose check runs on its server (Redis, PostgreSQL) throws when it refused a write. */
export function newerRecordLeftInPlace(key: string): StorageError {
	return new StorageError(
		`The record under "${key}" has a schema version newer than this library writes (${STORED_RECORD_VERSION}); it is left in place`,
		{ problem: 'unsupported-version', key },
	);
}

/**
 * `value`, read under `key`, as a record; a record of a newer schema version throws, and any other
 * fault goes to `unreadable` (a store moves such bytes aside and reports them).
 * @throws {StorageError} `unsupported-version`.
 */
export function storedRecordOr<T>(
	value: unknown,
	key: string,
	unreadable: (cause: unknown) => T,
): StoredRecord | T {
	try {
		decodeStoredRecord(value, key);
	} catch (error) {
		if (error instanceof StorageError && error.problem === 'unsupported-version') throw error;
		return unreadable(error);
	}
	return value as StoredRecord;
}

/**
 * Builds the record a store keeps for a token, with the DPoP key the token is bound to, if any.
 * (The session adds the tokens of its `resources` APIs.)
 */
export function encodeStoredRecord(
	token: Token,
	now: number = Date.now(),
	extras: {
		/** The DPoP key the tokens are bound to. */
		dpop?: StoredDPoPKey | undefined;
	} = {},
): StoredRecord {
	const { dpop } = extras;
	const record: StoredRecord = {
		version: dpop === undefined ? PLAIN_RECORD_VERSION : STORED_RECORD_VERSION,
		token: tokenToRecord(token, now),
		writtenAt: now,
	};
	if (dpop !== undefined) record.dpop = dpop;
	return record;
}

/**
 * The record of a DPoP key made before the session's first token, so that every context sharing
 * the store signs with it: the code an authorization request bound to it (`dpop_jkt`) can be
 * exchanged by any of them. It holds no token; the first token saved keeps the key.
 */
export function encodeKeyRecord(dpop: StoredDPoPKey, now: number = Date.now()): StoredRecord {
	return { version: STORED_RECORD_VERSION, writtenAt: now, dpop };
}

/** A record read from a store, as `decodeStoredRecord` returns it. */
export type DecodedStoredRecord =
	| {
			/** The stored token, secrets included; its `toJSON()` and `inspect` output are redacted. */
			token: Token;
			/** When the record was written, in epoch milliseconds by the writer's clock. */
			writtenAt: number;
			/** The DPoP key stored with the token, unchecked against it (the session checks). */
			dpop?: StoredDPoPKey | undefined;
	  }
	| {
			/** A record of a DPoP key made before the first token holds none. */
			token: undefined;
			/** When the record was written, in epoch milliseconds by the writer's clock. */
			writtenAt: number;
			/** The key, unchecked (the session checks). */
			dpop: StoredDPoPKey;
	  };

/**
 * Checks a record read from a store and returns its token, or, for a record holding only a DPoP
 * key (`encodeKeyRecord`), the key and no token.
 * @throws {StorageError} `corrupt` or `unsupported-version`; the message names the key, never a value.
 */
export function decodeStoredRecord(value: unknown, key: string): DecodedStoredRecord {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new StorageError(`The record under "${key}" is not an object`, {
			problem: 'corrupt',
			key,
		});
	}
	const record = value as Partial<StoredRecord>;
	if (record.version !== PLAIN_RECORD_VERSION && record.version !== STORED_RECORD_VERSION) {
		const problem = typeof record.version === 'number' && record.version > STORED_RECORD_VERSION;
		throw new StorageError(
			problem
				? `The record under "${key}" has schema version ${record.version}, newer than this library reads (${STORED_RECORD_VERSION})`
				: `The record under "${key}" has no known schema version`,
			{ problem: problem ? 'unsupported-version' : 'corrupt', key },
		);
	}
	if (typeof record.writtenAt !== 'number') {
		throw new StorageError(`The record under "${key}" has no writtenAt time`, {
			problem: 'corrupt',
			key,
		});
	}
	// Checked by the DPoP session that reads it, in its own module: other sessions never load it.
	const dpop = record.version === STORED_RECORD_VERSION ? record.dpop : undefined;
	// Only a key (an object, checked when used) stands in for the token: any other gap is corrupt.
	if (record.token === undefined && typeof dpop === 'object' && dpop !== null) {
		return { token: undefined, writtenAt: record.writtenAt, dpop };
	}
	try {
		const token = tokenFromRecord(record.token);
		return dpop === undefined
			? { token, writtenAt: record.writtenAt }
			: { token, writtenAt: record.writtenAt, dpop };
	} catch (error) {
		throw new StorageError(
			`The record under "${key}" holds no valid token`,
			{ problem: 'corrupt', key },
			{ cause: error },
		);
	}
}
