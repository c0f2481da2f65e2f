import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
	OAuth2ResponseError,
	ReauthenticationRequiredError,
	TokenRequestError,
} from '../../src/errors/index.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

/** A session whose token requests are all refused with an answer it cannot classify. */
const refused = (options: Partial<OAuth2SessionOptions> = {}) => {
	let tokenRequests = 0;
	const session = sessionOn(server, undefined, {
		token: { ...server.issue(), expires_in: -30 },
		retry: false,
		fetch: (input, init) => {
			if (String(input) !== server.tokenEndpoint) return fetch(input, init);
			tokenRequests++;
			return Promise.resolve(
				Response.json({ error: 'invalid_request', error_description: 'x' }, { status: 400 }),
			);
		},
		...options,
	});
	return { session, tokenRequests: () => tokenRequests };
};

/** Uses a refresh token elsewhere: with rotation, the session's next refresh is invalid_grant. */
const spend = (refreshToken: string | undefined) =>
	fetch(server.tokenEndpoint, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: `grant_type=refresh_token&refresh_token=${refreshToken}&client_id=app&client_secret=s3cret`,
	});

describe('the back-off after a failed refresh, with the token expired', () => {
	it('100 sequential requests after a refused refresh make one token request; the rest fail at once, typed', async () => {
		const { session, tokenRequests } = refused();
		const errors: unknown[] = [];
		for (let i = 0; i < 100; i++) {
			errors.push(await session.fetch(`${server.origin}/api/${i}`).catch((e: unknown) => e));
		}
		expect(tokenRequests()).toBe(1);
		expect(errors[0]).toBeInstanceOf(OAuth2ResponseError);
		const later = errors.slice(1);
		expect(later.every((e) => e instanceof TokenRequestError && e.reason === 'backoff')).toBe(true);
		const first = later[0] as TokenRequestError;
		expect(first.cause).toBe(errors[0]);
		expect(first.retryAt).toBeGreaterThan(Date.now());
		expect(first.message).toContain(new Date(first.retryAt ?? 0).toISOString());
		expect(server.stats.apiRequests).toBe(0);
		session.close();
	});

	it('doubles with each failure in a row up to 64 times refreshBackoff', async () => {
		// The session's own clock, so a machine that stalls between two readings cannot move a delay.
		let clock = Date.now();
		const now = vi.spyOn(Date, 'now').mockImplementation(() => clock);
		try {
			const { session, tokenRequests } = refused({ refreshBackoff: 1 });
			const delays: number[] = [];
			let retryAt = 0;
			session.on('refreshFailed', (e) => {
				retryAt = e.retryAt;
				delays.push(e.retryAt - Date.now());
			});
			for (let failure = 0; failure < 9; failure++) {
				await expect(session.fetch(`${server.origin}/api/x`)).rejects.toBeInstanceOf(
					OAuth2ResponseError,
				);
				// A request before retryAt is held by the back-off; one after it tries again.
				clock = retryAt - 1;
				await expect(session.fetch(`${server.origin}/api/x`)).rejects.toMatchObject({
					reason: 'backoff',
					retryAt,
				});
				clock = retryAt;
			}
			expect(tokenRequests()).toBe(9);
			expect(delays).toEqual([1, 2, 4, 8, 16, 32, 64, 64, 64]);
			session.close();
		} finally {
			now.mockRestore();
		}
	});

	it('manual refreshToken() is not held by the back-off', async () => {
		const { session, tokenRequests } = refused();
		await expect(session.fetch(`${server.origin}/api/x`)).rejects.toThrow(OAuth2ResponseError);
		await expect(session.refreshToken()).rejects.toThrow(OAuth2ResponseError);
		expect(tokenRequests()).toBe(2);
		session.close();
	});
});

describe('a session with a grant', () => {
	it('whose refresh token dies runs its grant again instead of ending', async () => {
		const session = sessionOn(server, undefined, { grant: clientCredentialsGrant() });
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		const first = session.token;
		expect(first?.refreshToken).toBeDefined();
		await spend(first?.refreshToken);
		server.revokeAccessTokens();
		server.resetStats();
		const ended: unknown[] = [];
		session.on('sessionEnded', (e) => ended.push(e));
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		// The refused refresh, then the grant.
		expect(server.stats.tokenRequests).toBe(2);
		expect(server.stats.refreshRequests).toBe(1);
		expect(ended).toEqual([]);
		expect(session.token?.accessToken).not.toBe(first?.accessToken);
		session.close();
	});

	it('without one, invalid_grant still ends the session', async () => {
		const answer = server.issue();
		const session = sessionOn(server, { ...answer, expires_in: -30 });
		await spend(answer.refresh_token);
		await expect(session.fetch(`${server.origin}/api/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		session.close();
	});
});
