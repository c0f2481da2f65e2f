/**
 * `npm run demo:spa` in headless Chromium: sign in through the real login and consent pages, then
 * two tabs share the token in IndexedDB: no failed request, and every refresh the tabs made is one
 * the server saw (none spent a refresh token twice).
 */
import { type Browser, chromium as playwright } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpaDemo, startSpaDemo } from '../../demo/spa-server.js';
import { CHROMIUM_ARGS } from '../helpers/browser.js';
import { requireChromium } from '../helpers/requirements.js';

const chromium = requireChromium();

describe.skipIf(chromium.missing)(chromium.title('npm run demo:spa'), () => {
	let demo: SpaDemo;
	let browser: Browser;

	beforeAll(async () => {
		demo = await startSpaDemo({ accessTokenTtl: 3 });
		browser = await playwright.launch({ executablePath: chromium.path ?? '', args: CHROMIUM_ARGS });
	});
	afterAll(async () => {
		await browser?.close();
		await demo?.close();
	});

	it('signs in, and two tabs share one token: one refresh per expiry, no failure', {
		timeout: 90_000,
	}, async () => {
		const context = await browser.newContext();
		const first = await context.newPage();
		await first.goto(demo.url);
		await first.click('#sign-in');
		await first.waitForURL(/\/interaction\//);
		await first.fill('input[name=login]', 'alice');
		await first.fill('input[name=password]', 'secret');
		await first.click('button');
		await first.waitForURL(/\/interaction\//);
		await first.click('button'); // consent
		await first.waitForFunction(() => window.demo?.signedIn === true);

		const second = await context.newPage();
		await second.goto(demo.url);
		await second.waitForFunction(() => window.demo?.signedIn === true);
		// Two access token lifetimes with both tabs calling the API.
		await first.waitForFunction(() => window.demo.refreshed + window.demo.adopted >= 2, undefined, {
			timeout: 60_000,
		});
		const tabs = [
			await first.evaluate(() => window.demo),
			await second.evaluate(() => window.demo),
		];
		expect(tabs.map((tab) => tab.failed)).toEqual([0, 0]);
		expect(tabs.every((tab) => tab.ok > 0)).toBe(true);
		const refreshes = tabs[0]!.refreshed + tabs[1]!.refreshed;
		expect(refreshes).toBeGreaterThanOrEqual(1);
		expect(demo.authServer.stats.refreshRequests).toBe(refreshes);
		await context.close();
	});
});
