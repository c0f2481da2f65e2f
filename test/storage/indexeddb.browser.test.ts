/**
 * IndexedDBStore in real headless Chromium: the shared contract (store and peer are two tabs),
 * with Web Locks and with the lease that replaces them where they are missing, then what is
 * particular to IndexedDB: unreadable records kept, failures typed, encryption at rest.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from '../helpers/browser.js';
import type { PageStoreOptions } from '../helpers/browser-harness.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { PageStore } from '../helpers/page-store.js';
import { requireChromium } from '../helpers/requirements.js';
import { describeStoreContract, record } from './contract.js';

const chromium = requireChromium();

const hold = { ttl: 30_000, waitTimeout: 10_000 };

describe.skipIf(chromium.missing)(chromium.title('IndexedDBStore in Chromium'), () => {
	let oauth: OAuthTestServer;
	let harness: BrowserHarness;
	// Two tabs with Web Locks, two without (navigator.locks deleted before any script ran).
	let tabs: { a: Page; b: Page; c: Page; d: Page };
	let databases = 0;
	const database = () => `test-${++databases}`;

	beforeAll(async () => {
		oauth = await startOAuthServer();
		harness = await startBrowserHarness({ executablePath: chromium.path ?? '', oauth });
		const [a, b, c, d] = await Promise.all([
			harness.open(),
			harness.open(),
			harness.open({ webLocks: false }),
			harness.open({ webLocks: false }),
		]);
		tabs = { a, b, c, d } as typeof tabs;
	});

	afterAll(async () => {
		await harness?.close();
		await oauth?.close();
	});

	const storeIn = (page: Page, options: PageStoreOptions) =>
		PageStore.create(harness, page, options);

	const pair = (first: () => Page, second: () => Page) => ({
		async create() {
			const databaseName = database();
			const store = await storeIn(first(), { databaseName });
			const peer = await storeIn(second(), { databaseName });
			return {
				store,
				peer,
				cleanup: async () => {
					await Promise.all([store.close(), peer.close()]);
				},
			};
		},
	});

	describeStoreContract(
		'IndexedDBStore with Web Locks',
		pair(
			() => tabs.a,
			() => tabs.b,
		),
	);
	describeStoreContract(
		'IndexedDBStore without Web Locks (lease)',
		pair(
			() => tabs.c,
			() => tabs.d,
		),
	);

	const raw = (page: Page, databaseName: string, key: string | string[]) =>
		page.evaluate(([d, k]) => window.harness.raw(d, 'tokens', k), [databaseName, key] as [
			string,
			string | string[],
		]);
	/** Takes the lock and never gives it back; resolves with when it was taken. */
	const holdForever = (store: PageStore, ttl: number) =>
		new Promise<number>((acquired) => {
			store
				.lock(
					'k',
					() => {
						acquired(Date.now());
						return new Promise(() => {});
					},
					{ ttl, waitTimeout: 5_000 },
				)
				.catch(() => {});
		});
	const putRaw = (page: Page, databaseName: string, key: string, value: unknown) =>
		page.evaluate(([d, k, v]) => window.harness.putRaw(d, 'tokens', k, v), [
			databaseName,
			key,
			value,
		] as const);

	describe('locks', () => {
		it('uses Web Locks where the page has them, the lease where it has not', async () => {
			const databaseName = database();
			expect((await storeIn(tabs.a, { databaseName })).lockKind).toBe('web-locks');
			expect((await storeIn(tabs.c, { databaseName })).lockKind).toBe('lease');
			expect(await tabs.c.evaluate(() => window.harness.webLocks())).toBe(false);
		});

		for (const [kind, pages] of [
			['Web Locks', () => [tabs.a, tabs.b]],
			['lease', () => [tabs.c, tabs.d]],
		] as const) {
			it(`${kind}: waitTimeout 0 takes a free lock at once and fails on a held one`, async () => {
				const [first, second] = pages();
				const databaseName = database();
				const store = await storeIn(first as Page, { databaseName });
				const peer = await storeIn(second as Page, { databaseName });
				const now = { ttl: 5_000, waitTimeout: 0 };
				expect(await peer.lock('k', async () => 'free', now)).toBe('free');
				let release!: () => void;
				// A signal that the lock is held, where a poll's 1 s deadline raced a loaded browser.
				let taken = () => {};
				const inside = new Promise<void>((resolve) => (taken = resolve));
				const held = store.lock(
					'k',
					() =>
						new Promise<void>((r) => {
							release = r;
							taken();
						}),
					hold,
				);
				await inside;
				await expect(peer.lock('k', async () => 'late', now)).rejects.toMatchObject({
					name: 'StorageError',
					problem: 'lock-timeout',
					key: 'k',
				});
				release();
				await held;
			});
		}

		it('Web Locks: a tab that dies holding the lock frees it at once, long before its ttl', async () => {
			const databaseName = database();
			const doomed = await harness.open();
			const holder = await storeIn(doomed, { databaseName });
			await holdForever(holder, 60_000);
			const waiter = await storeIn(tabs.a, { databaseName });
			const next = waiter.lock('k', async () => 'mine', { ttl: 5_000, waitTimeout: 20_000 });
			await doomed.close();
			// Timed from the tab's end, not from before it: closing a page on a loaded machine can take
			// seconds of its own, which say nothing of the lock.
			const closed = Date.now();
			expect(await next).toBe('mine');
			expect(Date.now() - closed).toBeLessThan(5_000);
		});

		it('lease: a tab that dies holding the lease blocks the others until its ttl runs out', async () => {
			const databaseName = database();
			const doomed = await harness.open({ webLocks: false });
			const holder = await storeIn(doomed, { databaseName });
			const ttl = 1_500;
			const asked = Date.now();
			const acquiredAt = await holdForever(holder, ttl);
			// The expiry the page wrote, on the page's clock: timed from Node, when it heard of the lease,
			// a loaded machine's late message made the lease look shorter than it was.
			const lease = (await raw(doomed, databaseName, ['lease', 'k'])).value as {
				expiresAt: number;
			};
			expect(lease.expiresAt).toBeGreaterThanOrEqual(asked + ttl - 1);
			expect(lease.expiresAt).toBeLessThanOrEqual(acquiredAt + ttl);
			await doomed.close();
			const waiter = await storeIn(tabs.c, { databaseName });
			expect(await waiter.lock('k', async () => 'mine', { ttl: 5_000, waitTimeout: 20_000 })).toBe(
				'mine',
			);
			// Not before the dead holder's lease expired (one millisecond for rounding between the
			// page's clock and Node's), and soon after, not at the end of waitTimeout.
			const waited = Date.now() - lease.expiresAt;
			expect(waited).toBeGreaterThanOrEqual(-1);
			expect(waited).toBeLessThan(5_000);
		});
	});

	describe('unreadable records', () => {
		it('a corrupt record fails get with a typed error naming the key, and is left as it is', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName });
			await putRaw(tabs.a, databaseName, 'k', 'not-a-record-xyzzy');
			const error = await store.get('k').catch((e: unknown) => e);
			expect(error).toMatchObject({ name: 'StorageError', problem: 'corrupt', key: 'k' });
			expect((error as Error).message).toContain('"k"');
			expect((error as Error).message).not.toContain('xyzzy');
			expect((await raw(tabs.a, databaseName, 'k')).value).toBe('not-a-record-xyzzy');
		});

		it('a record of a newer schema version fails get with unsupported-version', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName });
			await putRaw(tabs.a, databaseName, 'k', { ...record('one'), version: 99 });
			await expect(store.get('k')).rejects.toMatchObject({
				name: 'StorageError',
				problem: 'unsupported-version',
				key: 'k',
			});
		});

		it('the next set or delete moves an unreadable record aside to ["unreadable", key], not lost', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName });
			await putRaw(tabs.a, databaseName, 'k', 'not-a-record');
			await store.set('k', record('fresh'));
			expect((await store.get('k'))?.token?.access_token).toBe('fresh');
			expect((await raw(tabs.a, databaseName, ['unreadable', 'k'])).value).toMatchObject({
				value: 'not-a-record',
			});
			await putRaw(tabs.a, databaseName, 'k', { version: 99 });
			await store.delete('k');
			expect(await store.get('k')).toBeUndefined();
			expect((await raw(tabs.a, databaseName, ['unreadable', 'k'])).value).toMatchObject({
				value: { version: 99 },
			});
		});

		it('a readable record is replaced without a copy', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName });
			await store.set('k', record('one'));
			await store.set('k', record('two'));
			expect((await raw(tabs.a, databaseName, ['unreadable', 'k'])).value).toBeUndefined();
		});
	});

	describe('failures', () => {
		it('IndexedDB failing (no such object store) is StorageError unavailable with the cause', async () => {
			const databaseName = database();
			await tabs.a.evaluate((d) => window.harness.breakDatabase(d), databaseName);
			const store = await storeIn(tabs.a, { databaseName });
			for (const attempt of [
				() => store.get('k'),
				() => store.set('k', record('one')),
				() => store.delete('k'),
			]) {
				await expect(attempt()).rejects.toMatchObject({
					name: 'StorageError',
					problem: 'unavailable',
					key: 'k',
				});
			}
			const result = await tabs.a.evaluate(async (d) => {
				const created = await window.harness.createStore({ databaseName: d });
				if (!created.ok) return created;
				return window.harness.call(created.value.id, 'get', ['k']);
			}, databaseName);
			expect(result).toMatchObject({ ok: false, error: { cause: 'NotFoundError' } });
		});

		it('a closed store fails with unavailable', async () => {
			const store = await storeIn(tabs.a, { databaseName: database() });
			await store.set('k', record('one'));
			await store.close();
			await expect(store.get('k')).rejects.toMatchObject({ problem: 'unavailable' });
		});

		it('options are checked: a name must be a non-empty string, a key a 256-bit AES-GCM key', async () => {
			await expect(storeIn(tabs.a, { databaseName: '' })).rejects.toMatchObject({
				name: 'InvalidOptionsError',
			});
			const hmac = await tabs.a.evaluate(() => window.harness.generateKey('HMAC'));
			await expect(
				storeIn(tabs.a, { databaseName: database(), encryption: hmac }),
			).rejects.toMatchObject({ name: 'InvalidOptionsError' });
			// Records are labelled A256GCM, as the option's documentation promises.
			const short = await tabs.a.evaluate(() => window.harness.generateKey('AES-GCM-128'));
			await expect(
				storeIn(tabs.a, { databaseName: database(), encryption: short }),
			).rejects.toMatchObject({ name: 'InvalidOptionsError' });
		});
	});

	describe('encryption at rest', () => {
		const secret = 'secret-access-token-4f1c';

		it('the raw value holds no token text, only { alg, iv, ciphertext }, with a fresh IV per write', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName, encryption: true });
			await store.set('k', record(secret));
			const first = await raw(tabs.a, databaseName, 'k');
			expect(Object.keys(first.value as object).sort()).toEqual(['alg', 'ciphertext', 'iv']);
			expect(first.value).toMatchObject({ alg: 'A256GCM' });
			expect((first.value as { iv: string }).iv).toHaveLength(24);
			expect(first.text).not.toContain(secret);
			expect(first.text).not.toContain('refresh_token');
			expect(first.text).not.toContain('access_token');
			await store.set('k', record(secret));
			const second = await raw(tabs.a, databaseName, 'k');
			expect((second.value as { iv: string }).iv).not.toBe((first.value as { iv: string }).iv);
		});

		it('a record round-trips, and another tab reads it with the key generated once per database', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName, encryption: true });
			const peer = await storeIn(tabs.b, { databaseName, encryption: true });
			const value = record(secret);
			await store.set('k', value);
			expect(await store.get('k')).toEqual(value);
			expect(await peer.get('k')).toEqual(value);
			const key = await raw(tabs.a, databaseName, ['encryption-key']);
			expect(key.value).toEqual({
				extractable: false,
				usages: ['encrypt', 'decrypt'],
				algorithm: 'AES-GCM',
			});
		});

		it('tabs generating the key at the same time agree on one', async () => {
			const databaseName = database();
			const stores = await Promise.all(
				[tabs.a, tabs.b, tabs.a, tabs.b].map((page) =>
					storeIn(page, { databaseName, encryption: true }),
				),
			);
			await Promise.all(stores.map((store, i) => store.set(`k${i}`, record(`t${i}`))));
			for (const [i, store] of stores.entries()) {
				for (let j = 0; j < stores.length; j++) {
					expect((await store.get(`k${j}`))?.token?.access_token, `${i} reads ${j}`).toBe(`t${j}`);
				}
			}
		});

		it('a wrong key, or no key, gives StorageError corrupt naming the key; the record stays', async () => {
			const databaseName = database();
			const [mine, theirs] = await Promise.all([
				tabs.a.evaluate(() => window.harness.generateKey()),
				tabs.b.evaluate(() => window.harness.generateKey()),
			]);
			const store = await storeIn(tabs.a, { databaseName, encryption: mine });
			await store.set('k', record(secret));
			const wrong = await storeIn(tabs.b, { databaseName, encryption: theirs });
			const error = await wrong.get('k').catch((e: unknown) => e);
			expect(error).toMatchObject({ name: 'StorageError', problem: 'corrupt', key: 'k' });
			expect((error as Error).message).not.toContain(secret);
			const plain = await storeIn(tabs.b, { databaseName });
			await expect(plain.get('k')).rejects.toMatchObject({ problem: 'corrupt', key: 'k' });
			expect((await store.get('k'))?.token?.access_token).toBe(secret);
		});

		it('a ciphertext moved to another key does not decrypt there', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName, encryption: true });
			await store.set('k', record(secret));
			await tabs.a.evaluate(
				(d) => window.harness.copyRaw(d, 'tokens', 'k', 'elsewhere'),
				databaseName,
			);
			await expect(store.get('elsewhere')).rejects.toMatchObject({
				problem: 'corrupt',
				key: 'elsewhere',
			});
		});

		it('a record written before encryption was turned on is read, and encrypted at its next write', async () => {
			const databaseName = database();
			await (await storeIn(tabs.a, { databaseName })).set('k', record(secret));
			const store = await storeIn(tabs.a, { databaseName, encryption: true });
			expect((await store.get('k'))?.token?.access_token).toBe(secret);
			await store.set('k', record(secret));
			expect((await raw(tabs.a, databaseName, 'k')).text).not.toContain(secret);
		});

		it('another tab is notified with the decrypted record', async () => {
			const databaseName = database();
			const store = await storeIn(tabs.a, { databaseName, encryption: true });
			const peer = await storeIn(tabs.b, { databaseName, encryption: true });
			const seen: (string | undefined)[] = [];
			peer.subscribe('k', (r) => seen.push(r?.token?.access_token));
			await store.set('k', record(secret));
			await store.delete('k');
			await expect.poll(() => seen, { timeout: 5_000 }).toEqual([secret, undefined]);
		});
	});
});
