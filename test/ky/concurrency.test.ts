import { HTTPError } from 'ky';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { kinds, kyFor, rejection, revokedSession, sessionOn } from './clients.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 30 });
});
afterEach(() => {
	server.resetStats();
	server.settings.accessTokenLifetime = 3600;
});
afterAll(() => server.close());

describe.each(kinds)('%s: one refresh at a time', (kind) => {
	it('100 concurrent requests with an expired token: exactly 1 token request, 100 succeed', async () => {
		const session = sessionOn(server, { ...server.issue(), expires_in: -60 });
		const api = kyFor(kind, session, { baseUrl: server.origin });
		const bodies = await Promise.all(
			Array.from({ length: 100 }, (_, i) => api.get(`api/item/${i}`).json<{ ok: boolean }>()),
		);
		expect(bodies.filter((body) => body.ok)).toHaveLength(100);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 100, api401: 0 });
		session.close();
	});

	it('100 concurrent requests with a revoked token, late 401s included: exactly 1 token request, 100 succeed', async () => {
		const session = await revokedSession(server);
		const api = kyFor(kind, session, { baseUrl: server.origin });
		// Half are answered 300 ms late, after the refresh has finished, still with a 401.
		const statuses = await Promise.all(
			Array.from({ length: 100 }, (_, i) =>
				api.get(i % 2 === 0 ? `api/a/${i}` : `api/b/${i}?delay=300`).then((r) => r.status),
			),
		);
		expect(statuses.filter((status) => status === 200)).toHaveLength(100);
		// 100 first tries, all refused, and 100 retries: one each, never more.
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 200, api401: 100 });
		session.close();
	});

	it('a token the server keeps refusing is retried once, never looped', async () => {
		server.settings.accessTokenLifetime = -1; // every token the server issues is already dead
		const session = await revokedSession(server);
		const api = kyFor(kind, session, { baseUrl: server.origin });
		const error = await rejection(api.get('api/x'));
		expect(error).toBeInstanceOf(HTTPError);
		expect((error as HTTPError).response.status).toBe(401);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 2, api401: 2 });
		session.close();
	});
});
