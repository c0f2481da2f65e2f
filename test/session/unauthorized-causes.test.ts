import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InsufficientScopeError, StepUpRequiredError } from '../../src/errors/index.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { printouts } from '../fuzz/runs.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

// A resource server whose every path answers with one challenge, beside a token server that
// issues tokens gladly: which 401s cost a refresh is counted at the token server.
const STEP_UP =
	'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phr phrh", max_age=300';
const challenges: Record<string, { status: number; challenge: string }> = {
	'/step-up': { status: 401, challenge: STEP_UP },
	'/step-up-dpop': { status: 401, challenge: `DPoP algs="ES256 PS256", ${STEP_UP}` },
	'/scope': { status: 401, challenge: 'Bearer error="insufficient_scope", scope="admin audit"' },
	'/scope-403': { status: 403, challenge: 'Bearer error="insufficient_scope", scope="admin"' },
	'/bad-request': { status: 401, challenge: 'Bearer error="invalid_request"' },
	'/dpop-invalid': { status: 401, challenge: 'DPoP algs="ES256", error="invalid_token"' },
};

let oauth: OAuthTestServer;
let api: TestServer;
let apiRequests = 0;
/** Answers of `/sequence`, in order, then 200. */
let sequence: string[] = [];

function answer(response: ServerResponse, status: number, challenge: string): void {
	response.writeHead(status, { 'www-authenticate': challenge, 'content-type': 'application/json' });
	response.end('{}');
}

beforeAll(async () => {
	oauth = await startOAuthServer();
	api = await startServer((request, response) => {
		apiRequests++;
		const path = new URL(request.url ?? '/', 'http://x').pathname;
		const next = path === '/sequence' ? sequence.shift() : undefined;
		if (next !== undefined) return answer(response, 401, next);
		const planned = challenges[path];
		if (planned !== undefined) return answer(response, planned.status, planned.challenge);
		response.writeHead(200, { 'content-type': 'application/json' });
		response.end('{"ok":true}');
	});
});
afterEach(() => {
	oauth.resetStats();
	apiRequests = 0;
	sequence = [];
});
afterAll(() => Promise.all([api.close(), oauth.close()]));

const make = (options: Partial<OAuth2SessionOptions> = {}) =>
	sessionOn(oauth, oauth.issue(), { allowedOrigins: [oauth.origin, api.origin], ...options });

const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => {
			throw new Error('expected a rejection');
		},
		(error: unknown) => error,
	);

describe('a 401 asking for step-up authentication (RFC 9470)', () => {
	it('100 sequential requests make no refresh, each failing with StepUpRequiredError', async () => {
		const session = make();
		for (let i = 0; i < 100; i++) {
			const error = await failure(session.fetch(`${api.origin}/step-up`));
			expect(error).toBeInstanceOf(StepUpRequiredError);
			expect(error).toMatchObject({ acrValues: ['phr', 'phrh'], maxAge: 300 });
			expect((error as StepUpRequiredError).response.status).toBe(401);
		}
		expect(oauth.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(100);
	});

	it('50 concurrent requests make no refresh and no retry', async () => {
		const session = make();
		const errors = await Promise.all(
			Array.from({ length: 50 }, () => failure(session.fetch(`${api.origin}/step-up`))),
		);
		expect(errors.every((error) => error instanceof StepUpRequiredError)).toBe(true);
		expect(oauth.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(50);
	});

	it('is read beside a DPoP challenge', async () => {
		const error = await failure(make().fetch(`${api.origin}/step-up-dpop`));
		expect(error).toMatchObject({ name: 'StepUpRequiredError', acrValues: ['phr', 'phrh'] });
		expect(oauth.stats.tokenRequests).toBe(0);
	});

	it('after a refresh for invalid_token, the retry that meets step-up throws it: one refresh', async () => {
		const session = make();
		sequence = ['Bearer error="invalid_token"', STEP_UP];
		const error = await failure(session.fetch(`${api.origin}/sequence`));
		expect(error).toBeInstanceOf(StepUpRequiredError);
		expect(oauth.stats.tokenRequests).toBe(1);
		expect(apiRequests).toBe(2);
	});

	it('names neither the token nor the URL query in what it prints', async () => {
		const session = make();
		await session.ready;
		const error = await failure(session.fetch(`${api.origin}/step-up?code=QUERYSECRET`));
		const printed = printouts(error);
		expect(printed).not.toContain(session.token?.accessToken);
		expect(printed).not.toContain('QUERYSECRET');
	});

	it('starts the step-up sign-in: authorizationUrl({ stepUp }) asks for its acr_values and max_age', async () => {
		const session = make({ authorizationEndpoint: `${oauth.origin}/authorize` });
		const stepUp = (await failure(session.fetch(`${api.origin}/step-up`))) as StepUpRequiredError;
		const { url } = await session.authorizationUrl({ stepUp });
		const query = new URL(url).searchParams;
		expect(query.get('acr_values')).toBe('phr phrh');
		expect(query.get('max_age')).toBe('300');
	});
});

describe('a 401 whose token is the problem', () => {
	it('a revoked token still makes exactly one refresh, for 100 sequential requests', async () => {
		const session = make();
		await session.ready;
		oauth.revokeAccessTokens();
		for (let i = 0; i < 100; i++) {
			expect((await session.fetch(`${oauth.origin}/api/me`)).status).toBe(200);
		}
		expect(oauth.stats.tokenRequests).toBe(1);
		expect(oauth.stats.api401).toBe(1);
	});

	it('a revoked token makes exactly one refresh for 50 concurrent requests', async () => {
		const session = make();
		await session.ready;
		oauth.revokeAccessTokens();
		const statuses = await Promise.all(
			Array.from({ length: 50 }, () =>
				session.fetch(`${oauth.origin}/api/me`).then((r) => r.status),
			),
		);
		expect(statuses).toEqual(Array(50).fill(200));
		expect(oauth.stats.tokenRequests).toBe(1);
	});

	it('a DPoP challenge saying invalid_token refreshes too', async () => {
		const response = await make().fetch(`${api.origin}/dpop-invalid`);
		expect(response.status).toBe(401);
		expect(oauth.stats.tokenRequests).toBe(1);
		expect(apiRequests).toBe(2);
	});
});

describe('a 401 a new token would meet the same way', () => {
	it('another error code (invalid_request) is handed back without a refresh', async () => {
		const session = make();
		for (let i = 0; i < 10; i++) {
			expect((await session.fetch(`${api.origin}/bad-request`)).status).toBe(401);
		}
		expect(oauth.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(10);
	});
});

describe('insufficient_scope', () => {
	it('by default, the 401 is handed back as it came, without a refresh', async () => {
		const response = await make().fetch(`${api.origin}/scope`);
		expect(response.status).toBe(401);
		expect(oauth.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(1);
	});

	it("with insufficientScope: 'throw', a 401 or 403 throws InsufficientScopeError with the scope asked for", async () => {
		const session = make({ insufficientScope: 'throw' });
		const error = await failure(session.fetch(`${api.origin}/scope`));
		expect(error).toBeInstanceOf(InsufficientScopeError);
		expect((error as InsufficientScopeError).scope).toEqual(['admin', 'audit']);
		const forbidden = await failure(session.fetch(`${api.origin}/scope-403`));
		expect(forbidden).toMatchObject({ name: 'InsufficientScopeError', scope: ['admin'] });
		expect((forbidden as InsufficientScopeError).response.status).toBe(403);
		expect(oauth.stats.tokenRequests).toBe(0);
		expect(apiRequests).toBe(2);
	});

	it("with insufficientScope: 'throw', 50 concurrent requests throw and refresh nothing", async () => {
		const session = make({ insufficientScope: 'throw' });
		const errors = await Promise.all(
			Array.from({ length: 50 }, () => failure(session.fetch(`${api.origin}/scope`))),
		);
		expect(errors.every((error) => error instanceof InsufficientScopeError)).toBe(true);
		expect(oauth.stats.tokenRequests).toBe(0);
	});

	it('refuses an insufficientScope that is neither return nor throw', () => {
		expect(() => make({ insufficientScope: 'raise' as never })).toThrow(/insufficientScope/);
	});
});
