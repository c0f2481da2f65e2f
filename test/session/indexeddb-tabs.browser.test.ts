/**
 * Tabs of one origin in real headless Chromium, each with its own OAuth2Session on one
 * IndexedDBStore, share a token that expired: one refresh in all, every request succeeds, and a
 * tab that did not refresh gets the new token by notification.
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { type BrowserHarness, startBrowserHarness } from '../helpers/browser.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { PageStore } from '../helpers/page-store.js';
import { requireChromium } from '../helpers/requirements.js';
import { expiredIssuedToken } from '../helpers/session.js';

const chromium = requireChromium();

const REQUESTS_PER_TAB = 25;

describe.skipIf(chromium.missing)(chromium.title('OAuth2Session across Chromium tabs'), () => {
	let oauth: OAuthTestServer;
	let harness: BrowserHarness;
	let databases = 0;

	beforeAll(async () => {
		// A slow token endpoint keeps the refresh under way while every tab wants it.
		oauth = await startOAuthServer({ tokenLatency: 150 });
		harness = await startBrowserHarness({ executablePath: chromium.path ?? '', oauth });
	});
	afterEach(() => oauth.resetStats());
	afterAll(async () => {
		await harness?.close();
		await oauth?.close();
	});

	interface Tab {
		page: Page;
		session: number;
	}

	/** Seeds an expired token, then opens `count` tabs (plus an idle one) each with a session. */
	async function tabsSharingAnExpiredToken(count: number, webLocks: boolean) {
		const databaseName = `tabs-${++databases}`;
		const pages = await Promise.all(
			Array.from({ length: count + 1 }, () => harness.open({ webLocks })),
		);
		const expired = expiredIssuedToken(oauth);
		const seed = await PageStore.create(harness, pages[0] as Page, { databaseName });
		await seed.set('shared', encodeStoredRecord(expired));
		const tabs: Tab[] = [];
		for (const page of pages) {
			const store = await PageStore.create(harness, page, { databaseName });
			expect(store.lockKind).toBe(webLocks ? 'web-locks' : 'lease');
			const session = await page.evaluate(
				([id, origin]) => window.harness.createSession(id, { storeKey: 'shared', origin }),
				[store.id, harness.origin] as const,
			);
			tabs.push({ page, session });
		}
		const state = (tab: Tab) =>
			tab.page.evaluate((id) => window.harness.sessionState(id), tab.session);
		for (const tab of tabs) expect((await state(tab)).accessToken).toBe(expired.accessToken);
		const idle = tabs.pop() as Tab;
		return { tabs, idle, expired, state, close: () => Promise.all(pages.map((p) => p.close())) };
	}

	/**
	 * Every tab readies its requests, then one `go` releases them all at once. `elapsed` runs from
	 * the release to the last answer.
	 */
	async function fireTogether(tabs: Tab[]): Promise<{ statuses: number[][]; elapsed: number }> {
		for (const tab of tabs) {
			await tab.page.evaluate(([id, n, origin]) => window.harness.arm(id, n, origin), [
				tab.session,
				REQUESTS_PER_TAB,
				harness.origin,
			] as const);
		}
		const started = Date.now();
		await tabs[0]?.page.evaluate(() => window.harness.go());
		const statuses = await Promise.all(
			tabs.map(
				async (tab) =>
					(await tab.page.evaluate((id) => window.harness.statuses(id), tab.session)) ?? [],
			),
		);
		return { statuses, elapsed: Date.now() - started };
	}

	for (const [kind, webLocks, count] of [
		['Web Locks', true, 4],
		['the lease (no Web Locks)', false, 3],
	] as const) {
		it(`${count} tabs x ${REQUESTS_PER_TAB} requests with an expired token, under ${kind}: 1 token request, all succeed`, async () => {
			const { tabs, idle, expired, state, close } = await tabsSharingAnExpiredToken(
				count,
				webLocks,
			);
			oauth.resetStats();
			const { statuses, elapsed } = await fireTogether(tabs);

			expect(oauth.stats.tokenRequests).toBe(1);
			expect(statuses.flat()).toHaveLength(count * REQUESTS_PER_TAB);
			expect(statuses.flat().every((status) => status === 200)).toBe(true);
			expect(oauth.stats.api401).toBe(0);
			expect(oauth.stats.apiRequests).toBe(count * REQUESTS_PER_TAB);

			const after = await Promise.all(tabs.map(state));
			const fresh = after[0]?.accessToken;
			expect(fresh).not.toBe(expired.accessToken);
			expect(after.map((s) => s.accessToken)).toEqual(after.map(() => fresh));
			expect(after.reduce((sum, s) => sum + s.tokenRequests, 0)).toBe(1);
			expect(after.filter((s) => s.tokenRequests === 0)).toHaveLength(count - 1);

			// The idle tab sent nothing and asked for nothing: only the notification can have told it.
			await expect
				.poll(async () => (await state(idle)).accessToken, { timeout: 5_000 })
				.toBe(fresh);
			expect((await state(idle)).tokenRequests).toBe(0);
			expect(oauth.stats.tokenRequests).toBe(1);
			expect(elapsed).toBeLessThan(15_000);
			await close();
		});
	}
});
