/**
 * The library against a real, certified authorization server: oidc-provider (through
 * demo/auth-server.ts), in this process on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import {
	type AuthorizationServerMetadata,
	clientCredentialsGrant,
	clientSecretBasic,
	clientSecretJwt,
	discover,
	InvalidCallbackError,
	introspectToken,
	noneClientAuthentication,
	OAuth2ResponseError,
	OAuth2Session,
	type OAuth2SessionOptions,
	parseImplicitCallback,
	privateKeyJwt,
	ReauthenticationRequiredError,
	revokeToken,
	startDeviceAuthorization,
	type Token,
	waitForDeviceToken,
} from '../../src/index.js';

const redirectUri = 'http://127.0.0.1:9/callback';
/** Access tokens live 2 s here, so a test can wait for a real expiry. */
const SHORT_TTL = 2;
/** What the short-lived server issues now: a test sets it longer once it has seen an expiry. */
let shortTtl = SHORT_TTL;

let server: AuthServer;
let shortLived: AuthServer;
let metadata: AuthorizationServerMetadata;
beforeAll(async () => {
	[server, shortLived] = await Promise.all([
		startAuthServer({ redirectUri }),
		startAuthServer({ redirectUri, accessTokenTtl: () => shortTtl }),
	]);
	metadata = await discover(server.issuer, { cache: false });
});
afterAll(async () => {
	await Promise.all([server.close(), shortLived.close()]);
});

const callApi = (on: AuthServer, accessToken: string) =>
	fetch(`${on.api}/me`, { headers: { authorization: `Bearer ${accessToken}` } });

/** A session of the public PKCE client, its endpoints from discovery or given. */
function publicSession(on: AuthServer, options: Partial<OAuth2SessionOptions> = {}) {
	return new OAuth2Session({
		clientId: on.clients.public.clientId,
		authorizationEndpoint: on.authorizationEndpoint,
		tokenEndpoint: on.tokenEndpoint,
		redirectUri,
		scope: on.scope,
		allowedOrigins: [on.origin],
		proactiveRefresh: false,
		...options,
	});
}

/** Signs in through the authorization code flow with PKCE; resolves with the session's token. */
async function signIn(session: OAuth2Session, on: AuthServer): Promise<Token> {
	const { url } = await session.authorizationUrl();
	return session.fetchToken({ authorizationResponse: await on.approve(url), issuer: on.issuer });
}

describe('discovery', () => {
	it('discover(issuer) reads the provider metadata with every endpoint the suites use', async () => {
		expect(metadata).toMatchObject({
			issuer: server.issuer,
			authorization_endpoint: server.authorizationEndpoint,
			token_endpoint: server.tokenEndpoint,
			revocation_endpoint: `${server.origin}/token/revocation`,
			introspection_endpoint: `${server.origin}/token/introspection`,
			device_authorization_endpoint: `${server.origin}/device/auth`,
			authorization_response_iss_parameter_supported: true,
			code_challenge_methods_supported: ['S256'],
		});
		expect(metadata.token_endpoint_auth_methods_supported).toEqual(
			expect.arrayContaining(['private_key_jwt', 'client_secret_jwt', 'none']),
		);
	});
});

describe('authorization code with PKCE through OAuth2Session', () => {
	it('authorizationUrl, approve, fetchToken with the iss of RFC 9207 checked against discovery', async () => {
		const session = publicSession(server, {
			authorizationEndpoint: metadata.authorization_endpoint,
			tokenEndpoint: metadata.token_endpoint,
		});
		const { url } = await session.authorizationUrl();
		expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
		const callback = await server.approve(url);
		expect(new URL(callback).searchParams.get('iss')).toBe(metadata.issuer);
		const token = await session.fetchToken({
			authorizationResponse: callback,
			issuer: metadata.issuer,
		});
		expect(token.tokenType).toBe('Bearer');
		expect(token.scope).toEqual(['api:read', 'api:write']);
		expect(token.refreshToken).toBeDefined();
		const response = await session.fetch(`${server.api}/me`);
		expect(await response.json()).toMatchObject({ ok: true, sub: 'alice', clientId: 'spa' });
		session.close();
	});

	it('a callback whose iss is another issuer is refused before any token request', async () => {
		const session = publicSession(server);
		const { url } = await session.authorizationUrl();
		const callback = await server.approve(url);
		const before = server.stats.tokenRequests;
		await expect(
			session.fetchToken({ authorizationResponse: callback, issuer: shortLived.issuer }),
		).rejects.toMatchObject({ name: 'InvalidCallbackError', problem: 'issuer-mismatch' });
		expect(server.stats.tokenRequests).toBe(before);
		session.close();
	});

	it('a confidential client authenticates with client_secret_basic', async () => {
		const { clientId, clientSecret } = server.clients.confidential;
		const session = publicSession(server, { clientId, clientSecret });
		await signIn(session, server);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		session.close();
	});
});

describe('client credentials and JWT client authentication', () => {
	const daemon = (clientAuthentication: OAuth2SessionOptions['clientAuthentication'], id: string) =>
		new OAuth2Session({
			clientId: id,
			clientAuthentication,
			tokenEndpoint: server.tokenEndpoint,
			grant: clientCredentialsGrant({ scope: 'api:read' }),
			allowedOrigins: [server.origin],
		});

	it('client_secret_basic: the session gets its own token on the first request', async () => {
		const { clientId, clientSecret } = server.clients.service;
		const session = daemon(clientSecretBasic(clientId, clientSecret), clientId);
		const body = await (await session.fetch(`${server.api}/me`)).json();
		expect(body).toMatchObject({ ok: true, sub: clientId, scope: 'api:read' });
		expect(session.token?.refreshToken).toBeUndefined();
		session.close();
	});

	it('private_key_jwt (ES256) is accepted', async () => {
		const { clientId, privateKey, keyId } = server.clients.privateKeyJwt;
		const session = daemon(privateKeyJwt(clientId, privateKey, { keyId }), clientId);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		session.close();
	});

	it('client_secret_jwt (HS256) is accepted, and a wrong secret is invalid_client', async () => {
		const { clientId, clientSecret } = server.clients.clientSecretJwt;
		const session = daemon(clientSecretJwt(clientId, clientSecret), clientId);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		session.close();
		const wrong = daemon(clientSecretJwt(clientId, `${clientSecret}x`), clientId);
		const refused = await wrong.fetchToken().catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(OAuth2ResponseError);
		expect(refused).toMatchObject({ error: 'invalid_client' });
		wrong.close();
	});
});

describe('refresh with rotation', () => {
	it('50 concurrent requests after the access token expired make exactly one refresh', async () => {
		const session = publicSession(shortLived);
		const first = await signIn(session, shortLived);
		await new Promise((resolve) => setTimeout(resolve, SHORT_TTL * 1000 + 200));
		expect((await callApi(shortLived, first.accessToken)).status).toBe(401);
		const before = { ...shortLived.stats };
		// The refreshed token lives an hour: a 2-s one is due after 1.5 s, and a burst a loaded
		// machine spreads past that would make a second refresh, rightly, and fail the count.
		shortTtl = 3_600;
		const statuses = await Promise.all(
			Array.from({ length: 50 }, async () => (await session.fetch(`${shortLived.api}/me`)).status),
		).finally(() => {
			shortTtl = SHORT_TTL;
		});
		expect(statuses).toEqual(Array(50).fill(200));
		expect(shortLived.stats.refreshRequests - before.refreshRequests).toBe(1);
		expect(shortLived.stats.tokenRequests - before.tokenRequests).toBe(1);
		// Sent only after the refresh: no request was answered 401 on the way.
		expect(shortLived.stats.api401 - before.api401).toBe(0);
		expect(session.token?.refreshToken).not.toBe(first.refreshToken);
		session.close();
	});

	it('a reused refresh token is refused and revokes the grant: the other holder ends', async () => {
		const session = publicSession(server);
		const first = await signIn(session, server);
		// A second, independent session (its own store) holding the same token pair.
		const copy = publicSession(server, { token: first });
		const ended: string[] = [];
		copy.on('sessionEnded', () => ended.push('copy'));
		const rotated = await session.refreshToken();
		expect(rotated.refreshToken).not.toBe(first.refreshToken);

		const reuse = await copy.refreshToken().catch((error: unknown) => error);
		expect(reuse).toBeInstanceOf(ReauthenticationRequiredError);
		expect(ended).toEqual(['copy']);
		expect(copy.token).toBeUndefined();
		await expect(copy.fetch(`${server.api}/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		// The whole grant is gone: the rotated pair the first session holds is dead too.
		expect((await callApi(server, rotated.accessToken)).status).toBe(401);
		await expect(session.fetch(`${server.api}/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		session.close();
		copy.close();
	});
});

describe('revocation and introspection', () => {
	it('introspectToken says active with client and scope, then inactive after revokeToken; the API refuses', async () => {
		const session = publicSession(server);
		const token = await signIn(session, server);
		const { clientId, clientSecret } = server.clients.service;
		const service = clientSecretBasic(clientId, clientSecret);
		const info = await introspectToken({
			introspectionEndpoint: metadata.introspection_endpoint ?? '',
			token: token.accessToken,
			tokenTypeHint: 'access_token',
			clientAuthentication: service,
		});
		expect(info).toMatchObject({ active: true, clientId: 'spa', sub: 'alice' });
		expect(info.scope).toEqual(['api:read', 'api:write']);

		await revokeToken({
			revocationEndpoint: metadata.revocation_endpoint ?? '',
			token: token.accessToken,
			tokenTypeHint: 'access_token',
			clientAuthentication: noneClientAuthentication('spa'),
		});
		expect((await callApi(server, token.accessToken)).status).toBe(401);
		const after = await introspectToken({
			introspectionEndpoint: metadata.introspection_endpoint ?? '',
			token: token.accessToken,
			clientAuthentication: service,
		});
		expect(after.active).toBe(false);
		session.close();
	});

	it('session.logout() revokes the refresh token at the revocation endpoint', async () => {
		const session = publicSession(server, { revocationEndpoint: metadata.revocation_endpoint });
		const token = await signIn(session, server);
		await session.logout();
		const refresh = await fetch(server.tokenEndpoint, {
			method: 'POST',
			body: new URLSearchParams({
				grant_type: 'refresh_token',
				refresh_token: token.refreshToken ?? '',
				client_id: 'spa',
			}),
		});
		expect(refresh.status).toBe(400);
		expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
	});
});

describe('device authorization grant', () => {
	it('startDeviceAuthorization, then waitForDeviceToken while the user approves', async () => {
		const { clientId } = server.clients.device;
		const clientAuthentication = noneClientAuthentication(clientId);
		const authorization = await startDeviceAuthorization({
			deviceAuthorizationEndpoint: metadata.device_authorization_endpoint ?? '',
			clientAuthentication,
			scope: server.scope,
		});
		expect(authorization.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
		expect(authorization.verificationUri).toBe(`${server.origin}/device`);
		const progress: { polls: number; slowDown: boolean }[] = [];
		const token = await waitForDeviceToken({
			tokenEndpoint: metadata.token_endpoint ?? '',
			deviceAuthorization: authorization,
			clientAuthentication,
			// The provider's interval is 5 s; the test does not wait it out.
			sleep: () => new Promise((resolve) => setTimeout(resolve, 10)),
			onPending: ({ polls, slowDown }) => {
				progress.push({ polls, slowDown });
				if (polls === 2) void server.approveDevice(authorization.userCode);
			},
		});
		// oidc-provider answers authorization_pending and never slow_down, however fast the polls.
		expect(progress).toEqual([
			{ polls: 1, slowDown: false },
			{ polls: 2, slowDown: false },
		]);
		expect(token.refreshToken).toBeDefined();
		expect((await callApi(server, token.accessToken)).status).toBe(200);
	});
});

describe('the implicit flow callback', () => {
	it('parseImplicitCallback, then session.setToken: the session calls the API with it', async () => {
		// oidc-provider has no response_type=token; its client credentials token stands in.
		const { clientId, clientSecret } = server.clients.service;
		const issued = await new OAuth2Session({
			clientId,
			clientSecret,
			tokenEndpoint: server.tokenEndpoint,
		}).fetchToken({ grant: clientCredentialsGrant() });
		const session = publicSession(server);
		const { state } = await session.authorizationUrl({ responseType: 'token' });
		const callback = `${redirectUri}#access_token=${issued.accessToken}&token_type=bearer&expires_in=3600&state=${state}`;
		const { token } = parseImplicitCallback(callback, { expectedState: state });
		expect(token.tokenType).toBe('Bearer');
		await session.setToken(token);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		expect(() => parseImplicitCallback(callback, { expectedState: 'other' })).toThrow();
		expect(() =>
			parseImplicitCallback(`${redirectUri}#state=${state}`, { expectedState: state }),
		).toThrow(InvalidCallbackError);
		session.close();
	});
});
