import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;

beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 30 });
});
afterEach(() => {
	server.resetStats();
	Object.assign(server.settings, { tokenLatency: 30, tokenFailures: [] });
});
afterAll(() => server.close());

const sessionWith = (token: object, options: Partial<OAuth2SessionOptions> = {}) =>
	sessionOn(server, token, options);

async function fireAll(
	session: OAuth2Session,
	count: number,
	path = (i: number) => `/api/item/${i}`,
) {
	return Promise.all(
		Array.from({ length: count }, (_, i) =>
			session.fetch(`${server.origin}${path(i)}`).then((r) => r.status),
		),
	);
}

describe('one refresh at a time', () => {
	it('100 concurrent requests with an expired token: exactly 1 token request, 100 succeed', async () => {
		const session = sessionWith({ ...server.issue(), expires_in: -60 });
		const statuses = await fireAll(session, 100);
		expect(server.stats.tokenRequests).toBe(1);
		expect(statuses.filter((s) => s === 200)).toHaveLength(100);
		expect(server.stats.api401).toBe(0);
		session.close();
	});

	it('100 concurrent requests with a revoked token: exactly 1 token request, 100 succeed, late 401s included', async () => {
		const session = sessionWith(server.issue());
		await session.ready;
		server.revokeAccessTokens();
		// Half the requests are answered 300 ms late, after the refresh has finished, still with a 401.
		const statuses = await fireAll(session, 100, (i) =>
			i % 2 === 0 ? `/api/a/${i}` : `/api/b/${i}?delay=300`,
		);
		expect(server.stats.tokenRequests).toBe(1);
		expect(statuses.filter((s) => s === 200)).toHaveLength(100);
		expect(server.stats.api401).toBe(100);
		// 100 first tries + 100 retries, never more than one retry each.
		expect(server.stats.apiRequests).toBe(200);
		session.close();
	});

	it('a 401 for a token that keeps failing is retried once, never looped', async () => {
		server.settings.accessTokenLifetime = -1; // every token the server issues is already dead
		const session = sessionWith(server.issue({ expiresIn: 3600 }));
		await session.ready;
		server.revokeAccessTokens();
		const response = await session.fetch(`${server.origin}/api/x`);
		expect(response.status).toBe(401);
		expect(server.stats.apiRequests).toBe(2);
		expect(server.stats.tokenRequests).toBe(1);
		server.settings.accessTokenLifetime = 3600;
		session.close();
	});

	it('sequential waves across several expiries refresh once per expiry', async () => {
		const session = sessionWith({ ...server.issue(), expires_in: -1 });
		for (let wave = 0; wave < 3; wave++) {
			const statuses = await fireAll(session, 20);
			expect(statuses.every((s) => s === 200)).toBe(true);
			server.revokeAccessTokens();
		}
		// The first wave refreshes for expiry; the next two for the revocation before them.
		expect(server.stats.tokenRequests).toBe(3);
		session.close();
	});
});
