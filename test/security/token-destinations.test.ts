// Security, in one place: where the access token may go (allowed origins only, through any redirect
// and any profile hook) and over what (no plain http: off loopback, for every request that carries
// a credential). Counted at real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { InsecureTransportError, OriginNotAllowedError } from '../../src/errors/index.js';
import { clientSecretBasic } from '../../src/protocol/client-authentication.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { discover } from '../../src/session/discover.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { requestToken } from '../../src/session/request-token.js';
import { revokeToken } from '../../src/session/revoke.js';
import type { OAuthTestServer } from '../helpers/oauth-server.js';
import { twoOrigins } from '../helpers/two-origins.js';

// `api` is allowed, `other` is not.
const servers = twoOrigins();

const sessionFor = (options: { profile?: ReturnType<typeof defineProfile> } = {}) =>
	new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: servers.api.tokenEndpoint,
		token: servers.api.issue(),
		allowedOrigins: [servers.api.origin],
		...options,
	});
const redirect = (from: OAuthTestServer, to: string, status = 302) =>
	`${from.origin}/redirect?status=${status}&to=${encodeURIComponent(to)}`;

describe('the access token goes only to allowed origins', () => {
	it('a request to another origin is refused before anything is sent', async () => {
		const session = sessionFor();
		await expect(session.fetch(`${servers.other.origin}/elsewhere`)).rejects.toBeInstanceOf(
			OriginNotAllowedError,
		);
		expect(servers.other.stats.leaked).toEqual([]);
		session.close();
	});

	it.each([301, 302, 303, 307, 308])(
		'a %i to another origin arrives there without the token',
		async (status) => {
			const session = sessionFor();
			const response = await session.fetch(
				redirect(servers.api, `${servers.other.origin}/elsewhere/x`, status),
				{
					method: 'POST',
					body: 'x=1',
				},
			);
			expect(await response.json()).toEqual({ authorization: null });
			expect(servers.other.stats.leaked).toEqual([]);
			session.close();
		},
	);

	it.each([301, 302, 303, 307, 308])(
		'a %i chain that leaves and comes back to an allowed origin stays without the token',
		async (status) => {
			const session = sessionFor();
			const back = redirect(servers.other, `${servers.api.origin}/elsewhere/back`, status);
			const response = await session.fetch(redirect(servers.api, back, status));
			expect(await response.json()).toEqual({ authorization: null });
			expect([...servers.api.stats.leaked, ...servers.other.stats.leaked]).toEqual([]);
			session.close();
		},
	);

	it('a profile hook that rewrites the URL to another origin is refused, nothing sent', async () => {
		const session = sessionFor({
			profile: defineProfile({
				name: 'rewrites',
				hooks: {
					protectedRequest: [
						(request) => new Request(`${servers.other.origin}/elsewhere`, request),
					],
				},
			}),
		});
		await expect(session.fetch(`${servers.api.origin}/api/me`)).rejects.toBeInstanceOf(
			OriginNotAllowedError,
		);
		expect(servers.other.stats.leaked).toEqual([]);
		expect(servers.api.stats.apiRequests).toBe(0);
		session.close();
	});

	it('a profile hook whose URL redirects elsewhere: the token is dropped at the hop', async () => {
		const session = sessionFor({
			profile: defineProfile({
				name: 'redirects',
				hooks: {
					protectedRequest: [
						(request) =>
							new Request(
								redirect(servers.api, `${servers.other.origin}/elsewhere/hooked`),
								request,
							),
					],
				},
			}),
		});
		const response = await session.fetch(`${servers.api.origin}/api/me`);
		expect(await response.json()).toEqual({ authorization: null });
		expect(servers.other.stats.leaked).toEqual([]);
		session.close();
	});
});

describe('no credential over plain http: off loopback', () => {
	// Nothing listens there: any attempt to send would fail as a network error, not as this.
	const insecure = 'http://auth.example.com';

	it('session.fetch to an allowed http: origin', async () => {
		const session = new OAuth2Session({
			clientId: 'app',
			token: { access_token: 'at-1' },
			allowedOrigins: ['http://api.example.com'],
		});
		await expect(session.fetch('http://api.example.com/me')).rejects.toBeInstanceOf(
			InsecureTransportError,
		);
	});

	it("the session's token endpoint (fetchToken) and revocation endpoint (logout)", async () => {
		const sent: string[] = [];
		const session = new OAuth2Session({
			clientId: 'app',
			clientSecret: 's3cret',
			tokenEndpoint: `${insecure}/token`,
			revocationEndpoint: `${insecure}/revoke`,
			token: { access_token: 'at-1', refresh_token: 'rt-1' },
			fetch: async (input) => {
				sent.push(String(input));
				return new Response(null, { status: 500 });
			},
		});
		await expect(session.fetchToken({ grant: clientCredentialsGrant() })).rejects.toBeInstanceOf(
			InsecureTransportError,
		);
		await expect(session.logout()).rejects.toBeInstanceOf(InsecureTransportError);
		expect(sent).toEqual([]);
	});

	it('requestToken, revokeToken and discover', async () => {
		const sent: string[] = [];
		const fetch = async (input: RequestInfo | URL) => {
			sent.push(String(input));
			return new Response(null, { status: 500 });
		};
		const clientAuthentication = clientSecretBasic('app', 's3cret');
		await expect(
			requestToken({
				tokenEndpoint: `${insecure}/token`,
				grant: clientCredentialsGrant(),
				clientAuthentication,
				fetch,
			}),
		).rejects.toBeInstanceOf(InsecureTransportError);
		await expect(
			revokeToken({
				revocationEndpoint: `${insecure}/revoke`,
				token: 'rt-1',
				clientAuthentication,
				fetch,
			}),
		).rejects.toBeInstanceOf(InsecureTransportError);
		await expect(discover(insecure, { fetch, cache: false })).rejects.toBeInstanceOf(
			InsecureTransportError,
		);
		expect(sent).toEqual([]);
	});

	it('loopback http: is allowed (RFC 8252 §7.3)', async () => {
		const session = sessionFor();
		expect((await session.fetch(`${servers.api.origin}/api/me`)).status).toBe(200);
		session.close();
	});
});
