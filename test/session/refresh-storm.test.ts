import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenResponseError } from '../../src/errors/index.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { sendJson, startServer, type TestServer } from '../helpers/http-server.js';

// A token endpoint whose every answer is already expired, or nearly: what a misconfigured server
// (or one whose clock is far off) sends. Its tokens still work at the API, as they did in the issue.
let server: TestServer;
let expiresIn: unknown;
let tokenRequests = 0;
let apiRequests = 0;
beforeAll(async () => {
	server = await startServer((request, response) => {
		if (request.url === '/token') {
			tokenRequests++;
			sendJson(response, 200, {
				access_token: `at-${tokenRequests}`,
				token_type: 'Bearer',
				expires_in: expiresIn,
				refresh_token: `rt-${tokenRequests}`,
			});
			return;
		}
		apiRequests++;
		sendJson(response, 200, { ok: true });
	});
});
afterAll(() => server.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a token endpoint answering tokens that are already due', () => {
	it.each([
		['-1', -1],
		['0.001', 0.001],
		['"-3600"', '-3600'],
	])(
		'expires_in %s: a few token requests in 2.5 s of requests and background refresh, not a storm',
		async (_, value) => {
			expiresIn = value;
			tokenRequests = 0;
			apiRequests = 0;
			const session = new OAuth2Session({
				clientId: 'app',
				clientSecret: 's3cret',
				tokenEndpoint: `${server.origin}/token`,
				allowedOrigins: [server.origin],
				token: { access_token: 'at-0', refresh_token: 'rt-0', expires_in: -30 },
				proactiveRefresh: true,
				retry: false,
			});
			const clamped: unknown[] = [];
			session.on('tokenLifetimeClamped', (event) => clamped.push(event.error));
			const end = Date.now() + 2_500;
			while (Date.now() < end) {
				expect((await session.fetch(`${server.origin}/api`)).status).toBe(200);
				await sleep(5);
			}
			session.close();
			expect(apiRequests).toBeGreaterThan(50);
			// One refresh for the expired start, then at most one per minRefreshInterval (2 s).
			expect(tokenRequests).toBeGreaterThanOrEqual(1);
			expect(tokenRequests).toBeLessThanOrEqual(3);
			expect(clamped).toHaveLength(tokenRequests);
			expect(clamped[0]).toBeInstanceOf(TokenResponseError);
			expect(clamped[0]).toMatchObject({ problem: 'invalid-field' });
			expect(String(clamped[0])).not.toMatch(/at-\d/);
		},
	);
});
