/**
 * IndexedDBStore in real headless Chromium when IndexedDB does not cooperate: another tab deleting
 * or upgrading the database, an open blocked behind an upgrade, records larger than a record may
 * be. (A quota too small for a write could not be made to fail a write here: Chromium's
 * `Storage.overrideQuotaForOrigin` did not apply to this context's database.)
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { encodeStoredRecord, MAX_RECORD_BYTES } from '../../src/storage/token-store.js';
import { type BrowserHarness, startBrowserHarness } from '../helpers/browser.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { PageStore } from '../helpers/page-store.js';
import { requireBinary } from '../helpers/requirements.js';

const chromium = requireBinary('chromium', 'apt-get install -y --no-install-recommends chromium', [
	'/usr/bin/chromium',
]);

const record = (accessToken: string) =>
	encodeStoredRecord(
		new Token({
			accessToken,
			refreshToken: `refresh-of-${accessToken}`,
			expiresAt: Date.now() + 60_000,
		}),
	);

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
		expect((await store.get('k'))?.token.access_token).toBe('two');
		await store.close();
	});

	it('another tab upgrading the database is not held up by the store, which goes on after it', async () => {
		const databaseName = database();
		const store = await PageStore.create(harness, a, { databaseName });
		await store.set('k', record('one'));
		const upgrade = await b.evaluate((d) => window.harness.requestUpgrade(d, 2), databaseName);
		expect(await b.evaluate((id) => window.harness.upgraded(id), upgrade)).toBe('upgraded');
		expect((await store.get('k'))?.token.access_token).toBe('one');
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
		expect((await store.get('k'))?.token.access_token).toBe('one');
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
		expect((await store.get('k'))?.token.access_token).toBe('one');
		await store.close();
	});
});
