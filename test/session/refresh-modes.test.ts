import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenExpiredError, TokenUpdated } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

const expired = () => ({ ...server.issue(), expires_in: -30 });
const make = (refresh: 'auto' | 'raise-updated' | 'manual', onTokenUpdated?: (t: Token) => void) =>
	new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: server.tokenEndpoint,
		allowedOrigins: [server.origin],
		token: expired(),
		refresh,
		proactiveRefresh: false,
		...(onTokenUpdated ? { onTokenUpdated } : {}),
	});

describe("refresh: 'auto'", () => {
	it('refreshes, saves, and sends the request with the new token', async () => {
		const saved = vi.fn();
		const session = make('auto', saved);
		await session.ready;
		const old = session.token;
		const response = await session.fetch(`${server.origin}/api/me`);
		expect(response.status).toBe(200);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1, api401: 0 });
		expect(saved).toHaveBeenCalledTimes(1);
		expect(saved.mock.calls[0]?.[0]).toBe(session.token);
		expect(session.token?.accessToken).not.toBe(old?.accessToken);
		// Rotation: the answer's new refresh token replaced the old one.
		expect(session.token?.refreshToken).not.toBe(old?.refreshToken);
	});
});

describe("refresh: 'raise-updated'", () => {
	it('refreshes, throws TokenUpdated with the new token, and does not send the request', async () => {
		const session = make('raise-updated');
		const error = await session.fetch(`${server.origin}/api/me`).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TokenUpdated);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 0 });
		const token = (error as TokenUpdated).token;
		expect(token.accessToken).toBe(session.token?.accessToken);
		// The caller saves it and calls again: the request now goes out.
		const response = await session.fetch(`${server.origin}/api/me`);
		expect(response.status).toBe(200);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1 });
	});
});

describe("refresh: 'manual'", () => {
	it('throws TokenExpiredError; refreshToken() then the request succeeds', async () => {
		const session = make('manual');
		const error = await session.fetch(`${server.origin}/api/me`).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TokenExpiredError);
		expect((error as TokenExpiredError).expiresAt).toBeLessThan(Date.now());
		expect(server.stats).toMatchObject({ tokenRequests: 0, apiRequests: 0 });
		const token = await session.refreshToken();
		expect(token.isExpired()).toBe(false);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1 });
	});

	it('hands a 401 back instead of refreshing', async () => {
		const session = new OAuth2Session({
			clientId: 'app',
			clientSecret: 's3cret',
			tokenEndpoint: server.tokenEndpoint,
			allowedOrigins: [server.origin],
			token: server.issue(),
			refresh: 'manual',
		});
		await session.ready;
		server.revokeAccessTokens();
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(401);
		expect(server.stats.tokenRequests).toBe(0);
		session.close();
	});
});

describe('tokens given in any accepted form', () => {
	it('accepts a requests-oauthlib dict with expires_at in seconds', async () => {
		const answer = server.issue();
		const session = new OAuth2Session({
			clientId: 'app',
			token: { ...answer, expires_in: undefined, expires_at: Date.now() / 1000 + 600 },
			allowedOrigins: [server.origin],
		});
		await session.ready;
		expect(session.token?.expiresAt).toBeGreaterThan(Date.now() + 590_000);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		session.close();
	});

	it('accepts a Token and setToken() replaces and saves it', async () => {
		const session = new OAuth2Session({ clientId: 'app', allowedOrigins: [server.origin] });
		const events: string[] = [];
		session.on('tokenUpdated', (e) => events.push(e.source));
		await session.setToken(new Token({ accessToken: server.issue().access_token }));
		expect(events).toEqual(['set']);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		session.close();
	});
});
