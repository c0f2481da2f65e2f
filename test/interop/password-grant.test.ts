/**
 * The resource owner password grant and refresh against two servers, in this process on 127.0.0.1:
 * @node-oauth/oauth2-server with a small in-memory model, and a server answering as
 * django-oauth2-provider does (`/oauth2/access_token/`, no `token_type`, scope `read write`).
 */
import { randomBytes } from 'node:crypto';
import OAuth2Server, {
	type Client,
	type PasswordModel,
	type RefreshToken,
	type RefreshTokenModel,
	Request,
	Response,
	type Token as ServerToken,
	type User,
} from '@node-oauth/oauth2-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	clientSecretPost,
	OAuth2ResponseError,
	OAuth2Session,
	passwordGrant,
	refreshTokenGrant,
	requestToken,
} from '../../src/index.js';
import { sendJson, startServer } from '../helpers/http-server.js';

const client = { clientId: 'mobile-app', clientSecret: 'mobile-s3cret' };
const user = { username: 'alice', password: 'correct horse' };

/** The in-memory model: one client, one user, tokens in maps. */
function memoryModel(): PasswordModel & RefreshTokenModel {
	const registered: Client = {
		id: client.clientId,
		grants: ['password', 'refresh_token'],
		accessTokenLifetime: 3600,
		refreshTokenLifetime: 86_400,
	};
	const accessTokens = new Map<string, ServerToken>();
	const refreshTokens = new Map<string, RefreshToken>();
	return {
		getClient: async (clientId, clientSecret) =>
			clientId === client.clientId &&
			(clientSecret === null || clientSecret === client.clientSecret)
				? registered
				: false,
		getUser: async (username, password) =>
			username === user.username && password === user.password ? { id: username } : false,
		// No scope asked for: read only, as django-oauth2-provider's default.
		validateScope: async (_user, _client, scope = ['read']) =>
			scope.every((s) => ['read', 'write'].includes(s)) ? scope : false,
		saveToken: async (token, savedClient: Client, owner: User) => {
			const saved = { ...token, client: savedClient, user: owner };
			accessTokens.set(token.accessToken, saved);
			if (token.refreshToken !== undefined) {
				const { accessToken: _, accessTokenExpiresAt: __, ...refresh } = token;
				refreshTokens.set(token.refreshToken, {
					...refresh,
					refreshToken: token.refreshToken,
					client: savedClient,
					user: owner,
				});
			}
			return saved;
		},
		getAccessToken: async (accessToken) => accessTokens.get(accessToken) ?? false,
		getRefreshToken: async (refreshToken) => refreshTokens.get(refreshToken) ?? false,
		revokeToken: async (token) => refreshTokens.delete(token.refreshToken),
	};
}

/** oauth2-server behind node:http: `/token` and a protected `/api`, with counters. */
async function startNodeOAuthServer() {
	const oauth = new OAuth2Server({ model: memoryModel() });
	const stats = { tokenRequests: 0, apiRequests: 0, api401: 0 };
	const server = await startServer(async (incoming, outgoing) => {
		const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
		const request = new Request({
			method: incoming.method ?? 'GET',
			query: Object.fromEntries(url.searchParams),
			headers: incoming.headers as Record<string, string>,
			body: Object.fromEntries(new URLSearchParams(incoming.body)),
		});
		const response = new Response();
		try {
			if (url.pathname === '/token') {
				stats.tokenRequests++;
				await oauth.token(request, response);
			} else {
				stats.apiRequests++;
				const token = await oauth.authenticate(request, response);
				sendJson(outgoing, 200, { ok: true, user: token.user.id, scope: token.scope });
				return;
			}
		} catch (error) {
			if (url.pathname !== '/token') stats.api401++;
			const status = (error as { code?: number }).code ?? 500;
			const name = (error as { name?: string }).name ?? 'server_error';
			sendJson(outgoing, status, { error: name }, response.headers ?? {});
			return;
		}
		outgoing.writeHead(response.status ?? 200, response.headers ?? {});
		outgoing.end(JSON.stringify(response.body));
	});
	return { ...server, stats, tokenEndpoint: `${server.origin}/token` };
}

/**
 * A server answering as django-oauth2-provider does: the token endpoint at
 * `/oauth2/access_token/` (trailing slash), client credentials in the body, no `token_type`, scope
 * `read write`, `expires_in` 86399; a refresh expires the old access token.
 */
async function startDjangoLikeServer() {
	const accessTokens = new Set<string>();
	const refreshTokens = new Map<string, string>();
	const stats = { tokenRequests: 0, refreshRequests: 0, apiRequests: 0, paths: [] as string[] };
	const issue = () => {
		const access = randomBytes(20).toString('hex');
		const refresh = randomBytes(20).toString('hex');
		accessTokens.add(access);
		refreshTokens.set(refresh, access);
		return { access_token: access, scope: 'read write', expires_in: 86399, refresh_token: refresh };
	};
	const server = await startServer((request, response) => {
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		stats.paths.push(url.pathname);
		if (url.pathname === '/oauth2/access_token/' && request.method === 'POST') {
			stats.tokenRequests++;
			const params = new URLSearchParams(request.body);
			if (
				params.get('client_id') !== client.clientId ||
				params.get('client_secret') !== client.clientSecret
			) {
				sendJson(response, 400, { error: 'invalid_client' });
				return;
			}
			const grantType = params.get('grant_type');
			if (
				grantType === 'password' &&
				params.get('username') === user.username &&
				params.get('password') === user.password
			) {
				sendJson(response, 200, issue());
				return;
			}
			const spent = refreshTokens.get(params.get('refresh_token') ?? '');
			if (grantType === 'refresh_token' && spent !== undefined) {
				stats.refreshRequests++;
				refreshTokens.delete(params.get('refresh_token') ?? '');
				accessTokens.delete(spent);
				sendJson(response, 200, issue());
				return;
			}
			sendJson(response, 400, { error: 'invalid_grant' });
			return;
		}
		if (url.pathname.startsWith('/api/')) {
			stats.apiRequests++;
			const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
			if (accessTokens.has(bearer)) sendJson(response, 200, { ok: true });
			else sendJson(response, 401, { error: 'invalid_token' });
			return;
		}
		sendJson(response, 404, { error: 'not_found' });
	});
	return { ...server, stats, tokenEndpoint: `${server.origin}/oauth2/access_token/` };
}

describe('@node-oauth/oauth2-server: password grant and refresh', () => {
	let server: Awaited<ReturnType<typeof startNodeOAuthServer>>;
	beforeAll(async () => {
		server = await startNodeOAuthServer();
	});
	afterAll(() => server.close());

	const session = () =>
		new OAuth2Session({
			clientId: client.clientId,
			clientSecret: client.clientSecret,
			tokenEndpoint: server.tokenEndpoint,
			allowedOrigins: [server.origin],
			proactiveRefresh: false,
		});

	it('session.fetchToken({ grant: passwordGrant(...) }), the API, then a refresh', async () => {
		const s = session();
		const token = await s.fetchToken({
			grant: passwordGrant({ ...user, scope: ['read', 'write'] }),
		});
		expect(token.tokenType).toBe('Bearer');
		expect(token.scope).toEqual(['read', 'write']);
		expect(token.refreshToken).toBeDefined();
		expect(token.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
		expect(await (await s.fetch(`${server.origin}/api/me`)).json()).toMatchObject({
			ok: true,
			user: 'alice',
		});
		const refreshed = await s.refreshToken();
		expect(refreshed.accessToken).not.toBe(token.accessToken);
		expect(refreshed.refreshToken).not.toBe(token.refreshToken);
		expect((await s.fetch(`${server.origin}/api/me`)).status).toBe(200);
		s.close();
	});

	it('requestToken with the password grant, then with the refresh token grant', async () => {
		const clientAuthentication = clientSecretPost(client.clientId, client.clientSecret);
		const first = await requestToken({
			tokenEndpoint: server.tokenEndpoint,
			grant: passwordGrant(user),
			clientAuthentication,
		});
		const second = await requestToken({
			tokenEndpoint: server.tokenEndpoint,
			grant: refreshTokenGrant({ refreshToken: first.refreshToken ?? '' }),
			clientAuthentication,
		});
		expect(first.scope).toEqual(['read']);
		expect(second.accessToken).not.toBe(first.accessToken);
		// oauth2-server revokes the refresh token it rotated away.
		const reused = await requestToken({
			tokenEndpoint: server.tokenEndpoint,
			grant: refreshTokenGrant({ refreshToken: first.refreshToken ?? '' }),
			clientAuthentication,
		}).catch((error: unknown) => error);
		expect(reused).toBeInstanceOf(OAuth2ResponseError);
		expect(reused).toMatchObject({ error: 'invalid_grant' });
	});

	it('a wrong password is invalid_grant, and nothing is kept', async () => {
		const s = session();
		const refused = await s
			.fetchToken({ grant: passwordGrant({ ...user, password: 'wrong' }) })
			.catch((error: unknown) => error);
		expect(refused).toMatchObject({ name: 'OAuth2ResponseError', error: 'invalid_grant' });
		expect(s.token).toBeUndefined();
		s.close();
	});
});

describe('a django-oauth2-provider-like server', () => {
	let server: Awaited<ReturnType<typeof startDjangoLikeServer>>;
	beforeAll(async () => {
		server = await startDjangoLikeServer();
	});
	afterAll(() => server.close());

	it('password grant at /oauth2/access_token/: Bearer by default, scopes read and write, 86399 s', async () => {
		const session = new OAuth2Session({
			clientId: client.clientId,
			clientSecret: client.clientSecret,
			clientAuthentication: 'client_secret_post',
			tokenEndpoint: server.tokenEndpoint,
			allowedOrigins: [server.origin],
			proactiveRefresh: false,
		});
		const before = Date.now();
		const token = await session.fetchToken({ grant: passwordGrant(user) });
		expect(server.stats.paths).toEqual(['/oauth2/access_token/']);
		expect(token.tokenType).toBe('Bearer');
		expect(token.authorization).toBe(`Bearer ${token.accessToken}`);
		expect(token.scope).toEqual(['read', 'write']);
		expect(token.expiresAt).toBeGreaterThanOrEqual(before + 86_399_000);
		expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 86_399_000);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);

		const refreshed = await session.refreshToken();
		expect(server.stats.refreshRequests).toBe(1);
		expect(refreshed.scope).toEqual(['read', 'write']);
		// The old access token is expired by the refresh; the session uses the new one.
		const old = await fetch(`${server.origin}/api/me`, {
			headers: { authorization: `Bearer ${token.accessToken}` },
		});
		expect(old.status).toBe(401);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		session.close();
	});
});
