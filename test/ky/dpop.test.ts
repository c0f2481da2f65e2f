// The ky integration of a DPoP session, against oidc-provider with DPoP and an API that checks
// proofs and asks for its own nonce.
import ky from 'ky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import { createKy, oauth2Hooks } from '../../src/ky.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { DPOP_REDIRECT_URI, dpopSession, signIn } from '../helpers/dpop-session.js';

const redirectUri = DPOP_REDIRECT_URI;
let server: AuthServer;
beforeAll(async () => {
	server = await startAuthServer({ redirectUri, dpop: true });
});
afterAll(async () => {
	await server.close();
});

async function signedIn(): Promise<OAuth2Session> {
	const session = dpopSession(server);
	await signIn(session, server);
	return session;
}

describe('ky with a DPoP session', () => {
	it('oauth2Hooks: every attempt carries a fresh proof; a new nonce is retried once, no refresh', async () => {
		const session = await signedIn();
		const api = ky.create({ prefix: `${server.api}/`, retry: { limit: 2 } }).extend({
			hooks: oauth2Hooks(session),
		});
		const stats = server.stats.dpop;
		const refreshes = server.stats.refreshesIssued;
		const challenges = stats?.nonceChallenges ?? 0;
		expect(await api.get('me').json()).toMatchObject({ ok: true, sub: 'alice' });
		expect((stats?.nonceChallenges ?? 0) - challenges).toBe(1);
		// Steady: the nonce is known.
		const apiRequests = server.stats.apiRequests;
		await Promise.all(
			Array.from({ length: 5 }, (_, i) => api.post(`item/${i}`, { body: 'x' }).json()),
		);
		expect(server.stats.apiRequests - apiRequests).toBe(5);
		expect(server.stats.refreshesIssued).toBe(refreshes);
		expect(stats?.refused).toEqual([]);
		session.close();
	});

	it('oauth2Hooks: a burst before the API gave a nonce sends its first request alone (10 cost 11)', async () => {
		const session = await signedIn();
		const api = ky.create({ prefix: `${server.api}/`, retry: { limit: 2 } }).extend({
			hooks: oauth2Hooks(session),
		});
		const apiRequests = server.stats.apiRequests;
		const challenges = server.stats.dpop?.nonceChallenges ?? 0;
		const bodies = await Promise.all(
			Array.from({ length: 10 }, (_, i) => api.get(`burst/${i}`).json()),
		);
		expect(bodies).toEqual(Array(10).fill(expect.objectContaining({ ok: true })));
		expect(server.stats.apiRequests - apiRequests).toBe(11);
		expect((server.stats.dpop?.nonceChallenges ?? 0) - challenges).toBe(1);
		session.close();
	});

	it('createKy: the session sends the proofs', async () => {
		const session = await signedIn();
		const api = createKy(session, { prefix: `${server.api}/` });
		expect(await api.get('me').json()).toMatchObject({ ok: true });
		session.close();
	});
});
