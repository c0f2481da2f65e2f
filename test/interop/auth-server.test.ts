/**
 * The embedded authorization server of the demo (demo/auth-server.ts) on its own: what the interop
 * suites and the demo rely on, checked with plain fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';

let server: AuthServer;
beforeAll(async () => {
	server = await startAuthServer({ redirectUri: 'http://127.0.0.1:9/callback' });
});
afterAll(() => server.close());

const basic = (id: string, secret: string) =>
	`Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function post(path: string, params: Record<string, string>, authorization?: string) {
	const response = await fetch(`${server.origin}${path}`, {
		method: 'POST',
		headers: authorization === undefined ? {} : { authorization },
		body: new URLSearchParams(params),
	});
	return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const callApi = (token: unknown) =>
	fetch(`${server.api}/me`, { headers: { authorization: `Bearer ${String(token)}` } });

describe('startAuthServer', () => {
	it('listens on 127.0.0.1 and serves discovery under its issuer', async () => {
		expect(server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
		const metadata = (await (
			await fetch(`${server.issuer}/.well-known/openid-configuration`)
		).json()) as Record<string, unknown>;
		expect(metadata.issuer).toBe(server.issuer);
		expect(metadata.token_endpoint).toBe(server.tokenEndpoint);
		expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
	});

	it('approve() drives login and consent like a browser and returns the callback with a code', async () => {
		const refreshesBefore = server.stats.refreshRequests;
		const url = new URL(server.authorizationEndpoint);
		const verifier = 'v'.repeat(43);
		const challenge = Buffer.from(
			await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
		).toString('base64url');
		url.search = new URLSearchParams({
			response_type: 'code',
			client_id: server.clients.public.clientId,
			redirect_uri: server.redirectUri,
			scope: server.scope,
			state: 'st',
			code_challenge: challenge,
			code_challenge_method: 'S256',
		}).toString();
		const callback = new URL(await server.approve(url));
		expect(callback.origin + callback.pathname).toBe(server.redirectUri);
		expect(callback.searchParams.get('state')).toBe('st');
		expect(callback.searchParams.get('iss')).toBe(server.issuer);
		const tokens = await post('/token', {
			grant_type: 'authorization_code',
			code: callback.searchParams.get('code') ?? '',
			redirect_uri: server.redirectUri,
			code_verifier: verifier,
			client_id: server.clients.public.clientId,
		});
		expect(tokens.status).toBe(200);
		expect(tokens.body.refresh_token).toEqual(expect.any(String));
		expect((await callApi(tokens.body.access_token)).status).toBe(200);

		// Rotation: the refresh gives a new refresh token; the old one, again, revokes the grant.
		const refresh = (token: unknown) =>
			post('/token', {
				grant_type: 'refresh_token',
				refresh_token: String(token),
				client_id: server.clients.public.clientId,
			});
		const rotated = await refresh(tokens.body.refresh_token);
		expect(rotated.status).toBe(200);
		expect(rotated.body.refresh_token).not.toBe(tokens.body.refresh_token);
		const reused = await refresh(tokens.body.refresh_token);
		expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
		expect((await callApi(rotated.body.access_token)).status).toBe(401);
		expect((await refresh(rotated.body.refresh_token)).body.error).toBe('invalid_grant');
		expect(server.stats.refreshRequests - refreshesBefore).toBe(3);
	});

	it('counts token, refresh and API requests; revokeAll() makes every token fail', async () => {
		const before = { ...server.stats };
		const { clientId, clientSecret } = server.clients.service;
		const issued = await post(
			'/token',
			{ grant_type: 'client_credentials' },
			basic(clientId, clientSecret),
		);
		expect(issued.status).toBe(200);
		expect((await callApi(issued.body.access_token)).status).toBe(200);
		expect((await callApi('not-a-token')).status).toBe(401);
		server.revokeAll();
		expect((await callApi(issued.body.access_token)).status).toBe(401);
		expect(server.stats).toMatchObject({
			tokenRequests: before.tokenRequests + 1,
			refreshRequests: before.refreshRequests,
			apiRequests: before.apiRequests + 3,
			api401: before.api401 + 2,
			refreshesIssued: before.refreshesIssued,
			dpop: undefined,
			parRequests: before.parRequests,
		});
	});
});
