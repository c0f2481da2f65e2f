import type { IncomingMessage } from 'node:http';
import { HTTPError, isForceRetryError, TimeoutError } from 'ky';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, TokenExpiredError, TokenUpdated } from '../../src/errors/index.js';
import { createKy, oauth2Hooks, TOKEN_RETRY_CODE } from '../../src/ky.js';
import { sendJson, startServer, type TestServer } from '../helpers/http-server.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { kinds, kyFor, rejection, revokedSession, sessionOn } from './clients.js';

let server: OAuthTestServer;
// A scripted API on its own origin: answers with the queued statuses, then 200, and records the
// Authorization header of each request.
let scripted: TestServer;
let script: Array<{ status: number; challenge?: string; before?: () => Promise<void> }> = [];
let seen: string[] = [];

beforeAll(async () => {
	server = await startOAuthServer();
	scripted = await startServer(async (request: IncomingMessage, response) => {
		seen.push(request.headers.authorization ?? '');
		const step = script.shift() ?? { status: 200 };
		await step.before?.();
		const headers: Record<string, string> =
			step.challenge === undefined ? {} : { 'www-authenticate': step.challenge };
		sendJson(response, step.status, { status: step.status }, headers);
	});
});
afterEach(() => {
	server.resetStats();
	server.settings.accessTokenLifetime = 3600;
	script = [];
	seen = [];
});
afterAll(() => Promise.all([server.close(), scripted.close()]));

const expired = () => ({ ...server.issue(), expires_in: -60 });

describe.each(kinds)('%s: refresh modes', (kind) => {
	it("'auto': refreshes a due token before sending", async () => {
		const session = sessionOn(server, expired());
		const body = await kyFor(kind, session).get(`${server.origin}/api/me`).json();
		expect(body).toMatchObject({ ok: true });
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1, api401: 0 });
	});

	it("'raise-updated': TokenUpdated is thrown through ky, the request is not sent", async () => {
		const session = sessionOn(server, expired(), { refresh: 'raise-updated' });
		const client = kyFor(kind, session);
		const error = await rejection(client.get(`${server.origin}/api/me`));
		expect(error).toBeInstanceOf(TokenUpdated);
		expect((error as TokenUpdated).token.accessToken).toBe(session.token?.accessToken);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 0 });
		expect(await client.get(`${server.origin}/api/me`).json()).toMatchObject({ ok: true });
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1 });
	});

	it("'raise-updated': after a 401, TokenUpdated is thrown and nothing is resent", async () => {
		const session = await revokedSession(server, { refresh: 'raise-updated' });
		const error = await rejection(kyFor(kind, session).get(`${server.origin}/api/me`));
		expect(error).toBeInstanceOf(TokenUpdated);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1, api401: 1 });
	});

	it("'manual': TokenExpiredError is thrown through ky; after refreshToken() the call succeeds", async () => {
		const session = sessionOn(server, expired(), { refresh: 'manual' });
		const client = kyFor(kind, session);
		const error = await rejection(client.get(`${server.origin}/api/me`));
		expect(error).toBeInstanceOf(TokenExpiredError);
		expect(server.stats).toMatchObject({ tokenRequests: 0, apiRequests: 0 });
		await session.refreshToken();
		expect(await client.get(`${server.origin}/api/me`).json()).toMatchObject({ ok: true });
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 1 });
	});

	it("'manual': a 401 is handed back without a refresh", async () => {
		const session = await revokedSession(server, { refresh: 'manual' });
		const error = await rejection(kyFor(kind, session).get(`${server.origin}/api/me`));
		expect((error as HTTPError).response.status).toBe(401);
		expect(server.stats).toMatchObject({ tokenRequests: 0, apiRequests: 1 });
	});
});

describe.each(kinds)('%s: retries', (kind) => {
	it('a 401 with insufficient_scope is not retried and refreshes nothing', async () => {
		const session = sessionOn(server, server.issue(), { allowedOrigins: [scripted.origin] });
		script = [{ status: 401, challenge: 'Bearer error="insufficient_scope", scope="admin"' }];
		const error = await rejection(kyFor(kind, session).get(`${scripted.origin}/admin`));
		expect((error as HTTPError).response.status).toBe(401);
		expect(seen).toHaveLength(1);
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('a POST json body is sent again, whole, on the retry after a 401', async () => {
		const session = await revokedSession(server);
		const body = await kyFor(kind, session)
			.post(`${server.origin}/api/upload`, { json: { note: 'hi', n: 1 } })
			.json();
		expect(body).toMatchObject({ method: 'POST', body: '{"note":"hi","n":1}' });
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 2, api401: 1 });
	});

	it("ky's own retry of a 503 goes with the then-current token", async () => {
		const session = sessionOn(
			server,
			{ accessToken: 'token-a' },
			{
				allowedOrigins: [scripted.origin],
			},
		);
		script = [{ status: 503, before: () => session.setToken({ accessToken: 'token-b' }) }];
		const client = kyFor(kind, session, { retry: { limit: 2, delay: () => 0 } });
		expect(await client.get(`${scripted.origin}/flaky`).json()).toEqual({ status: 200 });
		expect(seen).toEqual(['Bearer token-a', 'Bearer token-b']);
	});

	it("ky's timeout still applies", async () => {
		const session = sessionOn(server, server.issue(), { allowedOrigins: [scripted.origin] });
		script = [{ status: 200, before: () => new Promise((resolve) => setTimeout(resolve, 300)) }];
		const client = kyFor(kind, session, { timeout: 50, retry: 0 });
		await expect(client.get(`${scripted.origin}/slow`)).rejects.toBeInstanceOf(TimeoutError);
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('a signal aborted already: nothing is sent and no refresh starts', async () => {
		const session = sessionOn(server, expired());
		const reason = new Error('the caller gave up');
		const error = await rejection(
			kyFor(kind, session).get(`${server.origin}/api/me`, { signal: AbortSignal.abort(reason) }),
		);
		expect(error).toBe(reason);
		// A refresh started anyway would reach the server a moment later.
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(server.stats).toMatchObject({ tokenRequests: 0, apiRequests: 0 });
	});

	it('throwHttpErrors: false hands the 401 back as a response, after its one retry', async () => {
		server.settings.accessTokenLifetime = -1; // the refreshed token is refused too
		const session = await revokedSession(server);
		const response = await kyFor(kind, session, { throwHttpErrors: false }).get(
			`${server.origin}/api/x`,
		);
		expect(response.status).toBe(401);
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 2, api401: 2 });
	});
});

describe('how the two differ', () => {
	it("createKy: the retry after a 401 does not use ky's retries (retry: 0)", async () => {
		const session = await revokedSession(server);
		const body = await createKy(session, { retry: 0 }).get(`${server.origin}/api/x`).json();
		expect(body).toMatchObject({ ok: true });
		expect(server.stats).toMatchObject({ tokenRequests: 1, apiRequests: 2 });
	});

	it('oauth2Hooks: the retry after a 401 is a ky retry; with retry: 0 the 401 comes back', async () => {
		const session = await revokedSession(server);
		const client = kyFor('oauth2Hooks', session, { retry: 0 });
		const error = await rejection(client.get(`${server.origin}/api/x`));
		expect(error).toBeInstanceOf(HTTPError);
		expect((error as HTTPError).response.status).toBe(401);
		expect(server.stats).toMatchObject({ tokenRequests: 0, apiRequests: 1 });
	});

	it("oauth2Hooks: the user's beforeRetry hooks see the retry after a 401 by its code", async () => {
		const session = await revokedSession(server);
		const codes: Array<string | undefined> = [];
		const client = kyFor('oauth2Hooks', session).extend({
			hooks: {
				beforeRetry: [
					({ error }) => {
						codes.push(isForceRetryError(error) ? error.code : error.name);
					},
				],
			},
		});
		expect(await client.get(`${server.origin}/api/x`).json()).toMatchObject({ ok: true });
		expect(codes).toEqual([TOKEN_RETRY_CODE]);
	});
});

describe('misuse', () => {
	it("createKy refuses ky's fetch option: the session's fetch is what sends", () => {
		const session = sessionOn(server, server.issue());
		expect(() => createKy(session, { fetch } as never)).toThrow(InvalidOptionsError);
	});

	it('both refuse what is not a session of this package', () => {
		expect(() => createKy({} as never)).toThrow(TypeError);
		expect(() => oauth2Hooks({ fetch } as never)).toThrow(TypeError);
	});
});
