import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
	OAuth2ResponseError,
	ReauthenticationRequiredError,
	TokenRequestError,
} from '../../src/errors/index.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => {
	server.resetStats();
	Object.assign(server.settings, { tokenLatency: 0, tokenFailures: [], revokeGrantOnReuse: false });
});
afterAll(() => server.close());

const make = (options: Partial<OAuth2SessionOptions> = {}) =>
	sessionOn(server, undefined, {
		retry: { retries: 2, minTimeout: 10, maxTimeout: 20 },
		...options,
	});

describe('a caller that aborts', () => {
	it('does not cancel the refresh the others share, and is released at once', async () => {
		server.settings.tokenLatency = 600;
		const session = make({ token: { ...server.issue(), expires_in: -30 } });
		const controller = new AbortController();
		const aborted = session.fetch(`${server.origin}/api/a`, { signal: controller.signal });
		const others = Array.from({ length: 5 }, (_, i) => session.fetch(`${server.origin}/api/b${i}`));
		setTimeout(() => controller.abort(), 30);
		await session.ready;
		const before = session.token?.accessToken;
		await expect(aborted).rejects.toThrow();
		// Released at its abort, while the shared refresh was still waiting for its answer.
		expect(session.token?.accessToken).toBe(before);
		const statuses = await Promise.all(others.map((p) => p.then((r) => r.status)));
		expect(statuses).toEqual([200, 200, 200, 200, 200]);
		expect(server.stats.tokenRequests).toBe(1);
	});

	it('with a signal aborted already: rejects with its reason and sends nothing, fresh token or due', async () => {
		const reason = new Error('the caller gave up');
		for (const expires_in of [3600, -30]) {
			const session = make({ token: { ...server.issue(), expires_in }, proactiveRefresh: false });
			await session.ready;
			await expect(
				session.fetch(`${server.origin}/api/a`, { signal: AbortSignal.abort(reason) }),
			).rejects.toBe(reason);
			session.close();
		}
		// A refresh started anyway would reach the server a moment later.
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(server.stats.apiRequests).toBe(0);
		expect(server.stats.tokenRequests).toBe(0);
	});
});

describe('transient failures keep the session', () => {
	it('a refresh failing with 503 then succeeding serves every request', async () => {
		server.settings.tokenFailures = [503];
		const session = make({ token: { ...server.issue(), expires_in: -30 } });
		const statuses = await Promise.all(
			Array.from({ length: 10 }, (_, i) =>
				session.fetch(`${server.origin}/api/${i}`).then((r) => r.status),
			),
		);
		expect(statuses.every((s) => s === 200)).toBe(true);
		expect(server.stats.tokenRequests).toBe(2);
	});

	it('keeps serving a still-valid token while the token endpoint is down, and reports it', async () => {
		server.settings.tokenFailures = [503, 503, 503];
		// Due (inside the 30 s leeway) but still valid for 10 s.
		const session = make({ token: { ...server.issue(), expires_in: 10 }, leeway: 30_000 });
		const failures: unknown[] = [];
		session.on('refreshFailed', (e) => failures.push(e.error));
		const response = await session.fetch(`${server.origin}/api/me`);
		expect(response.status).toBe(200);
		expect(failures).toHaveLength(1);
		expect(failures[0]).toBeInstanceOf(TokenRequestError);
		expect(session.token?.refreshToken).toBeDefined();
		// Backing off: the next request does not hit the token endpoint again.
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(server.stats.tokenRequests).toBe(3);
	});

	it('an expired token with the token endpoint down fails the request with a typed error, tokens kept', async () => {
		server.settings.tokenFailures = [502, 502, 502];
		const store = new MemoryStore();
		const session = make({
			token: { ...server.issue(), expires_in: -30 },
			store,
			refreshBackoff: 20,
		});
		const error = await session.fetch(`${server.origin}/api/me`).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TokenRequestError);
		expect(await store.get('default')).toBeDefined();
		// The endpoint is back: the first request after the back-off refreshes and succeeds.
		await new Promise((resolve) => setTimeout(resolve, 30));
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
	});
});

describe('only invalid_grant ends a session', () => {
	it('clears the store, emits sessionEnded, and callers get ReauthenticationRequiredError', async () => {
		const store = new MemoryStore();
		const answer = server.issue();
		const session = make({ token: { ...answer, expires_in: -30 }, store });
		await session.ready;
		// Spend the refresh token elsewhere, so ours is refused.
		await fetch(server.tokenEndpoint, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: `grant_type=refresh_token&refresh_token=${answer.refresh_token}&client_id=app&client_secret=s3cret`,
		});
		server.resetStats();
		const ended: unknown[] = [];
		session.on('sessionEnded', (e) => ended.push(e.error));
		const results = await Promise.allSettled(
			Array.from({ length: 5 }, () => session.fetch(`${server.origin}/api/me`)),
		);
		expect(
			results.every(
				(r) => r.status === 'rejected' && r.reason instanceof ReauthenticationRequiredError,
			),
		).toBe(true);
		expect(server.stats.tokenRequests).toBe(1);
		expect(ended).toHaveLength(1);
		expect((ended[0] as Error).cause).toMatchObject({ error: 'invalid_grant' });
		expect(await store.get('default')).toBeUndefined();
		expect(session.token).toBeUndefined();
	});

	it.each(['invalid_client', 'unauthorized_client'])(
		'%s is a configuration error: reported, tokens kept in every store, tried again after the back-off',
		async (code) => {
			const store = new MemoryStore();
			let refuse = true;
			const session = make({
				token: { ...server.issue(), expires_in: -30 },
				store,
				refreshBackoff: 50,
				fetch: (input, init) =>
					refuse && String(input) === server.tokenEndpoint
						? Promise.resolve(Response.json({ error: code }, { status: 401 }))
						: fetch(input, init),
			});
			const ended: unknown[] = [];
			const failed: unknown[] = [];
			session.on('sessionEnded', (e) => ended.push(e));
			session.on('refreshFailed', (e) => failed.push(e.error));
			const error = await session.fetch(`${server.origin}/api/me`).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(OAuth2ResponseError);
			expect(error).not.toBeInstanceOf(ReauthenticationRequiredError);
			expect(error).toMatchObject({ error: code });
			expect(failed).toEqual([error]);
			expect(ended).toEqual([]);
			expect(session.token?.refreshToken).toBeDefined();
			expect(await store.get('default')).toBeDefined();
			// The configuration is fixed: after the back-off, the same refresh token works.
			refuse = false;
			await new Promise((resolve) => setTimeout(resolve, 60));
			expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
			expect(server.stats.refreshRequests).toBe(1);
			session.close();
		},
	);

	it('a token without a refresh token and no grant ends the session when it expires', async () => {
		const { refresh_token: _, ...noRefresh } = server.issue();
		const session = make({ token: { ...noRefresh, expires_in: -1 } });
		await expect(session.fetch(`${server.origin}/api/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		expect(server.stats.tokenRequests).toBe(0);
	});
});

describe('renewal without a refresh token', () => {
	it('a client credentials session gets its first token and renews it by itself', async () => {
		const session = make({ grant: clientCredentialsGrant() });
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		server.revokeAccessTokens();
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(server.stats.tokenRequests).toBe(2);
		session.close();
	});

	it('a session with neither a token nor a grant says how to sign in, and sends nothing', async () => {
		const session = make();
		const attempt = session.fetch(`${server.origin}/api/me`);
		await expect(attempt).rejects.toThrow(ReauthenticationRequiredError);
		await expect(attempt).rejects.toThrow(
			/fetchToken\(\) or setToken\(\), or with `oauth2-session login`/,
		);
		expect(server.stats.tokenRequests).toBe(0);
		expect(server.stats.apiRequests).toBe(0);
		session.close();
	});
});

describe('what a refresh answer says', () => {
	it('an answer without a refresh token keeps the old one (no rotation)', async () => {
		server.settings.rotateRefreshTokens = false;
		const answer = server.issue();
		const session = make({ token: { ...answer, expires_in: -1 } });
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(session.token?.refreshToken).toBe(answer.refresh_token);
		server.settings.rotateRefreshTokens = true;
	});

	it('a changed scope is reported, never an error', async () => {
		const session = make({ token: { ...server.issue(), scope: 'read', expires_in: -1 } });
		const changes: unknown[] = [];
		session.on('tokenUpdated', (e) => changes.push(e.scopeChanged));
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(changes).toEqual([{ previous: ['read'], current: ['read', 'write'] }]);
	});
});
