/**
 * Two APIs, one sign-in (RFC 8707) against oidc-provider with `features.resourceIndicators`: each
 * API, on its own loopback origin, verifies that the JWT access token it gets was issued for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import { OAuth2Session, type OAuth2SessionOptions } from '../../src/index.js';
import { FileStore } from '../../src/storage/file.js';
import { sendJson, startServer, type TestServer } from '../helpers/http-server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
/** Access tokens live 3 s, so a test can wait for a real expiry. */
const TTL = 3;
/**
 * What the server issues now. A burst sets it long once the tokens it meets have expired: on a
 * loaded machine a burst can outlast 3 s, and a token that expires during it is a second expiry.
 */
let ttl = TTL;

interface Api extends TestServer {
	readonly stats: { requests: number; refused: number; foreign: number };
}

let jwks: JWTVerifyGetKey | undefined;
let server: AuthServer;
let a: Api;
let b: Api;

/** An API that takes only a JWT the server signed for its own origin (RFC 9068 `aud`). */
async function startApi(): Promise<Api> {
	const stats = { requests: 0, refused: 0, foreign: 0 };
	const api: TestServer = await startServer(async (request, response) => {
		stats.requests++;
		const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
		let audience: unknown;
		try {
			audience = decodeJwt(token).aud;
		} catch {
			// The session's own (opaque) token: meant for the other API.
		}
		if (audience !== api.origin) stats.foreign++;
		try {
			if (jwks === undefined) throw new Error('no keys yet');
			await jwtVerify(token, jwks, { issuer: server.issuer, audience: api.origin });
			sendJson(response, 200, { ok: true, audience });
		} catch {
			stats.refused++;
			response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
			response.end();
		}
	});
	return Object.assign(api, { stats });
}

beforeAll(async () => {
	[a, b] = await Promise.all([startApi(), startApi()]);
	server = await startAuthServer({
		redirectUri,
		accessTokenTtl: () => ttl,
		resources: [a.origin, b.origin],
	});
	jwks = createRemoteJWKSet(new URL(`${server.origin}/jwks`));
});
afterAll(async () => {
	await Promise.all([server.close(), a.close(), b.close()]);
});

function twoApiSession(options: Partial<OAuth2SessionOptions> = {}): OAuth2Session {
	return new OAuth2Session({
		clientId: server.clients.public.clientId,
		authorizationEndpoint: server.authorizationEndpoint,
		tokenEndpoint: server.tokenEndpoint,
		redirectUri,
		scope: server.scope,
		allowedOrigins: [server.origin],
		resources: { [a.origin]: {}, [b.origin]: {} },
		proactiveRefresh: false,
		// The tokens live 3 s: kept as the server says, not stretched to the floor.
		minRefreshInterval: 0,
		...options,
	});
}

/** Signs in for the server's own API and both others, in one authorization. */
async function signIn(session: OAuth2Session): Promise<void> {
	const { url } = await session.authorizationUrl({
		params: { resource: [server.resource, a.origin, b.origin] },
	});
	await session.fetchToken({
		authorizationResponse: await server.approve(url),
		issuer: server.issuer,
	});
}

const refreshes = () => Object.fromEntries(server.stats.refreshesByResource);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (key: keyof Api['stats']) => a.stats[key] + b.stats[key];

describe('two APIs, one sign-in, against oidc-provider', () => {
	afterEach(() => {
		ttl = TTL;
	});

	it('authorizationUrl() names every API of resources, as repeated parameters', async () => {
		const session = twoApiSession();
		const { url } = await session.authorizationUrl();
		expect(new URL(url).searchParams.getAll('resource')).toEqual([a.origin, b.origin]);
		session.close();
	});

	it('each API gets a JWT for its own audience; no token reaches the other API', async () => {
		ttl = 600;
		const session = twoApiSession();
		await signIn(session);
		server.stats.refreshesByResource.clear();
		const answers = await Promise.all([
			session.fetch(`${a.origin}/me`),
			session.fetch(`${b.origin}/me`),
			session.fetch(`${server.api}/me`),
		]);
		expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
		expect(await answers[0]?.json()).toEqual({ ok: true, audience: a.origin });
		expect(await answers[1]?.json()).toEqual({ ok: true, audience: b.origin });
		expect(refreshes()).toEqual({ [a.origin]: 1, [b.origin]: 1 });
		expect(sum('foreign')).toBe(0);
		session.close();
	});

	it('50 concurrent requests over both APIs, both tokens expired: 2 refreshes, no invalid_grant', async () => {
		const session = twoApiSession();
		await signIn(session);
		await Promise.all([session.fetch(`${a.origin}/me`), session.fetch(`${b.origin}/me`)]);
		await wait(TTL * 1000 + 200);
		ttl = 600;
		server.stats.refreshesByResource.clear();
		const before = { ...a.stats, refusedB: b.stats.refused, issued: server.stats.refreshesIssued };
		const statuses = await Promise.all(
			Array.from({ length: 50 }, async (_, i) => {
				const response = await session.fetch(`${i % 2 ? a.origin : b.origin}/me`);
				return response.status;
			}),
		);
		expect(statuses).toEqual(Array(50).fill(200));
		expect(refreshes()).toEqual({ [a.origin]: 1, [b.origin]: 1 });
		// Rotation is on: a refresh with a spent refresh token would be refused (and end the grant).
		expect(server.stats.refreshesIssued - before.issued).toBe(2);
		expect(a.stats.refused - before.refused + b.stats.refused - before.refusedB).toBe(0);
		expect(sum('foreign')).toBe(0);
		session.close();
	});

	it('two sessions sharing a FileStore: still one refresh per API', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'two-apis-'));
		try {
			const first = twoApiSession({ store: new FileStore({ dir }) });
			await signIn(first);
			const second = twoApiSession({ store: new FileStore({ dir }) });
			await Promise.all([first.fetch(`${a.origin}/me`), second.fetch(`${b.origin}/me`)]);
			await wait(TTL * 1000 + 200);
			ttl = 600;
			server.stats.refreshesByResource.clear();
			const issued = server.stats.refreshesIssued;
			const statuses = await Promise.all(
				Array.from({ length: 50 }, async (_, i) => {
					const session = i % 4 < 2 ? first : second;
					return (await session.fetch(`${i % 2 ? a.origin : b.origin}/me`)).status;
				}),
			);
			expect(statuses).toEqual(Array(50).fill(200));
			expect(refreshes()).toEqual({ [a.origin]: 1, [b.origin]: 1 });
			expect(server.stats.refreshesIssued - issued).toBe(2);
			first.close();
			second.close();
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
