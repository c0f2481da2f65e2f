/**
 * A TokenStore in Node that forwards every call to an IndexedDBStore living in a browser page,
 * so the one contract suite runs against the real store: two PageStores on two pages are two
 * tabs. A lock is taken in the page and held there while the Node callback runs.
 */
import type { Page } from 'playwright-core';
import { StorageError, type StorageProblem } from '../../src/errors/storage-error.js';
import type {
	LockOptions,
	StoredRecord,
	StoreListener,
	TokenStore,
} from '../../src/storage/token-store.js';
import type { BrowserHarness } from './browser.js';
import type { PageError, PageResult, PageStoreOptions } from './browser-harness.js';

// subscribe() and lock requests reach their page asynchronously: every call waits for those under
// way first, so a write or a lock request made after them cannot overtake them on the way to
// another page, as it could not in one browser.
const reaching = new Set<Promise<unknown>>();

function track(promise: Promise<unknown>): void {
	reaching.add(promise);
	const settled = () => reaching.delete(promise);
	promise.then(settled, settled);
}
let subscriptions = 0;

/** Rebuilds a page's error in Node: a StorageError as the real class, anything else as an Error. */
export function fromPage(error: PageError): Error {
	if (error.name === 'StorageError') {
		return new StorageError(error.message, {
			problem: error.problem as StorageProblem,
			key: error.key,
		});
	}
	return Object.assign(new Error(error.message), { name: error.name });
}

function unwrap<T>(result: PageResult<T>): T {
	if (!result.ok) throw fromPage(result.error);
	return result.value;
}

export class PageStore implements TokenStore {
	readonly page: Page;
	readonly id: number;
	readonly lockKind: string;
	readonly #harness: BrowserHarness;

	private constructor(harness: BrowserHarness, page: Page, id: number, lockKind: string) {
		this.#harness = harness;
		this.page = page;
		this.id = id;
		this.lockKind = lockKind;
	}

	/** Creates an IndexedDBStore in `page`. @throws what the constructor throws there. */
	static async create(
		harness: BrowserHarness,
		page: Page,
		options: PageStoreOptions,
	): Promise<PageStore> {
		const created = unwrap(await page.evaluate((o) => window.harness.createStore(o), options));
		return new PageStore(harness, page, created.id, created.lockKind);
	}

	get(key: string): Promise<StoredRecord | undefined> {
		return this.#call('get', [key]) as Promise<StoredRecord | undefined>;
	}

	async set(key: string, record: StoredRecord): Promise<void> {
		await this.#call('set', [key, record]);
	}

	async delete(key: string): Promise<void> {
		await this.#call('delete', [key]);
	}

	async close(): Promise<void> {
		await this.#call('close', []);
	}

	lock<T>(key: string, fn: () => Promise<T>, options: LockOptions): Promise<T> {
		const requested = Promise.all(reaching).then(() =>
			this.page.evaluate(([id, k, o]) => window.harness.requestLock(id, k, o), [
				this.id,
				key,
				options,
			] as const),
		);
		track(requested);
		return (async () => {
			const lockId = unwrap(
				await this.page.evaluate((l) => window.harness.acquired(l), await requested),
			);
			try {
				return await fn();
			} finally {
				await this.page.evaluate((l) => window.harness.release(l), lockId);
			}
		})();
	}

	subscribe(key: string, listener: StoreListener): () => void {
		const subscription = ++subscriptions;
		this.#harness.route(subscription, (record) => listener(record as StoredRecord | undefined));
		const done = this.page.evaluate(([id, k, s]) => window.harness.subscribe(id, k, s), [
			this.id,
			key,
			subscription,
		] as const);
		track(done);
		return () => {
			this.#harness.route(subscription, undefined);
			// The page may be gone already; then so is its subscription.
			this.page.evaluate((s) => window.harness.unsubscribe(s), subscription).catch(() => {});
		};
	}

	async #call(method: 'get' | 'set' | 'delete' | 'close', args: unknown[]): Promise<unknown> {
		await Promise.all(reaching);
		return unwrap(
			await this.page.evaluate(([id, m, a]) => window.harness.call(id, m, a), [
				this.id,
				method,
				args,
			] as const),
		);
	}
}
