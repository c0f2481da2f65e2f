import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, StateMismatchError } from '../../src/errors/index.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

const redirectUri = 'http://127.0.0.1:9/callback';
const make = (store = new MemoryStore()) =>
	new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		authorizationEndpoint: `${server.origin}/authorize`,
		tokenEndpoint: server.tokenEndpoint,
		redirectUri,
		scope: ['read', 'write'],
		allowedOrigins: [server.origin],
		store,
	});

/** Plays the user's browser: follows the authorization URL to the redirect carrying the code. */
async function approve(url: string): Promise<string> {
	const response = await fetch(url, { redirect: 'manual' });
	return response.headers.get('location') ?? '';
}

describe('authorization code with PKCE through the session', () => {
	it('authorizationUrl, then fetchToken({ authorizationResponse }) with the remembered state and verifier', async () => {
		const store = new MemoryStore();
		const session = make(store);
		const updates: string[] = [];
		session.on('tokenUpdated', (e) => updates.push(e.source));
		const { url, state, codeVerifier } = await session.authorizationUrl();
		const query = new URL(url).searchParams;
		expect(query.get('code_challenge_method')).toBe('S256');
		expect(query.get('scope')).toBe('read write');
		expect(query.get('redirect_uri')).toBe(redirectUri);
		expect(state.length).toBeGreaterThanOrEqual(22);
		expect(codeVerifier).toBeDefined();
		const callback = await approve(url);
		const token = await session.fetchToken({ authorizationResponse: callback });
		expect(token.refreshToken).toBeDefined();
		expect(session.token).toBe(token);
		expect(updates).toEqual(['fetch']);
		expect((await store.get('default'))?.token?.access_token).toBe(token.accessToken);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		session.close();
	});

	it('a callback whose state differs is refused before any token request', async () => {
		const session = make();
		const { url } = await session.authorizationUrl();
		const callback = new URL(await approve(url));
		callback.searchParams.set('state', 'forged');
		await expect(session.fetchToken({ authorizationResponse: callback })).rejects.toBeInstanceOf(
			StateMismatchError,
		);
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('a callback with no state to compare against is refused (CSRF)', async () => {
		const session = make();
		await expect(
			session.fetchToken({ authorizationResponse: `${redirectUri}?code=abc&state=xyz` }),
		).rejects.toBeInstanceOf(InvalidOptionsError);
	});

	it('a web server keeping state and verifier itself can finish on another session instance', async () => {
		const { url, state, codeVerifier } = await make().authorizationUrl();
		const callback = await approve(url);
		const token = await make().fetchToken({ authorizationResponse: callback, state, codeVerifier });
		expect(token.accessToken).toMatch(/^at-/);
	});

	it('fetchToken() with no argument uses the grant option', async () => {
		const session = new OAuth2Session({
			clientId: 'app',
			clientSecret: 's3cret',
			tokenEndpoint: server.tokenEndpoint,
			grant: clientCredentialsGrant(),
		});
		expect((await session.fetchToken()).accessToken).toMatch(/^at-/);
		await expect(new OAuth2Session({ clientId: 'app' }).fetchToken()).rejects.toBeInstanceOf(
			InvalidOptionsError,
		);
	});
});

describe('the implicit flow', () => {
	it('fetchToken({ implicitResponse }) checks the state and makes the fragment token the session token', async () => {
		const session = make();
		const { state } = await session.authorizationUrl({ responseType: 'token' });
		const answer = server.issue();
		const callback = `${redirectUri}#access_token=${answer.access_token}&token_type=bearer&expires_in=3600&state=${state}`;
		const token = await session.fetchToken({ implicitResponse: callback });
		expect(token.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		await expect(
			make().fetchToken({ implicitResponse: callback, state: 'another' }),
		).rejects.toBeInstanceOf(StateMismatchError);
		session.close();
	});
});

describe('logout', () => {
	it('revokes the refresh token, deletes the stored record, and ends the session everywhere', async () => {
		const store = new MemoryStore();
		const options = {
			clientId: 'app',
			clientSecret: 's3cret',
			tokenEndpoint: server.tokenEndpoint,
			revocationEndpoint: `${server.origin}/revoke`,
			allowedOrigins: [server.origin],
			store,
		};
		const answer = server.issue();
		const session = new OAuth2Session({ ...options, token: answer });
		const other = new OAuth2Session(options);
		await Promise.all([session.ready, other.ready]);
		const ended: string[] = [];
		other.on('sessionEnded', () => ended.push('other'));
		await session.logout();
		expect(server.stats.revocations).toBe(1);
		expect(await store.get('default')).toBeUndefined();
		expect(session.token).toBeUndefined();
		expect(ended).toEqual(['other']);
		// The grant is gone at the server too: its access token no longer works.
		const direct = await fetch(`${server.origin}/api/me`, {
			headers: { authorization: `Bearer ${answer.access_token}` },
		});
		expect(direct.status).toBe(401);
		session.close();
		other.close();
	});
});

describe("a profile's authorization parameters and scopes", () => {
	it("are added to the session's authorization URL; the caller's own params win", async () => {
		const { google, microsoft } = await import('../../src/protocol/profiles/index.js');
		const googleSession = new OAuth2Session({
			clientId: 'app',
			authorizationEndpoint: `${server.origin}/authorize`,
			redirectUri,
			scope: ['openid'],
			profile: google,
		});
		const googleQuery = new URL((await googleSession.authorizationUrl()).url).searchParams;
		expect(googleQuery.get('access_type')).toBe('offline');
		expect(googleQuery.get('prompt')).toBe('consent');
		const chosen = await googleSession.authorizationUrl({ params: { prompt: 'select_account' } });
		expect(new URL(chosen.url).searchParams.get('prompt')).toBe('select_account');

		const microsoftSession = new OAuth2Session({
			clientId: 'app',
			authorizationEndpoint: `${server.origin}/authorize`,
			redirectUri,
			scope: 'User.Read offline_access',
			profile: microsoft,
		});
		const scopes = new URL((await microsoftSession.authorizationUrl()).url).searchParams.get(
			'scope',
		);
		expect(scopes).toBe('User.Read offline_access');
		const added = await microsoftSession.authorizationUrl({ scope: ['User.Read'] });
		expect(new URL(added.url).searchParams.get('scope')).toBe('User.Read offline_access');
	});
});

describe('RFC 9207 iss through the session', () => {
	it('requireIssuer refuses a callback without iss before any token request', async () => {
		const session = make();
		const { url } = await session.authorizationUrl();
		const callback = await approve(url);
		await expect(
			session.fetchToken({
				authorizationResponse: callback,
				issuer: server.origin,
				requireIssuer: true,
			}),
		).rejects.toMatchObject({ name: 'InvalidCallbackError', problem: 'missing-issuer' });
		expect(server.stats.tokenRequests).toBe(0);
	});
});
