/**
 * Pushed authorization requests (RFC 9126) against oidc-provider (through demo/auth-server.ts) on
 * 127.0.0.1: authorization code + PKCE + PAR end to end, for public and confidential clients
 * registered to push, and a server that takes only pushed requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import {
	AuthorizationResponseError,
	type AuthorizationServerMetadata,
	discover,
	InvalidOptionsError,
	noneClientAuthentication,
	OAuth2ResponseError,
	OAuth2Session,
	type OAuth2SessionOptions,
	pushAuthorizationRequest,
} from '../../src/index.js';

const redirectUri = 'http://127.0.0.1:9/callback';

let server: AuthServer;
let strict: AuthServer;
let metadata: AuthorizationServerMetadata;
let strictMetadata: AuthorizationServerMetadata;
beforeAll(async () => {
	[server, strict] = await Promise.all([
		startAuthServer({ redirectUri }),
		startAuthServer({ redirectUri, requirePushedAuthorizationRequests: true }),
	]);
	[metadata, strictMetadata] = await Promise.all([
		discover(server.issuer, { cache: false }),
		discover(strict.issuer, { cache: false }),
	]);
});
afterAll(async () => {
	await Promise.all([server.close(), strict.close()]);
});

/** A session with its endpoints from the server's metadata, the push endpoint among them. */
function session(
	on: AuthServer,
	meta: AuthorizationServerMetadata,
	options: Partial<OAuth2SessionOptions> = {},
) {
	return new OAuth2Session({
		clientId: on.clients.parPublic.clientId,
		metadata: meta,
		redirectUri,
		scope: on.scope,
		allowedOrigins: [on.origin],
		proactiveRefresh: false,
		...options,
	});
}

/** Pushes, checks the URL carries only the reference, approves, and exchanges the code. */
async function signIn(client: OAuth2Session, on: AuthServer) {
	const pushesBefore = on.stats.parRequests;
	const request = await client.authorizationUrl();
	expect(on.stats.parRequests - pushesBefore).toBe(1);
	const url = new URL(request.url);
	expect(`${url.origin}${url.pathname}`).toBe(on.authorizationEndpoint);
	expect([...url.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
	expect(request.requestUri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
	const callback = await on.approve(request.url);
	expect(new URL(callback).searchParams.get('state')).toBe(request.state);
	return client.fetchToken({ authorizationResponse: callback });
}

describe('metadata', () => {
	it('names the push endpoint, and whether pushing is required', () => {
		expect(metadata.pushed_authorization_request_endpoint).toBe(
			server.pushedAuthorizationRequestEndpoint,
		);
		expect(metadata.require_pushed_authorization_requests).not.toBe(true);
		expect(strictMetadata.require_pushed_authorization_requests).toBe(true);
	});
});

describe('authorization code + PKCE + PAR through OAuth2Session', () => {
	it('a public client registered to push: sign in, call the API, refresh', async () => {
		const client = session(server, metadata);
		const token = await signIn(client, server);
		expect(token.refreshToken).toBeDefined();
		expect(token.scope).toEqual(['api:read', 'api:write']);
		const me = await client.fetch(`${server.api}/me`);
		expect(await me.json()).toMatchObject({ ok: true, sub: 'alice', clientId: 'par-spa' });
		const refreshed = await client.refreshToken();
		expect(refreshed.accessToken).not.toBe(token.accessToken);
		client.close();
	});

	it.each(['client_secret_basic', 'client_secret_post'] as const)(
		'a confidential client registered to push, authenticating with %s',
		async (method) => {
			const { clientId, clientSecret } = server.clients.parConfidential;
			const client = session(server, metadata, {
				clientId,
				clientSecret,
				clientAuthentication: method,
			});
			await signIn(client, server);
			expect((await client.fetch(`${server.api}/me`)).status).toBe(200);
			client.close();
		},
	);

	it('a client registered to push is refused by the server when it does not', async () => {
		const client = session(server, metadata, { pushedAuthorizationRequestEndpoint: false });
		const { url } = await client.authorizationUrl();
		expect(new URL(url).searchParams.get('code_challenge')).not.toBeNull();
		const callback = await server.approve(url);
		const error = await client
			.fetchToken({ authorizationResponse: callback })
			.catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(AuthorizationResponseError);
		expect(error).toMatchObject({ error: 'invalid_request' });
		expect((error as AuthorizationResponseError).errorDescription).toMatch(/pushed/i);
		client.close();
	});

	it('a client that may push or not: the session pushes because the metadata has the endpoint', async () => {
		const client = session(server, metadata, { clientId: server.clients.public.clientId });
		await signIn(client, server);
		client.close();
	});
});

describe('a server that takes only pushed requests', () => {
	it('a session with the metadata pushes and signs in', async () => {
		const client = session(strict, strictMetadata, { clientId: strict.clients.public.clientId });
		await signIn(client, strict);
		expect((await client.fetch(`${strict.api}/me`)).status).toBe(200);
		client.close();
	});

	it('a session told not to push is refused before anything is sent', async () => {
		const client = session(strict, strictMetadata, {
			clientId: strict.clients.public.clientId,
			pushedAuthorizationRequestEndpoint: false,
		});
		const before = strict.stats.parRequests;
		await expect(client.authorizationUrl()).rejects.toBeInstanceOf(InvalidOptionsError);
		expect(strict.stats.parRequests).toBe(before);
		client.close();
	});
});

describe("the server's refusals of a push", () => {
	it('a wrong client secret is invalid_client', async () => {
		const { clientId, clientSecret } = server.clients.parConfidential;
		const client = session(server, metadata, { clientId, clientSecret: `${clientSecret}x` });
		const error = await client.authorizationUrl().catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_client', status: 401 });
		expect(String(error)).not.toContain(clientSecret);
		client.close();
	});

	it('an unregistered redirect URI is refused at the push, not at the callback', async () => {
		const error = await pushAuthorizationRequest({
			pushedAuthorizationRequestEndpoint: server.pushedAuthorizationRequestEndpoint,
			authorizationEndpoint: server.authorizationEndpoint,
			clientId: server.clients.parPublic.clientId,
			clientAuthentication: noneClientAuthentication(server.clients.parPublic.clientId),
			redirectUri: 'http://127.0.0.1:9/elsewhere',
			scope: server.scope,
		}).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect((error as OAuth2ResponseError).status).toBe(400);
		expect((error as OAuth2ResponseError).error).toMatch(/^invalid_(request|redirect_uri)$/);
	});

	it('a request_uri is good for one authorization only', async () => {
		const client = session(server, metadata);
		const { url } = await client.authorizationUrl();
		await server.approve(url);
		const again = new URL(await server.approve(url));
		expect(again.searchParams.get('error')).toBe('invalid_request_uri');
		client.close();
	});
});
