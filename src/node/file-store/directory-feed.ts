import { type FSWatcher, lstatSync, readdirSync, type Stats, watch } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSnapshot, readTextIfExists, readTextIfExistsSync } from './files.js';

/** Called with a file's new text (`undefined` once it is gone) and the text it had before. */
export type TextListener = (text: string | undefined, previous: string | undefined) => void;

/** Wakes a lock waiter when a file whose name starts with a prefix changes. */
export interface ChangeSignal {
	/** Resolves at the next change (at once if one came since the last call), or after `ms`. */
	next(ms: number): Promise<void>;
	stop(): void;
}

interface WatchedFile {
	readonly name: string;
	readonly listeners: Set<TextListener>;
	/** The text last told (or found at subscription). */
	last: string | undefined;
	reading: boolean;
	again: boolean;
}

/**
 * Called when a file of the directory changed, with its name, its new text (`undefined` once it is
 * gone) and the text last read from it (`undefined` when it was never read).
 */
export type EntryListener = (
	name: string,
	text: string | undefined,
	previous: string | undefined,
) => void;

/** A file of the directory, as the directory-wide listeners last saw it. */
interface Entry {
	/** Identity and version (inode, size, times) of what was last seen at the name. */
	stamp: string;
	/** Its inode: a file renamed away (moved aside) keeps it. */
	ino: number;
	/** The text last read; `undefined` until a change made it worth reading. */
	text: string | undefined;
}

/** What the directory-wide listeners watch: which names, and who is told. */
interface DirectoryWatch {
	readonly includes: (name: string) => boolean;
	readonly listeners: Set<EntryListener>;
	readonly entries: Map<string, Entry>;
	/** Names being read, and whether a change came during the read. */
	readonly reading: Map<string, { again: boolean }>;
	/** The directory as the last scan found it, and whether no change can have hidden behind it. */
	scanned: { stamp: string; settled: boolean } | undefined;
	scanning: boolean;
	pollsSinceScan: number;
}

interface Waiter {
	readonly prefix: string;
	changed: boolean;
	wake: (() => void) | undefined;
}

// Changes arriving while a file is being read are taken in one more read, this long after.
const COALESCE_DELAY = 10;
// A file found gone is read again this long after before it counts as deleted: a reader moving
// unreadable bytes aside may have moved a good record by mistake, and is putting it back.
const CONFIRM_GONE_DELAY = 50;
// A directory's mtime may be as coarse as this (FAT has 2 s): a scan that began this long after
// the directory last changed saw every change under that mtime.
const DIRECTORY_SETTLE_MS = 2_000;
// Every this many polls the directory is scanned even if it looks unchanged: a record rewritten
// in place (by hand) does not change the directory.
const FULL_SCAN_POLLS = 10;
// Stats under way at once in a scan.
const STAT_BATCH = 64;

/**
 * Tells who asks when files of one directory change. `fs.watch` on the directory reports changes
 * at once; a poll re-reads watched files because `fs.watch` misses some (network file systems, a
 * full inotify table, a directory created later). Neither keeps the process alive.
 *
 * A change is read at once, so a quick succession of writes is seen write by write as far as the
 * reads keep up; changes during a read are coalesced into one more read. A listener is told only
 * when the text differs from what it was last told.
 */
export class DirectoryFeed {
	readonly #dir: string;
	readonly #pollInterval: number;
	readonly #files = new Map<string, WatchedFile>();
	readonly #waiters = new Set<Waiter>();
	/** Reads under way: `close()` waits for them, so no file is left open once it resolves. */
	readonly #reads = new Set<Promise<void>>();
	#all: DirectoryWatch | undefined;
	#watcher: FSWatcher | undefined;
	#poll: ReturnType<typeof setInterval> | undefined;
	#closed = false;

	constructor(dir: string, pollInterval: number) {
		this.#dir = dir;
		this.#pollInterval = pollInterval;
	}

	/** Calls `listener` with the text of `dir/name` each time it changes. Returns the unsubscribe. */
	watchFile(name: string, listener: TextListener): () => void {
		if (this.#closed) return () => {};
		let file = this.#files.get(name);
		if (file === undefined) {
			// Read now, synchronously: a write made right after subscribing must count as a change.
			file = {
				name,
				listeners: new Set(),
				last: this.#readNow(name),
				reading: false,
				again: false,
			};
			this.#files.set(name, file);
		}
		file.listeners.add(listener);
		this.#startWatching();
		this.#poll ??= unrefed(setInterval(() => this.#pollAll(), this.#pollInterval));
		const watched = file;
		return () => {
			watched.listeners.delete(listener);
			if (watched.listeners.size === 0 && this.#files.get(name) === watched) {
				this.#files.delete(name);
			}
			this.#stopWhenIdle();
		};
	}

	/**
	 * Calls `listener` each time a file whose name `includes` accepts changes, with its name. One
	 * watch and one poll serve every such listener. Subscribing stats the matching files once (no
	 * read); a change is read when the watch or the poll sees it. Each poll stats the directory,
	 * and only when it changed (or every FULL_SCAN_POLLS polls) lists it and stats its files; it
	 * reads only the files whose inode, size or times changed. `includes` is taken from the first
	 * listener.
	 */
	watchAll(includes: (name: string) => boolean, listener: EntryListener): () => void {
		if (this.#closed) return () => {};
		let all = this.#all;
		if (all === undefined) {
			all = {
				includes,
				listeners: new Set(),
				// Now, synchronously: a write made right after subscribing must count as a change.
				entries: this.#listNow(includes),
				reading: new Map(),
				scanned: undefined,
				scanning: false,
				pollsSinceScan: 0,
			};
			this.#all = all;
		}
		// Wrapped, so one function subscribed twice is two subscriptions, each ended by its own call.
		const wrapped: EntryListener = (name, text, previous) => listener(name, text, previous);
		all.listeners.add(wrapped);
		this.#startWatching();
		this.#poll ??= unrefed(setInterval(() => this.#pollAll(), this.#pollInterval));
		const watching = all;
		return () => {
			watching.listeners.delete(wrapped);
			if (watching.listeners.size === 0 && this.#all === watching) this.#all = undefined;
			this.#stopWhenIdle();
		};
	}

	/** A change made through this process: readers need not wait for the event. */
	changed(name: string): void {
		const file = this.#files.get(name);
		if (file !== undefined) this.#read(file);
		if (this.#all?.includes(name)) this.#readEntry(this.#all, name);
	}

	/** Signals changes of files whose names start with `prefix`, until `stop()`. */
	signalChanges(prefix: string): ChangeSignal {
		const waiter: Waiter = { prefix, changed: false, wake: undefined };
		if (!this.#closed) {
			this.#waiters.add(waiter);
			this.#startWatching();
		}
		return {
			next: (ms) => {
				if (waiter.changed) {
					waiter.changed = false;
					return Promise.resolve();
				}
				return new Promise<void>((resolve) => {
					// Not unref()ed: a caller awaits this wait, bounded by its own timeout.
					const timer = setTimeout(() => waiter.wake?.(), ms);
					waiter.wake = () => {
						clearTimeout(timer);
						waiter.wake = undefined;
						waiter.changed = false;
						resolve();
					};
				});
			},
			stop: () => {
				waiter.wake?.();
				this.#waiters.delete(waiter);
				this.#stopWhenIdle();
			},
		};
	}

	/**
	 * Stops watching and polling; waiters fall back to their timers. Resolves once the reads under
	 * way have closed their files: the directory may be unmounted right after.
	 */
	async close(): Promise<void> {
		this.#closed = true;
		this.#files.clear();
		this.#all = undefined;
		for (const waiter of this.#waiters) waiter.wake?.();
		this.#waiters.clear();
		this.#stopWhenIdle();
		await Promise.all(this.#reads);
	}

	#startWatching(): void {
		if (this.#watcher !== undefined || this.#closed) return;
		try {
			const watcher = watch(this.#dir, { persistent: false }, (_event, name) =>
				this.#onEvent(typeof name === 'string' ? name : null),
			);
			watcher.on('error', () => {
				// The directory went away or the watch broke: the poll covers, and restarts it.
				watcher.close();
				if (this.#watcher === watcher) this.#watcher = undefined;
			});
			this.#watcher = watcher;
		} catch {
			// No directory yet, or no watch available: the poll covers, and retries.
		}
	}

	#stopWhenIdle(): void {
		const watching = this.#files.size > 0 || this.#all !== undefined;
		if (!watching && this.#poll !== undefined) {
			clearInterval(this.#poll);
			this.#poll = undefined;
		}
		if (!watching && this.#waiters.size === 0 && this.#watcher !== undefined) {
			this.#watcher.close();
			this.#watcher = undefined;
		}
	}

	#onEvent(name: string | null): void {
		for (const file of this.#files.values()) {
			if (name === null || name === file.name) this.#read(file);
		}
		const all = this.#all;
		if (all !== undefined) {
			// No name: the platform could not say which file changed.
			if (name === null) this.#scan(all, true);
			else if (all.includes(name)) this.#readEntry(all, name);
		}
		for (const waiter of this.#waiters) {
			if (name !== null && !name.startsWith(waiter.prefix)) continue;
			if (waiter.wake === undefined) waiter.changed = true;
			else waiter.wake();
		}
	}

	#pollAll(): void {
		this.#startWatching();
		for (const file of this.#files.values()) this.#read(file);
		const all = this.#all;
		if (all !== undefined) {
			all.pollsSinceScan++;
			this.#scan(all, all.pollsSinceScan >= FULL_SCAN_POLLS);
		}
	}

	/** Runs `work` as a read `close()` waits for. `work` must not reject. */
	#track(work: Promise<void>): void {
		const tracked = work.then(() => {
			this.#reads.delete(tracked);
		});
		this.#reads.add(tracked);
	}

	#scan(all: DirectoryWatch, full: boolean): void {
		if (all.scanning) return;
		all.scanning = true;
		this.#track(
			this.#scanDirectory(all, full)
				.catch(() => {
					// The directory is missing or unreadable for now: the next poll tries again.
				})
				.finally(() => {
					all.scanning = false;
				}),
		);
	}

	/** Lists the directory and reads the files that are new, changed or gone since last seen. */
	async #scanDirectory(all: DirectoryWatch, full: boolean): Promise<void> {
		const started = Date.now();
		const dir = await stat(this.#dir);
		const stamp = `${dir.ino}:${dir.mtimeMs}:${dir.ctimeMs}`;
		if (!full && all.scanned?.stamp === stamp && all.scanned.settled) return;
		all.pollsSinceScan = 0;
		const names = (await readdir(this.#dir)).filter((name) => all.includes(name));
		const listed = new Set(names);
		for (let i = 0; i < names.length && this.#all === all; i += STAT_BATCH) {
			await Promise.all(
				names.slice(i, i + STAT_BATCH).map(async (name) => {
					let stats: Stats;
					try {
						stats = await lstat(join(this.#dir, name));
					} catch {
						return; // Gone since the listing: the read below, or the next scan, tells it.
					}
					if (all.entries.get(name)?.stamp !== stampOf(stats)) this.#readEntry(all, name);
				}),
			);
		}
		for (const name of all.entries.keys()) if (!listed.has(name)) this.#readEntry(all, name);
		all.scanned = {
			stamp,
			settled: started - Math.max(dir.mtimeMs, dir.ctimeMs) > DIRECTORY_SETTLE_MS,
		};
	}

	#readEntry(all: DirectoryWatch, name: string): void {
		const reading = all.reading.get(name);
		if (reading !== undefined) {
			reading.again = true;
			return;
		}
		const state = { again: false };
		all.reading.set(name, state);
		this.#track(
			this.#readEntryUntilSettled(all, name, state).finally(() => {
				all.reading.delete(name);
			}),
		);
	}

	async #readEntryUntilSettled(
		all: DirectoryWatch,
		name: string,
		state: { again: boolean },
	): Promise<void> {
		do {
			state.again = false;
			try {
				await this.#readEntryOnce(all, name);
			} catch {
				// Unreadable for now (a planted link, permissions): the next change or scan retries.
			}
			if (state.again) await delay(COALESCE_DELAY);
		} while (state.again && !this.#closed && this.#all === all);
	}

	async #readEntryOnce(all: DirectoryWatch, name: string): Promise<void> {
		const path = join(this.#dir, name);
		const entry = all.entries.get(name);
		let snapshot = await readSnapshot(path);
		if (snapshot === undefined && entry !== undefined) {
			await delay(CONFIRM_GONE_DELAY);
			snapshot = await readSnapshot(path);
		}
		if (this.#all !== all) return;
		if (snapshot === undefined) {
			if (entry === undefined) return;
			all.entries.delete(name);
			// Renamed aside (unreadable bytes a reader moved away): not a deletion.
			if (await this.#movedAside(name, entry.ino)) return;
			this.#tellAll(all, name, undefined, entry.text);
			return;
		}
		const { text, stats } = snapshot;
		const stamp = stampOf(stats);
		all.entries.set(name, { stamp, ino: stats.ino, text });
		if (entry?.stamp === stamp) return;
		if (entry?.text !== undefined && entry.text === text) return;
		this.#tellAll(all, name, text, entry?.text);
	}

	/** Whether a file beside `name` (`<name>.<problem>-...`) is the one that was at `name`. */
	async #movedAside(name: string, ino: number): Promise<boolean> {
		const asides = (await readdir(this.#dir)).filter((other) => other.startsWith(`${name}.`));
		for (const aside of asides) {
			const stats = await lstat(join(this.#dir, aside)).catch(() => undefined);
			if (stats?.ino === ino) return true;
		}
		return false;
	}

	#tellAll(
		all: DirectoryWatch,
		name: string,
		text: string | undefined,
		previous: string | undefined,
	): void {
		for (const listener of [...all.listeners]) tellEntry(listener, name, text, previous);
	}

	/** The files `includes` accepts, with their stamps (no read). */
	#listNow(includes: (name: string) => boolean): Map<string, Entry> {
		const entries = new Map<string, Entry>();
		let names: string[];
		try {
			names = readdirSync(this.#dir).filter(includes);
		} catch {
			return entries; // No directory yet: every file found later is new.
		}
		for (const name of names) {
			try {
				const stats = lstatSync(join(this.#dir, name));
				entries.set(name, { stamp: stampOf(stats), ino: stats.ino, text: undefined });
			} catch {
				// Gone since the listing.
			}
		}
		return entries;
	}

	#read(file: WatchedFile): void {
		if (file.reading) {
			file.again = true;
			return;
		}
		file.reading = true;
		// Never rejects: every failure is caught inside.
		this.#track(this.#readUntilSettled(file));
	}

	async #readUntilSettled(file: WatchedFile): Promise<void> {
		try {
			do {
				file.again = false;
				let text: string | undefined;
				try {
					text = await readTextIfExists(join(this.#dir, file.name));
					if (text === undefined && file.last !== undefined) {
						await delay(CONFIRM_GONE_DELAY);
						text = await readTextIfExists(join(this.#dir, file.name));
					}
				} catch {
					// Unreadable for now (permissions, a flaky disk): the next change or poll retries.
					continue;
				}
				if (text !== file.last && this.#files.get(file.name) === file) {
					const previous = file.last;
					file.last = text;
					for (const listener of [...file.listeners]) tell(listener, text, previous);
				}
				if (file.again) await delay(COALESCE_DELAY);
			} while (file.again && !this.#closed);
		} finally {
			file.reading = false;
		}
	}

	#readNow(name: string): string | undefined {
		try {
			return readTextIfExistsSync(join(this.#dir, name));
		} catch {
			return undefined;
		}
	}
}

function tell(
	listener: TextListener,
	text: string | undefined,
	previous: string | undefined,
): void {
	try {
		listener(text, previous);
	} catch (error) {
		// A listener's bug is the listener's: surface it as an uncaught error, as an event
		// emitter would, without stopping the other listeners or this feed.
		queueMicrotask(() => {
			throw error;
		});
	}
}

function tellEntry(
	listener: EntryListener,
	name: string,
	text: string | undefined,
	previous: string | undefined,
): void {
	tell((t, p) => listener(name, t, p), text, previous);
}

/** What tells one version of a file from another: a write renames a new inode over the name. */
function stampOf(stats: Stats): string {
	return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

function unrefed<T extends { unref(): unknown }>(timer: T): T {
	timer.unref();
	return timer;
}
