import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { readTextIfExists, readTextIfExistsSync } from './files.js';

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

	/** A change made through this process: readers need not wait for the event. */
	changed(name: string): void {
		const file = this.#files.get(name);
		if (file !== undefined) this.#read(file);
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
		if (this.#files.size === 0 && this.#poll !== undefined) {
			clearInterval(this.#poll);
			this.#poll = undefined;
		}
		if (this.#files.size === 0 && this.#waiters.size === 0 && this.#watcher !== undefined) {
			this.#watcher.close();
			this.#watcher = undefined;
		}
	}

	#onEvent(name: string | null): void {
		for (const file of this.#files.values()) {
			if (name === null || name === file.name) this.#read(file);
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
	}

	#read(file: WatchedFile): void {
		if (file.reading) {
			file.again = true;
			return;
		}
		file.reading = true;
		// Never rejects: every failure is caught inside.
		const reading = this.#readUntilSettled(file).then(() => {
			this.#reads.delete(reading);
		});
		this.#reads.add(reading);
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

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

function unrefed<T extends { unref(): unknown }>(timer: T): T {
	timer.unref();
	return timer;
}
