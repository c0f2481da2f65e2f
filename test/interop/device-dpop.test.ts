/**
 * The device authorization grant (RFC 8628) through a DPoP session (RFC 9449) against oidc-provider
 * with `features.dPoP` (nonces required) and `features.deviceFlow`: each poll carries a proof, the
 * token and its refresh token are bound to the session's key, and the API checks every proof.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import {
	clientSecretBasic,
	introspectToken,
	noneClientAuthentication,
	type OAuth2Session,
	startDeviceAuthorization,
	type Token,
} from '../../src/index.js';
import { DPOP_REDIRECT_URI, dpopSession } from '../helpers/dpop-session.js';

let server: AuthServer;
let plain: AuthServer;
beforeAll(async () => {
	[server, plain] = await Promise.all([
		startAuthServer({ redirectUri: DPOP_REDIRECT_URI, dpop: true }),
		startAuthServer({ redirectUri: DPOP_REDIRECT_URI }),
	]);
});
afterAll(async () => {
	await Promise.all([server.close(), plain.close()]);
});

/** A session of `on`'s device client (public, device code + refresh token grants). */
const deviceSession = (on: AuthServer, dpop = true) =>
	dpopSession(on, { clientId: on.clients.device.clientId, dpop });

/**
 * Starts a device authorization and waits for it through `session`; the user approves after the
 * second pending answer, and the poll after that one finds the approval saved.
 */
async function deviceSignIn(
	session: OAuth2Session,
	on: AuthServer,
): Promise<{ token: Token; polls: number[] }> {
	const authorization = await startDeviceAuthorization({
		deviceAuthorizationEndpoint: `${on.origin}/device/auth`,
		clientAuthentication: noneClientAuthentication(on.clients.device.clientId),
		scope: on.scope,
	});
	let approval: Promise<void> | undefined;
	const polls: number[] = [];
	const token = await session.fetchToken({
		deviceAuthorization: authorization,
		// The provider's interval is 5 s; the test does not wait it out.
		sleep: async () => {
			await approval;
			await new Promise((resolve) => setTimeout(resolve, 10));
		},
		onPending: ({ polls: answered }) => {
			polls.push(answered);
			if (answered === 2) approval = on.approveDevice(authorization.userCode);
		},
	});
	return { token, polls };
}

const thumbprintOf = async (on: AuthServer, token: Token) => {
	const { clientId, clientSecret } = on.clients.service;
	const info = await introspectToken({
		introspectionEndpoint: `${on.origin}/token/introspection`,
		token: token.accessToken,
		clientAuthentication: clientSecretBasic(clientId, clientSecret),
	});
	expect(info.active).toBe(true);
	return (info.extra.cnf as { jkt?: string } | undefined)?.jkt;
};

describe('device flow + DPoP', () => {
	it('gets a token bound to the session key: the first poll pays one use_dpop_nonce, later polls none', async () => {
		const session = deviceSession(server);
		const before = server.stats.tokenRequests;
		const { token, polls } = await deviceSignIn(session, server);
		expect(polls).toEqual([1, 2]);
		// Three polls (pending, pending, approved), and one refusal for the nonce before the first.
		expect(server.stats.tokenRequests - before).toBe(4);
		expect(token.tokenType).toBe('DPoP');
		expect(token.refreshToken).toBeDefined();
		const thumbprint = await session.dpopThumbprint();
		expect(thumbprint).toMatch(/^[\w-]{43}$/);
		expect(await thumbprintOf(server, token)).toBe(thumbprint);
		expect(session.token).toBe(token);
		session.close();
	});

	it('refreshes with the bound refresh token (public client), and the API takes its proofs', async () => {
		const session = deviceSession(server);
		const { token: first } = await deviceSignIn(session, server);
		const thumbprint = await session.dpopThumbprint();
		const issued = server.stats.refreshesIssued;
		const refreshed = await session.refreshToken();
		expect(server.stats.refreshesIssued - issued).toBe(1);
		expect(refreshed.tokenType).toBe('DPoP');
		expect(refreshed.accessToken).not.toBe(first.accessToken);
		expect(await thumbprintOf(server, refreshed)).toBe(thumbprint);

		const answer = await session.fetch(`${server.api}/me`);
		expect(answer.status).toBe(200);
		expect(await answer.json()).toMatchObject({ ok: true, sub: 'alice' });
		expect(server.stats.dpop?.thumbprints.has(thumbprint as string)).toBe(true);
		expect(server.stats.dpop?.refused).toEqual([]);
		session.close();
	});
});

describe('device flow through a Bearer session', () => {
	it('gets a Bearer token, no proof sent, and the API takes it', async () => {
		const session = deviceSession(plain, false);
		const before = plain.stats.tokenRequests;
		const { token } = await deviceSignIn(session, plain);
		expect(plain.stats.tokenRequests - before).toBe(3);
		expect(token.tokenType).toBe('Bearer');
		expect(await thumbprintOf(plain, token)).toBeUndefined();
		expect((await session.fetch(`${plain.api}/me`)).status).toBe(200);
		session.close();
	});
});
