/**
 * IndexedDBStore in real headless Chromium when IndexedDB does not cooperate: another tab deleting
 * or upgrading the database, an open blocked behind an upgrade, records larger than a record may
 * be, and the origin's quota used up (a real one: Chromium's `Storage.overrideQuotaForOrigin`,
 * which only applies when set before the origin first opens IndexedDB, hence a fresh origin).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStoredRecord, MAX_RECORD_BYTES } from '../../src/storage/token-store.js';
import { type BrowserHarness, startBrowserHarness } from '../helpers/browser.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { PageStore } from '../helpers/page-store.js';
import { requireChromium } from '../helpers/requirements.js';
import { expiredIssuedToken } from '../helpers/session.js';
import { record } from './contract.js';

const chromium = requireChromium();

describe.skipIf(chromium.missing)(chromium.title('IndexedDBStore faults in Chromium'), () => {
	let oauth: OAuthTestServer;
	let harness: BrowserHarness;
	let a: Page;
	let b: Page;
	let databases = 0;
	const database = () => `faults-${++databases}`;

	beforeAll(async () => {
		oauth = await startOAuthServer();
		harness = await startBrowserHarness({ executablePath: chromium.path ?? '', oauth });
		[a, b] = await Promise.all([harness.open(), harness.open()]);
	});
	afterAll(async () => {
		await harness?.close();
		await oauth?.close();
	});

	it('a database deleted from another tab: the store lets go of its connection, and its next call opens a new one', async () => {
		const databaseName = database();
		const store = await PageStore.create(harness, a, { databaseName });
		await store.set('k', record('one'));
		// An open connection that ignores versionchange holds the delete up ("blocked").
		expect(await b.evaluate((d) => window.harness.deleteDatabase(d), databaseName)).toBe('deleted');
		expect(await store.get('k')).toBeUndefined();
		await store.set('k', record('two'));
		expect((await store.get('k'))?.token?.access_token).toBe('two');
		await store.close();
	});

	it('another tab upgrading the database is not held up by the store, which goes on after it', async () => {
		const databaseName = database();
		const store = await PageStore.create(harness, a, { databaseName });
		await store.set('k', record('one'));
		const upgrade = await b.evaluate((d) => window.harness.requestUpgrade(d, 2), databaseName);
		expect(await b.evaluate((id) => window.harness.upgraded(id), upgrade)).toBe('upgraded');
		expect((await store.get('k'))?.token?.access_token).toBe('one');
		await store.close();
	});

	it('an open blocked behind an upgrade another connection holds up: StorageError unavailable, and the next call opens once it is free', async () => {
		const databaseName = database();
		const setup = await PageStore.create(harness, a, { databaseName });
		await setup.set('k', record('one'));
		await setup.close();
		// Other code holds version 1 open and a third asks for version 2: every open waits behind it.
		const held = await b.evaluate((d) => window.harness.holdOpen(d), databaseName);
		const upgrade = await b.evaluate((d) => window.harness.requestUpgrade(d, 2), databaseName);
		const store = await PageStore.create(harness, a, { databaseName });
		await expect(store.get('k')).rejects.toMatchObject({
			name: 'StorageError',
			problem: 'unavailable',
			key: 'k',
		});
		await b.evaluate((id) => window.harness.closeHeld(id), held);
		expect(await b.evaluate((id) => window.harness.upgraded(id), upgrade)).toBe('upgraded');
		expect((await store.get('k'))?.token?.access_token).toBe('one');
		await store.close();
	}, 30_000);

	it(`a record over ${MAX_RECORD_BYTES / 1024 / 1024} MiB is corrupt when read and refused when written; what is stored stays`, async () => {
		const databaseName = database();
		const store = await PageStore.create(harness, a, { databaseName });
		const huge = record(`huge-${'x'.repeat(MAX_RECORD_BYTES)}`);
		await a.evaluate(([d, v]) => window.harness.putRaw(d, 'tokens', 'planted', v), [
			databaseName,
			huge,
		] as const);
		await expect(store.get('planted')).rejects.toMatchObject({
			name: 'StorageError',
			problem: 'corrupt',
			key: 'planted',
			message: expect.stringContaining('1 MiB'),
		});
		await store.set('k', record('one'));
		await expect(store.set('k', huge)).rejects.toMatchObject({
			name: 'StorageError',
			problem: 'corrupt',
			key: 'k',
			message: expect.stringContaining('1 MiB'),
		});
		expect((await store.get('k'))?.token?.access_token).toBe('one');
		await store.close();
	});

	it('the origin out of quota: the refreshed token is used from memory, storeError unavailable, the old record kept, and saved once there is room', async () => {
		// A browser of its own: a new port is an origin that has never opened IndexedDB, and the
		// quota override only applies to an origin set before its first open.
		const fresh = await startBrowserHarness({ executablePath: chromium.path ?? '', oauth });
		try {
			const blank = await fresh.context.newPage();
			const cdp = await fresh.context.newCDPSession(blank);
			// Room for the (empty) databases and the record, not for the filler written below.
			// navigator.storage.estimate() goes on reporting the disk's quota, not this one: what
			// shows it applies is the browser refusing the filler below.
			await cdp.send('Storage.overrideQuotaForOrigin', {
				origin: fresh.origin,
				quotaSize: 512 * 1024,
			});
			const page = await fresh.open();
			const databaseName = database();
			const store = await PageStore.create(fresh, page, { databaseName });
			const expired = expiredIssuedToken(oauth);
			await store.set('k', encodeStoredRecord(expired));
			const session = await page.evaluate(
				([id, origin]) => window.harness.createSession(id, { storeKey: 'k', origin }),
				[store.id, fresh.origin] as const,
			);
			const state = () => page.evaluate((id) => window.harness.sessionState(id), session);
			expect((await state()).accessToken).toBe(expired.accessToken);

			// The browser itself refuses the writes: no wrapper, the origin's quota is used up.
			const filled = await page.evaluate(
				(d) => window.harness.fillQuota(d),
				`${databaseName}-filler`,
			);
			expect(filled.refused).toBe('QuotaExceededError');
			expect(filled.bytes).toBeGreaterThan(0);

			oauth.resetStats();
			const request = (i: number) =>
				page.evaluate(([id, url]) => window.harness.fetchStatus(id, url), [
					session,
					`${fresh.origin}/api/item/${i}`,
				] as const);
			const statuses = await Promise.all(Array.from({ length: 5 }, (_, i) => request(i)));
			expect(statuses).toEqual([200, 200, 200, 200, 200]);
			expect(oauth.stats.tokenRequests).toBe(1);
			const refreshed = (await state()).accessToken;
			expect(refreshed).toBeDefined();
			expect(refreshed).not.toBe(expired.accessToken);

			const errors = await page.evaluate((id) => window.harness.storeErrors(id), session);
			expect(errors.length).toBeGreaterThan(0);
			for (const event of errors) {
				expect(event).toMatchObject({
					operation: 'set',
					error: {
						name: 'StorageError',
						problem: 'unavailable',
						key: 'k',
						cause: 'QuotaExceededError',
					},
				});
				expect(JSON.stringify(event)).not.toContain(refreshed);
			}
			// Still out of room: more requests go on with the token in memory, no new refresh.
			expect(await Promise.all([request(5), request(6)])).toEqual([200, 200]);
			expect(oauth.stats.tokenRequests).toBe(1);
			expect((await store.get('k'))?.token?.access_token).toBe(expired.accessToken);

			// Room again: the override lifted (no quotaSize), the kept token is saved by a retry.
			await cdp.send('Storage.overrideQuotaForOrigin', { origin: fresh.origin });
			expect(await request(7)).toBe(200);
			await expect
				.poll(async () => (await store.get('k'))?.token?.access_token, {
					timeout: 20_000,
					interval: 200,
				})
				.toBe(refreshed);
			expect(oauth.stats.tokenRequests).toBe(1);
			await store.close();
		} finally {
			await fresh.close();
		}
	}, 60_000);
});
