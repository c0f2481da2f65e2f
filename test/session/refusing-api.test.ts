import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

// An API that refuses every token (a wrong audience, a key it cannot check), beside a token
// server that issues them gladly: refreshing cannot help, so it must not happen per request.
let oauth: OAuthTestServer;
let api: TestServer;
let apiRequests = 0;
beforeAll(async () => {
	oauth = await startOAuthServer();
	api = await startServer((_, response) => {
		apiRequests++;
		response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
		response.end();
	});
});
afterEach(() => {
	oauth.resetStats();
	apiRequests = 0;
	vi.useRealTimers();
});
afterAll(async () => {
	await api.close();
	await oauth.close();
});

const make = (token: object, options: Partial<OAuth2SessionOptions> = {}) =>
	sessionOn(oauth, token, { allowedOrigins: [oauth.origin, api.origin], ...options });

async function sequential(session: OAuth2Session, count: number): Promise<number[]> {
	const statuses: number[] = [];
	for (let i = 0; i < count; i++) {
		statuses.push((await session.fetch(`${api.origin}/orders/${i}`)).status);
	}
	return statuses;
}

describe('an API that answers 401 to every token', () => {
	it.each([10, 100])('%i sequential requests make one refresh', async (count) => {
		const session = make(oauth.issue());
		const statuses = await sequential(session, count);
		expect(statuses.every((status) => status === 401)).toBe(true);
		expect(oauth.stats.tokenRequests).toBe(1);
		// The first request is retried with the refreshed token; the others are not.
		expect(apiRequests).toBe(count + 1);
	});

	it('50 concurrent requests make one refresh', async () => {
		const session = make(oauth.issue());
		const statuses = await Promise.all(
			Array.from({ length: 50 }, (_, i) =>
				session.fetch(`${api.origin}/orders/${i}`).then((r) => r.status),
			),
		);
		expect(statuses.every((status) => status === 401)).toBe(true);
		expect(oauth.stats.tokenRequests).toBe(1);
	});

	it('after a refresh for expiry, a 401 refreshes once, not per request', async () => {
		const session = make({ ...oauth.issue(), expires_in: -1 });
		expect(await sequential(session, 10)).toEqual(Array(10).fill(401));
		// The expiry's refresh, then the 401's: a token refreshed without a 401 may have been
		// revoked since (a reused refresh token revokes its whole grant), so one 401 may refresh.
		expect(oauth.stats.tokenRequests).toBe(2);
	});

	it('refreshes again once unauthorizedRefreshInterval has passed, once per interval', async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		const session = make(oauth.issue(), { unauthorizedRefreshInterval: 60_000 });
		await sequential(session, 5);
		expect(oauth.stats.tokenRequests).toBe(1);
		vi.setSystemTime(Date.now() + 59_000);
		await sequential(session, 5);
		expect(oauth.stats.tokenRequests).toBe(1);
		vi.setSystemTime(Date.now() + 2_000);
		await sequential(session, 5);
		expect(oauth.stats.tokenRequests).toBe(2);
	});

	it('unauthorizedRefreshInterval 0 refreshes on every 401', async () => {
		const session = make(oauth.issue(), { unauthorizedRefreshInterval: 0 });
		await sequential(session, 10);
		expect(oauth.stats.tokenRequests).toBe(10);
	});

	it('refuses an unauthorizedRefreshInterval that is not a number of milliseconds', () => {
		expect(() => make(oauth.issue(), { unauthorizedRefreshInterval: -1 })).toThrow(
			InvalidOptionsError,
		);
	});
});

describe('a token the API accepted, then refused', () => {
	it('is refreshed at once, even the one a 401 refreshed to a moment ago (a revocation)', async () => {
		const session = make(oauth.issue());
		await session.ready;
		for (let revocation = 1; revocation <= 3; revocation++) {
			oauth.revokeAccessTokens();
			expect((await session.fetch(`${oauth.origin}/api/me`)).status).toBe(200);
			expect(oauth.stats.tokenRequests).toBe(revocation);
		}
	});
});
