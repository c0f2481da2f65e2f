import { HTTPError } from 'ky';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InsufficientScopeError, StepUpRequiredError } from '../../src/errors/index.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { kinds, kyFor, rejection, revokedSession, sessionOn } from './clients.js';

// The ky entry sorts 401s by cause as session.fetch does: counted at the token server.
const challenges: Record<string, { status: number; challenge: string }> = {
	'/step-up': {
		status: 401,
		challenge: 'Bearer error="insufficient_user_authentication", acr_values="phr", max_age=60',
	},
	'/scope': { status: 403, challenge: 'Bearer error="insufficient_scope", scope="admin"' },
	'/bad-request': { status: 401, challenge: 'Bearer error="invalid_request"' },
};

let server: OAuthTestServer;
let api: TestServer;
let apiRequests = 0;

beforeAll(async () => {
	server = await startOAuthServer();
	api = await startServer((request, response) => {
		apiRequests++;
		const planned = challenges[new URL(request.url ?? '/', 'http://x').pathname];
		response.writeHead(planned?.status ?? 200, {
			'content-type': 'application/json',
			...(planned === undefined ? {} : { 'www-authenticate': planned.challenge }),
		});
		response.end('{}');
	});
});
afterEach(() => {
	server.resetStats();
	apiRequests = 0;
});
afterAll(() => Promise.all([server.close(), api.close()]));

const make = (options: Parameters<typeof sessionOn>[2] = {}) =>
	sessionOn(server, server.issue(), { allowedOrigins: [server.origin, api.origin], ...options });

describe.each(kinds)('%s: 401s by cause', (kind) => {
	it('100 sequential requests to a step-up endpoint make no refresh', async () => {
		const client = kyFor(kind, make(), { retry: { limit: 2, delay: () => 0 } });
		for (let i = 0; i < 100; i++) {
			const error = await rejection(client.get(`${api.origin}/step-up`));
			expect(error).toBeInstanceOf(StepUpRequiredError);
			expect(error).toMatchObject({ acrValues: ['phr'], maxAge: 60 });
		}
		expect(server.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(100);
	});

	it('20 concurrent requests to a step-up endpoint make no refresh', async () => {
		const client = kyFor(kind, make());
		const errors = await Promise.all(
			Array.from({ length: 20 }, () => rejection(client.get(`${api.origin}/step-up`))),
		);
		expect(errors.every((error) => error instanceof StepUpRequiredError)).toBe(true);
		expect(server.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(20);
	});

	it('a revoked token makes exactly one refresh, for 20 concurrent requests', async () => {
		const client = kyFor(kind, await revokedSession(server));
		const bodies = await Promise.all(
			Array.from({ length: 20 }, () => client.get(`${server.origin}/api/me`).json()),
		);
		expect(bodies.every((body) => (body as { ok: boolean }).ok)).toBe(true);
		expect(server.stats.tokenRequests).toBe(1);
	});

	it('another error code is handed back as an HTTPError, without a refresh or a retry', async () => {
		const error = await rejection(kyFor(kind, make()).get(`${api.origin}/bad-request`));
		expect((error as HTTPError).response.status).toBe(401);
		expect(server.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(1);
	});

	it("insufficient_scope throws InsufficientScopeError with insufficientScope: 'throw', else an HTTPError", async () => {
		const thrown = await rejection(
			kyFor(kind, make({ insufficientScope: 'throw' })).get(`${api.origin}/scope`),
		);
		expect(thrown).toBeInstanceOf(InsufficientScopeError);
		expect((thrown as InsufficientScopeError).scope).toEqual(['admin']);
		const returned = await rejection(kyFor(kind, make()).get(`${api.origin}/scope`));
		expect(returned).toBeInstanceOf(HTTPError);
		expect(server.stats.tokenRequests).toBe(0);
	});
});
