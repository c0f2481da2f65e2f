/**
 * Chromium tabs of one origin sharing a DPoP-bound token whose access token expired, on one
 * IndexedDBStore that keeps the key as a non-extractable CryptoKeyPair, against oidc-provider with
 * DPoP and nonces: one refresh, every request succeeds, and every proof carries the one key. And
 * the SPA sign-in with PAR: a page pushes (the code bound to its key by `dpop_jkt`) and goes away,
 * as it does when it sends the user to the server; a new page, a new session on the same store,
 * reads the key stored before the first token and exchanges the code with it.
 */
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import { type BrowserHarness, startBrowserHarness } from '../helpers/browser.js';
import type { PageSessionOptions } from '../helpers/browser-harness.js';
import { DPOP_REDIRECT_URI } from '../helpers/dpop-session.js';
import { PageStore } from '../helpers/page-store.js';
import { requireChromium } from '../helpers/requirements.js';

const chromium = requireChromium();

const TABS = 4;
const REQUESTS_PER_TAB = 25;

/** The thumbprint of the key a DPoP proof's header embeds. */
async function proofThumbprint(proof: string): Promise<string> {
	const header = JSON.parse(Buffer.from(proof.split('.')[0] ?? '', 'base64url').toString()) as {
		jwk: JWK;
	};
	return calculateJwkThumbprint(header.jwk);
}

describe.skipIf(chromium.missing)(chromium.title('DPoP across Chromium tabs'), () => {
	let server: AuthServer;
	let harness: BrowserHarness;

	beforeAll(async () => {
		server = await startAuthServer({ redirectUri: DPOP_REDIRECT_URI, dpop: true });
		// The pages live on the server's own origin: the proofs' htu name it, with no proxy between.
		harness = await startBrowserHarness({ executablePath: chromium.path ?? '', at: server.origin });
	});
	afterAll(async () => {
		await harness?.close();
		await server?.close();
	});

	it(`${TABS} tabs x ${REQUESTS_PER_TAB} requests with an expired DPoP-bound token: 1 refresh, all succeed, one key`, async () => {
		const sessionOptions: PageSessionOptions = {
			storeKey: 'shared',
			origin: server.origin,
			dpopClient: {
				clientId: server.clients.public.clientId,
				authorizationEndpoint: server.authorizationEndpoint,
				redirectUri: DPOP_REDIRECT_URI,
				scope: server.scope,
			},
		};
		const databaseName = 'dpop-tabs';
		const pages = await Promise.all(Array.from({ length: TABS }, () => harness.open()));
		const first = pages[0] as Page;

		// The key is made in the page at sign-in, so what IndexedDB keeps is a real CryptoKeyPair.
		const seed = await PageStore.create(harness, first, { databaseName });
		const signer = await first.evaluate(
			([id, options]) => window.harness.createSession(id, options),
			[seed.id, sessionOptions] as const,
		);
		const url = await first.evaluate((id) => window.harness.authorizationUrl(id), signer);
		const signedIn = await first.evaluate(
			([id, response, issuer]) => window.harness.signIn(id, response, issuer),
			[signer, await server.approve(url), server.issuer] as const,
		);
		expect(signedIn).toEqual({ ok: true, value: undefined });
		const bound = await first.evaluate((id) => window.harness.dpopThumbprint(id), signer);
		expect(bound).toMatch(/^[\w-]{43}$/);
		const signedInToken = (await first.evaluate((id) => window.harness.sessionState(id), signer))
			.accessToken;
		await first.evaluate((id) => window.harness.closeSession(id), signer);
		await first.evaluate(([id]) => window.harness.expireStoredToken(id, 'shared'), [
			seed.id,
		] as const);
		const stored = await first.evaluate(([name]) => window.harness.raw(name, 'tokens', 'shared'), [
			databaseName,
		] as const);
		expect((stored.value as { dpop?: { jkt?: string } }).dpop?.jkt).toBe(bound);

		const tabs: { page: Page; session: number }[] = [];
		for (const page of pages) {
			const store = await PageStore.create(harness, page, { databaseName });
			expect(store.lockKind).toBe('web-locks');
			const session = await page.evaluate(
				([id, options]) => window.harness.createSession(id, options),
				[store.id, sessionOptions] as const,
			);
			tabs.push({ page, session });
		}

		// Every proof the tabs send, read off the wire as it leaves the browser.
		const proofs: Promise<{ path: string; thumbprint: string } | undefined>[] = [];
		const onRequest = (request: Request) => {
			proofs.push(
				request.allHeaders().then(async (headers) => {
					const proof = headers.dpop;
					if (proof === undefined) return undefined;
					return {
						path: new URL(request.url()).pathname,
						thumbprint: await proofThumbprint(proof),
					};
				}),
			);
		};
		harness.context.on('request', onRequest);
		const tokenRequests = server.stats.tokenRequests;
		const issued = server.stats.refreshesIssued;
		server.stats.dpop?.thumbprints.clear();

		for (const tab of tabs) {
			await tab.page.evaluate(([id, n, origin]) => window.harness.arm(id, n, origin), [
				tab.session,
				REQUESTS_PER_TAB,
				server.origin,
			] as const);
		}
		await first.evaluate(() => window.harness.go());
		const statuses = await Promise.all(
			tabs.map(
				async (tab) =>
					(await tab.page.evaluate((id) => window.harness.statuses(id), tab.session)) ?? [],
			),
		);
		harness.context.off('request', onRequest);
		const sent = (await Promise.all(proofs)).filter((proof) => proof !== undefined);

		expect(server.stats.refreshesIssued - issued).toBe(1);
		// The one refresh is sent twice: its first proof has no nonce yet (use_dpop_nonce).
		expect(server.stats.tokenRequests - tokenRequests).toBe(2);
		expect(statuses.flat()).toHaveLength(TABS * REQUESTS_PER_TAB);
		expect(statuses.flat().filter((status) => status !== 200)).toEqual([]);

		expect(server.stats.dpop?.thumbprints).toEqual(new Set([bound]));
		expect(server.stats.dpop?.refused).toEqual([]);
		expect(sent.filter((proof) => proof.path === '/token')).toHaveLength(2);
		expect(sent.filter((proof) => proof.path.startsWith('/api/')).length).toBeGreaterThanOrEqual(
			TABS * REQUESTS_PER_TAB,
		);
		expect(new Set(sent.map((proof) => proof.thumbprint))).toEqual(new Set([bound]));
		const thumbprints = await Promise.all(
			tabs.map((tab) => tab.page.evaluate((id) => window.harness.dpopThumbprint(id), tab.session)),
		);
		expect(thumbprints).toEqual(tabs.map(() => bound));

		const states = await Promise.all(
			tabs.map((tab) => tab.page.evaluate((id) => window.harness.sessionState(id), tab.session)),
		);
		expect(states.reduce((sum, state) => sum + state.tokenRequests, 0)).toBe(2);
		expect(new Set(states.map((state) => state.accessToken))).toEqual(
			new Set([states[0]?.accessToken]),
		);
		expect(states[0]?.accessToken).not.toBe(signedInToken);
		await Promise.all(pages.map((page) => page.close()));
	}, 120_000);

	/** A page with a DPoP session of the pushing client on the shared IndexedDB. */
	async function pageWithSession(): Promise<{ page: Page; session: number }> {
		const page = await harness.open();
		const store = await PageStore.create(harness, page, { databaseName: 'dpop-sign-in' });
		const options: PageSessionOptions = {
			storeKey: 'signed-in',
			origin: server.origin,
			dpopClient: {
				clientId: server.clients.parPublic.clientId,
				authorizationEndpoint: server.authorizationEndpoint,
				redirectUri: DPOP_REDIRECT_URI,
				scope: server.scope,
				pushedAuthorizationRequestEndpoint: server.pushedAuthorizationRequestEndpoint,
			},
		};
		const session = await page.evaluate(
			([id, sessionOptions]) => window.harness.createSession(id, sessionOptions),
			[store.id, options] as const,
		);
		return { page, session };
	}

	/** The status of one request to the API through a page's session. */
	function callApi(tab: { page: Page; session: number }): Promise<number | undefined> {
		return tab.page.evaluate(([id, url]) => window.harness.fetchStatus(id, url), [
			tab.session,
			`${server.api}/me`,
		] as const);
	}

	it('a page pushes and leaves; a new page exchanges the code with the key stored before it', async () => {
		const leaving = await pageWithSession();
		const pushes = server.stats.parRequests;
		const pushed = await leaving.page.evaluate(
			(id) => window.harness.startSignIn(id),
			leaving.session,
		);
		// Pushed with a proof: the first had no nonce (use_dpop_nonce), the second had it.
		expect(server.stats.parRequests - pushes).toBe(2);
		expect([...new URL(pushed.url).searchParams.keys()].sort()).toEqual([
			'client_id',
			'request_uri',
		]);
		const jkt = await leaving.page.evaluate(
			(id) => window.harness.dpopThumbprint(id),
			leaving.session,
		);
		// What IndexedDB keeps before the first token: the key pair itself, and no token.
		const stored = await leaving.page.evaluate(
			([name]) => window.harness.raw(name, 'tokens', 'signed-in'),
			['dpop-sign-in'] as const,
		);
		expect(stored.value).toMatchObject({ version: 2, dpop: { jkt } });
		expect((stored.value as { token?: unknown }).token).toBeUndefined();
		await leaving.page.close();

		const callback = await server.approve(pushed.url);
		const landing = await pageWithSession();
		const signedIn = await landing.page.evaluate(
			([id, response, issuer, pending]) => window.harness.signIn(id, response, issuer, pending),
			[
				landing.session,
				callback,
				server.issuer,
				{ state: pushed.state, codeVerifier: pushed.codeVerifier },
			] as const,
		);
		expect(signedIn).toEqual({ ok: true, value: undefined });
		expect(
			await landing.page.evaluate((id) => window.harness.dpopThumbprint(id), landing.session),
		).toBe(jkt);

		// The API checks each proof against the token's cnf.jkt.
		server.stats.dpop?.thumbprints.clear();
		expect(await callApi(landing)).toBe(200);
		expect(server.stats.dpop?.thumbprints).toEqual(new Set([jkt]));
		expect(server.stats.dpop?.refused).toEqual([]);

		// Another tab opened later signs with the same key.
		const later = await pageWithSession();
		expect(await callApi(later)).toBe(200);
		expect(server.stats.dpop?.thumbprints).toEqual(new Set([jkt]));
		await Promise.all([landing.page.close(), later.page.close()]);
	}, 120_000);
});
