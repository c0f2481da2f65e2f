// Node-only entry: `oauth2-session/storage/file`. Only this entry (and src/node) imports node:fs.
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { StorageError } from '../errors/storage-error.js';
import { DirectoryFeed, type TextListener } from '../node/file-store/directory-feed.js';
import { type HeldLock, releaseLock, tryLock } from '../node/file-store/file-lock.js';
import {
	asideNameFor,
	fileNamesFor,
	isRecordName,
	type KeyFileNames,
	keyOfRecordName,
} from '../node/file-store/file-names.js';
import {
	checkDirectoryIsPrivate,
	ensureDirectory,
	errorCode,
	moveAsideIfUnchanged,
	readSnapshot,
	type Snapshot,
	syncDirectory,
	UnsafeDirectoryError,
	UnsafeFileError,
	writeFileAtomic,
} from '../node/file-store/files.js';
import {
	decodeStoredRecord,
	type LockOptions,
	refuseToReplaceNewer,
	type StoreChangeListener,
	type StoredRecord,
	type StoreListener,
	type TokenStore,
} from './token-store.js';

/** Options of `new FileStore(...)`. */
export interface FileStoreOptions {
	/**
	 * The directory of the records, one file per key (`token-<key>.json`, mode 0600). Created with
	 * mode 0700 on the first write if missing; an existing one must be this user's and writable by
	 * nobody else. Give it a directory of its own, on a local disk: the
	 * lock works between the processes of one machine.
	 * @example path.join(os.homedir(), '.config', 'my-app', 'tokens')
	 */
	dir: string;
	/**
	 * How often a subscription re-reads its record, in milliseconds, to catch the changes `fs.watch`
	 * misses. Changes are usually seen at once through `fs.watch`; this bounds how late one can be.
	 * @default 1_000
	 * @example 5_000
	 */
	pollInterval?: number | undefined;
	/**
	 * The longest pause between two tries to take a lock another process holds, in milliseconds.
	 * Tries start 5 ms apart and back off to this; a change to the lock's files wakes a waiter early.
	 * @default 100
	 * @example 250
	 */
	lockRetryInterval?: number | undefined;
}

interface NormalizedFileStoreOptions {
	dir: string;
	pollInterval: number;
	lockRetryInterval: number;
}

const defaults = { pollInterval: 1_000, lockRetryInterval: 100 } as const;

/** The first pause between two tries to take a held lock, in milliseconds. */
const LOCK_RETRY_FIRST = 5;
/** Reads of a record that keeps changing under a reader who found it unreadable. */
const UNREADABLE_READS = 3;
/** Keys too long for their file name that `subscribeAll` can tell: the most recently used. */
const LONG_KEYS_KEPT = 10_000;

/**
 * A token store in a directory: the processes of one machine sharing it (a CLI and its daemon,
 * workers of one server) share one token, with one refresh per expiry.
 *
 * - Writes are atomic and durable: a temp file in the directory is written, fsynced and renamed
 *   over the record, and the directory fsynced. A reader never sees a partial record.
 * - Any key is safe: it is encoded into the file name (`a-z0-9-` kept, everything else escaped).
 * - `lock` works across processes and survives a holder killed with SIGKILL: the lock is taken
 *   over once its `ttl` passes or as soon as its holder's process is gone.
 * - `subscribe` hears writes from other processes through `fs.watch`, with a poll as a fallback;
 *   `subscribeAll` hears them under every key through one watch of the directory.
 * - A record that cannot be read (invalid JSON, not a record) is moved aside to
 *   `token-<key>.json.corrupt-<ms>-<random>`, never overwritten, and `get` throws a `StorageError`
 *   (`corrupt`) naming the key and where the bytes went. One written by a newer version of this
 *   library is left in place for the processes running it (`unsupported-version`).
 * - A directory another user could change is refused with a `StorageError` (`insecure`) saying
 *   the fix: one not owned by this user, or writable by group or others (`chmod 700` it). Files
 *   are opened without following symlinks: a symlink or a device at a record's name is `insecure`,
 *   a record over 1 MiB is `corrupt`; both are left where they are.
 * - A failing disk (full, read-only, permission denied) is a `StorageError` (`unavailable`) with
 *   the system error as `cause`; no temp file is left behind.
 *
 * @example
 * ```ts
 * import { OAuth2Session } from 'oauth2-session';
 * import { FileStore } from 'oauth2-session/storage/file';
 *
 * const store = new FileStore({ dir: path.join(os.homedir(), '.config', 'my-app', 'tokens') });
 * const session = new OAuth2Session({ clientId: 'app', tokenEndpoint, store });
 * // On shutdown (watchers never keep the process alive, but close them when done):
 * session.close();
 * await store.close();
 * ```
 */
export class FileStore implements TokenStore {
	readonly #options: NormalizedFileStoreOptions;
	readonly #feed: DirectoryFeed;
	/** Set once the directory was found private: only its owner can make it public again. */
	#private = false;
	/**
	 * Keys cut and hashed in their file names, by record name, as used through this instance, most
	 * recent last: `subscribeAll` cannot read them back from the name.
	 */
	readonly #longKeys = new Map<string, string>();

	constructor(options: FileStoreOptions) {
		this.#options = normalizeOptions(options);
		this.#feed = new DirectoryFeed(this.#options.dir, this.#options.pollInterval);
	}

	/** The directory of the records, as an absolute path. */
	get dir(): string {
		return this.#options.dir;
	}

	async get(key: string): Promise<StoredRecord | undefined> {
		const { record: name } = this.#namesFor(key);
		const { dir } = this.#options;
		await this.#checkDirectory(key);
		for (let read = 1; ; read++) {
			let snapshot: Snapshot | undefined;
			let unreadable: StorageError;
			try {
				snapshot = await guard(key, 'read', () => readSnapshot(join(dir, name)));
				if (snapshot === undefined) return undefined;
				return decodeText(snapshot.text, key);
			} catch (error) {
				if (!(error instanceof StorageError)) throw error;
				unreadable = error;
			}
			// Not moved aside: it is a link or a device someone planted, not bytes of ours.
			if (snapshot === undefined || unreadable.problem === 'insecure') throw unreadable;
			if (unreadable.problem === 'unsupported-version') {
				// Processes running the newer version read it: moving it away would end their sessions.
				throw new StorageError(
					`${unreadable.message}; it is left in place`,
					{ problem: unreadable.problem, key },
					{ cause: unreadable },
				);
			}
			const aside = asideNameFor(name, unreadable.problem);
			const moved = await guard(key, 'move aside', () =>
				moveAsideIfUnchanged(dir, name, aside, snapshot.stats),
			);
			if (moved) {
				throw new StorageError(
					`${unreadable.message}; its file was moved aside to ${join(dir, aside)}`,
					{ problem: unreadable.problem, key },
					{ cause: unreadable },
				);
			}
			// Replaced since it was read: read the new one, unless it keeps changing.
			if (read === UNREADABLE_READS) throw unreadable;
		}
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		const { record: name } = this.#namesFor(key);
		const text = `${JSON.stringify(record)}\n`;
		await guard(key, 'write', async () => {
			await ensureDirectory(this.#options.dir);
			await this.#checkDirectory(key);
			refuseToReplaceNewer(
				parsedOrUndefined(await readCurrent(join(this.#options.dir, name))),
				key,
			);
			await writeFileAtomic(this.#options.dir, name, text);
		});
		this.#feed.changed(name);
	}

	async delete(key: string): Promise<void> {
		const { record: name } = this.#namesFor(key);
		const { dir } = this.#options;
		await this.#checkDirectory(key);
		await guard(key, 'delete', async () => {
			try {
				await unlink(join(dir, name));
			} catch (error) {
				if (errorCode(error) === 'ENOENT') return;
				throw error;
			}
			await syncDirectory(dir);
		});
		this.#feed.changed(name);
	}

	async lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		const { lockPrefix } = this.#namesFor(key);
		const { dir, lockRetryInterval } = this.#options;
		const deadline = Date.now() + options.waitTimeout;
		await guard(key, 'lock', async () => {
			await ensureDirectory(dir);
			await this.#checkDirectory(key);
		});
		const changes = this.#feed.signalChanges(lockPrefix);
		let held: HeldLock | undefined;
		try {
			for (let pause = LOCK_RETRY_FIRST; ; pause = Math.min(pause * 2, lockRetryInterval)) {
				held = await guard(key, 'lock', () => tryLock(dir, lockPrefix, options.ttl));
				if (held !== undefined) break;
				const left = deadline - Date.now();
				if (left <= 0) {
					throw new StorageError(`Timed out waiting for the lock on "${key}"`, {
						problem: 'lock-timeout',
						key,
					});
				}
				// Jitter keeps waiters of several processes from trying in step.
				await changes.next(Math.min(left, pause * (0.5 + Math.random())));
			}
		} finally {
			changes.stop();
		}
		const lock = held;
		try {
			return await fn();
		} finally {
			// A lock that cannot be released expires after its ttl; fn's outcome matters more.
			await releaseLock(lock).catch(() => {});
		}
	}

	subscribe(key: string, listener: StoreListener): () => void {
		return this.#feed.watchFile(this.#namesFor(key).record, recordsOnly(key, listener));
	}

	/**
	 * Tells the writes and deletes of every key, by any process, through one `fs.watch` of the
	 * directory and one poll. What it costs: subscribing stats every record file once (no read);
	 * a change is read once, when the watch or the poll sees it. Each poll (`pollInterval`) stats
	 * the directory, and only when it changed (or every 10th poll) lists it and stats its records:
	 * it reads only the records whose inode, size or times changed, never every record. Temp, lock
	 * and moved-aside files are never told, nor unreadable bytes (as with `subscribe`).
	 *
	 * A key whose file name had to be cut (over about 120 characters once encoded: `a-z0-9-` take
	 * one, any other character five) is told only if this instance used it (`get`, `set`, ...)
	 * among its last 10,000 such keys, as an `OAuth2Client` does for the users it keeps in memory.
	 */
	subscribeAll(listener: StoreChangeListener): () => void {
		return this.#feed.watchAll(isRecordName, (name, text, previous) => {
			const key = keyOfRecordName(name) ?? this.#longKeys.get(name);
			if (key !== undefined) recordsOnly(key, (record) => listener(key, record))(text, previous);
		});
	}

	/** The file names of `key`, keeping a long key for `subscribeAll` to tell. */
	#namesFor(key: string): KeyFileNames {
		const names = fileNamesFor(key);
		if (keyOfRecordName(names.record) === undefined) {
			this.#longKeys.delete(names.record);
			this.#longKeys.set(names.record, key);
			if (this.#longKeys.size > LONG_KEYS_KEPT) {
				this.#longKeys.delete(this.#longKeys.keys().next().value as string);
			}
		}
		return names;
	}

	async #checkDirectory(key: string): Promise<void> {
		if (this.#private) return;
		// A missing directory is not settled yet: the check runs again once it exists.
		this.#private = await guard(key, 'check the directory of', () =>
			checkDirectoryIsPrivate(this.#options.dir),
		);
	}

	/**
	 * Stops every watcher and poll of this store, and resolves once their reads under way have
	 * closed their files. Reads, writes and locks keep working.
	 */
	async close(): Promise<void> {
		await this.#feed.close();
	}
}

function normalizeOptions(options: FileStoreOptions): NormalizedFileStoreOptions {
	if (typeof options !== 'object' || options === null) {
		throw new InvalidOptionsError('FileStore needs an options object with a dir');
	}
	if (typeof options.dir !== 'string' || options.dir === '') {
		throw new InvalidOptionsError('FileStore needs a dir');
	}
	return {
		// Absolute, so a later process.chdir() cannot move the store.
		dir: resolve(options.dir),
		pollInterval: positive(options.pollInterval, defaults.pollInterval, 'pollInterval'),
		lockRetryInterval: positive(
			options.lockRetryInterval,
			defaults.lockRetryInterval,
			'lockRetryInterval',
		),
	};
}

function positive(value: number | undefined, fallback: number, option: string): number {
	if (value === undefined) return fallback;
	if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
		throw new InvalidOptionsError(`FileStore ${option} must be a number of milliseconds above 0`);
	}
	return value;
}

/**
 * Parses and checks a record's text.
 * @throws {StorageError} `corrupt` or `unsupported-version`; the message names the key, never a value.
 */
function decodeText(text: string, key: string): StoredRecord {
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch {
		// Without the SyntaxError as cause: its message quotes the text, which may hold a token.
		throw new StorageError(`The record under "${key}" is not valid JSON`, {
			problem: 'corrupt',
			key,
		});
	}
	decodeStoredRecord(value, key);
	return value as StoredRecord;
}

/** What is at a record's name, for a writer deciding whether to replace it: unreadable is nothing. */
async function readCurrent(path: string): Promise<string | undefined> {
	try {
		return (await readSnapshot(path))?.text;
	} catch (error) {
		// A link or a device planted at the name is replaced by the write, not read.
		if (error instanceof UnsafeFileError) return undefined;
		throw error;
	}
}

function parsedOrUndefined(text: string | undefined): unknown {
	try {
		return text === undefined ? undefined : JSON.parse(text);
	} catch {
		return undefined;
	}
}

/**
 * What a subscription to `key` does with a file's text. Listeners hear of records only: unreadable
 * bytes are reported by the next get, and their disappearance (moved aside by a reader) is not a
 * deletion, which sessions take as a logout.
 */
function recordsOnly(key: string, listener: StoreListener): TextListener {
	return (text, previous) => {
		if (text !== undefined) {
			const record = decodeOrUndefined(text, key);
			if (record !== undefined) listener(record);
		} else if (previous === undefined || decodeOrUndefined(previous, key) !== undefined) {
			listener(undefined);
		}
	};
}

function decodeOrUndefined(text: string, key: string): StoredRecord | undefined {
	try {
		return decodeText(text, key);
	} catch {
		return undefined;
	}
}

/** Runs a file operation; a system error becomes a `StorageError` (`unavailable`). */
async function guard<T>(key: string, action: string, run: () => Promise<T>): Promise<T> {
	try {
		return await run();
	} catch (error) {
		if (error instanceof StorageError) throw error;
		if (error instanceof UnsafeDirectoryError) {
			throw new StorageError(error.message, { problem: 'insecure', key });
		}
		if (error instanceof UnsafeFileError) {
			const problem = error.reason === 'too-large' ? 'corrupt' : 'insecure';
			throw new StorageError(`The file of the record under "${key}" ${error.message}`, {
				problem,
				key,
			});
		}
		const code = errorCode(error);
		throw new StorageError(
			`The file store could not ${action} the record under "${key}"${code === undefined ? '' : ` (${code})`}`,
			{ problem: 'unavailable', key },
			{ cause: error },
		);
	}
}
