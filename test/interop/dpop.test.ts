/**
 * DPoP (RFC 9449) end to end against oidc-provider with `features.dPoP` and nonces required at the
 * token endpoint, and an API that checks every proof (demo/dpop-resource.ts) with its own nonce.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import { DPoPError } from '../../src/index.js';
import { DPOP_REDIRECT_URI, dpopSession, signIn } from '../helpers/dpop-session.js';

const redirectUri = DPOP_REDIRECT_URI;

let server: AuthServer;
let plain: AuthServer;
beforeAll(async () => {
	[server, plain] = await Promise.all([
		startAuthServer({ redirectUri, dpop: true }),
		startAuthServer({ redirectUri }),
	]);
});
afterAll(async () => {
	await Promise.all([server.close(), plain.close()]);
});

const dpopStats = () => {
	const stats = server.stats.dpop;
	if (stats === undefined) throw new Error('the server has no DPoP');
	return stats;
};

describe('authorization code + PKCE + DPoP', () => {
	it('gets a DPoP token (nonce retried once), and calls the API with proofs (nonce retried once, then none)', async () => {
		const session = dpopSession(server);
		const tokenRequests = server.stats.tokenRequests;
		const token = await signIn(session, server);
		expect(token.tokenType).toBe('DPoP');
		// The first proof had no nonce: use_dpop_nonce, then one more request with it.
		expect(server.stats.tokenRequests - tokenRequests).toBe(2);

		const challenges = dpopStats().nonceChallenges;
		const apiRequests = server.stats.apiRequests;
		const first = await session.fetch(`${server.api}/me?page=1#top`);
		expect(first.status).toBe(200);
		expect(await first.json()).toMatchObject({ ok: true, sub: 'alice' });
		expect(dpopStats().nonceChallenges - challenges).toBe(1);
		expect(server.stats.apiRequests - apiRequests).toBe(2);

		// Steady state: the nonce is known, every request is sent once.
		const many = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				session.fetch(`${server.api}/item/${i}`, {
					method: i % 2 ? 'POST' : 'GET',
					body: i % 2 ? 'x' : null,
				}),
			),
		);
		expect(many.map((r) => r.status)).toEqual(Array(20).fill(200));
		expect(server.stats.apiRequests - apiRequests).toBe(22);
		expect(dpopStats().nonceChallenges - challenges).toBe(1);
		expect(dpopStats().refused).toEqual([]);
		expect(dpopStats().thumbprints.has((await session.dpopThumbprint()) as string)).toBe(true);
		session.close();
	});

	it("requests fired at once before the API answered: the first goes alone, the others carry the nonce it brought, none refreshes (the token endpoint's nonce, on the same origin, is not the API's)", async () => {
		const session = dpopSession(server);
		await signIn(session, server);
		const issued = server.stats.refreshesIssued;
		const apiRequests = server.stats.apiRequests;
		const challenges = dpopStats().nonceChallenges;
		const statuses = await Promise.all(
			Array.from({ length: 10 }, (_, i) =>
				session.fetch(`${server.api}/burst/${i}`).then((response) => response.status),
			),
		);
		expect(statuses).toEqual(Array(10).fill(200));
		expect(dpopStats().nonceChallenges - challenges).toBe(1);
		expect(server.stats.apiRequests - apiRequests).toBe(11);
		expect(server.stats.refreshesIssued).toBe(issued);
		session.close();
	});

	it('refreshes a DPoP-bound refresh token of a public client with the same key', async () => {
		const session = dpopSession(server);
		const first = await signIn(session, server);
		const thumbprint = await session.dpopThumbprint();
		const issued = server.stats.refreshesIssued;
		const refreshed = await session.refreshToken();
		expect(server.stats.refreshesIssued - issued).toBe(1);
		expect(refreshed.tokenType).toBe('DPoP');
		expect(refreshed.accessToken).not.toBe(first.accessToken);
		expect(await session.dpopThumbprint()).toBe(thumbprint);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		session.close();
	});

	it('a newer nonce from the API replaces the old one: one retry, then steady again', async () => {
		const session = dpopSession(server);
		await signIn(session, server);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		server.dpopResource?.rotateNonce();
		const challenges = dpopStats().nonceChallenges;
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		expect(dpopStats().nonceChallenges - challenges).toBe(1);
		session.close();
	});

	it('a streamed body is not sent twice for a nonce: a DPoPError says so', async () => {
		const session = dpopSession(server);
		await signIn(session, server);
		server.dpopResource?.rotateNonce();
		const body = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('once'));
				controller.close();
			},
		});
		const error = await session
			.fetch(`${server.api}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit)
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(DPoPError);
		expect(error).toMatchObject({ problem: 'nonce-not-retried' });
		expect((error as Error).message).toMatch(/stream that cannot be sent again/);
		// The nonce was remembered: the next request goes through at once.
		const challenges = dpopStats().nonceChallenges;
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		expect(dpopStats().nonceChallenges).toBe(challenges);
		session.close();
	});
});

describe('PAR + DPoP (RFC 9126, RFC 9449 §10)', () => {
	it('pushes with a proof and dpop_jkt (nonce retried once), and the code goes only with that key', async () => {
		const session = dpopSession(server, {
			clientId: server.clients.parPublic.clientId,
			pushedAuthorizationRequestEndpoint: server.pushedAuthorizationRequestEndpoint,
		});
		const pushes = server.stats.parRequests;
		const { url } = await session.authorizationUrl();
		expect(server.stats.parRequests - pushes).toBe(2);
		expect([...new URL(url).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
		const callback = await server.approve(url);
		const token = await session.fetchToken({
			authorizationResponse: callback,
			issuer: server.issuer,
		});
		expect(token.tokenType).toBe('DPoP');
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		expect(dpopStats().thumbprints.has((await session.dpopThumbprint()) as string)).toBe(true);
		session.close();

		// A code pushed with one key's dpop_jkt is refused to another key.
		const first = dpopSession(server, {
			clientId: server.clients.parPublic.clientId,
			pushedAuthorizationRequestEndpoint: server.pushedAuthorizationRequestEndpoint,
		});
		const pushed = await first.authorizationUrl();
		const other = dpopSession(server, { clientId: server.clients.parPublic.clientId });
		const error = await other
			.fetchToken({
				authorizationResponse: await server.approve(pushed.url),
				issuer: server.issuer,
				state: pushed.state,
				codeVerifier: pushed.codeVerifier,
			})
			.catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'OAuth2ResponseError', error: 'invalid_grant' });
		first.close();
		other.close();
	});
});

describe('a server without DPoP', () => {
	it('answers with a Bearer token, refused as a downgrade unless allowBearer', async () => {
		const session = dpopSession(plain);
		const error = await signIn(session, plain).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(DPoPError);
		expect(error).toMatchObject({ problem: 'bearer-downgrade' });
		expect(session.token).toBeUndefined();
		session.close();

		const allowing = dpopSession(plain, { dpop: { allowBearer: true } });
		const token = await signIn(allowing, plain);
		expect(token.tokenType).toBe('Bearer');
		expect((await allowing.fetch(`${plain.api}/me`)).status).toBe(200);
		allowing.close();
	});
});
