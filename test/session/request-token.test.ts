import type { IncomingHttpHeaders } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
	InsecureTransportError,
	InvalidOptionsError,
	OAuth2ResponseError,
	TokenRequestError,
	TokenResponseError,
} from '../../src/errors/index.js';
import { clientSecretBasic, clientSecretPost } from '../../src/protocol/client-authentication.js';
import {
	clientCredentialsGrant,
	fbExchangeTokenGrant,
	passwordGrant,
	refreshTokenGrant,
} from '../../src/protocol/grants.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { facebook } from '../../src/protocol/profiles/index.js';
import { retryAfterDelay } from '../../src/session/request-failure.js';
import {
	type RequestTokenOptions,
	requestToken,
	sendTokenRequest,
} from '../../src/session/request-token.js';
import { type Handler, sendJson, startServer, type TestServer } from '../helpers/http-server.js';

interface Hit {
	method: string;
	url: string;
	headers: IncomingHttpHeaders;
	body: string;
}

const ok: Handler = (_, response) =>
	sendJson(response, 200, { access_token: 'at-1', token_type: 'bearer', expires_in: 3600 });
let server: TestServer;
let hits: Hit[] = [];
let handlers: Handler[] = [];

/** Answers the nth token request with the nth handler (the last one repeats). */
function answer(...sequence: Handler[]): void {
	handlers = sequence;
}
const status =
	(code: number, headers: Record<string, string> = {}): Handler =>
	(_, response) =>
		sendJson(response, code, { error: 'server_error' }, headers);
const hang: Handler = () => {};
const reset: Handler = (request) => void request.socket.destroy();
const tokenHits = () => hits.filter((hit) => hit.url.startsWith('/token'));
/** Resolves at the next request the server sees: a signal, not a poll with a deadline. */
let nextHit: () => void = () => {};
const arrival = () => new Promise<void>((resolve) => (nextHit = resolve));

beforeAll(async () => {
	server = await startServer((request, response) => {
		hits.push({
			method: request.method ?? '',
			url: request.url ?? '',
			headers: request.headers,
			body: request.body,
		});
		nextHit();
		if (!request.url?.startsWith('/token')) return status(418)(request, response);
		const handler = handlers[Math.min(tokenHits().length, handlers.length) - 1] ?? ok;
		return handler(request, response);
	});
});
afterEach(() => {
	hits = [];
	handlers = [];
});
afterAll(() => server.close());

const fast = { retries: 2, minTimeout: 5, maxTimeout: 10 };
const request = (options: Partial<RequestTokenOptions> = {}) =>
	requestToken({
		tokenEndpoint: `${server.origin}/token`,
		grant: clientCredentialsGrant({ scope: ['read', 'write'] }),
		clientAuthentication: clientSecretBasic('cid', 'csecret'),
		retry: fast,
		...options,
	});
const failure = (promise: Promise<unknown>) =>
	promise.then(
		() => expect.unreachable('the request should have failed'),
		(error: unknown) => error,
	);

describe('requestToken: the request', () => {
	it('POSTs the form with Accept: application/json and the client authentication', async () => {
		const token = await request();
		expect(token).toMatchObject({ accessToken: 'at-1', tokenType: 'Bearer' });
		expect(hits).toHaveLength(1);
		expect(hits[0]).toMatchObject({
			method: 'POST',
			body: 'grant_type=client_credentials&scope=read+write',
			headers: {
				accept: 'application/json',
				'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
				authorization: `Basic ${btoa('cid:csecret')}`,
			},
		});
	});

	it('counts expiry from when the request started, not when the answer came', async () => {
		// The request started before it arrived, and the answer leaves 300 ms after that: the
		// arrival bounds the start whatever a loaded machine did before it, which `before + 250` did not.
		let arrived = 0;
		answer(async (_, response) => {
			arrived = Date.now();
			await new Promise((resolve) => setTimeout(resolve, 300));
			ok(_, response);
		});
		const before = Date.now();
		const token = await request();
		expect(token.issuedAt).toBeGreaterThanOrEqual(before);
		expect(token.issuedAt).toBeLessThanOrEqual(arrived);
		expect(token.expiresAt).toBe((token.issuedAt ?? Number.NaN) + 3_600_000);
	});

	it('facebook: GET with the parameters in the query, a text/plain form answer with expires', async () => {
		answer((_, response) => {
			response.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' });
			response.end('access_token=EAAB1&expires=5183999');
		});
		const before = Date.now();
		const token = await request({
			grant: fbExchangeTokenGrant({ fbExchangeToken: 'short' }),
			clientAuthentication: clientSecretPost('app', 'app-secret'),
			profile: facebook,
		});
		expect(hits[0]?.method).toBe('GET');
		expect(hits[0]?.body).toBe('');
		expect(hits[0]?.url).toBe(
			'/token?grant_type=fb_exchange_token&fb_exchange_token=short&client_id=app&client_secret=app-secret',
		);
		expect(token.accessToken).toBe('EAAB1');
		expect(token.expiresAt).toBeGreaterThanOrEqual(before + 5_183_999_000);
	});

	it('decodes a form-encoded answer, and uses a custom decoder when given one', async () => {
		answer((_, response) => {
			response.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
			response.end('access_token=at-form&scope=a+b');
		});
		expect((await request()).scope).toEqual(['a', 'b']);
		answer((_, response) => {
			response.writeHead(200, { 'content-type': 'text/x-custom' });
			response.end('token:at-custom');
		});
		const decoder = vi.fn((text: string, response: Response) => ({
			access_token: text.split(':')[1],
			status_seen: response.status,
		}));
		const token = await request({ decoder });
		expect(token.accessToken).toBe('at-custom');
		expect(token.extra).toEqual({ status_seen: 200 });
	});

	it('runs the hooks of the phase the grant belongs to, before each attempt', async () => {
		const seen: string[] = [];
		const profile = defineProfile({
			name: 'recorder',
			hooks: {
				accessTokenRequest: [() => void seen.push('access request')],
				refreshTokenRequest: [(r) => void r.headers.set('x-phase', 'refresh')],
				refreshTokenResponse: [(r) => ({ ...r, body: { access_token: 'from-hook' } })],
			},
		});
		answer(status(503), ok);
		const token = await request({ grant: refreshTokenGrant({ refreshToken: 'rt' }), profile });
		expect(token.accessToken).toBe('from-hook');
		expect(hits.map((hit) => hit.headers['x-phase'])).toEqual(['refresh', 'refresh']);
		expect(seen).toEqual([]);
	});

	it('refuses http: to a host that is not loopback, without sending anything', async () => {
		const fetch = vi.fn<typeof globalThis.fetch>();
		const error = await failure(request({ tokenEndpoint: 'http://as.example/token', fetch }));
		expect(error).toBeInstanceOf(InsecureTransportError);
		expect(fetch).not.toHaveBeenCalled();
	});
});

describe('requestToken: retries', () => {
	it('retries 503, 503 then succeeds, building the request afresh each time', async () => {
		answer(status(503), status(503), ok);
		const authentications = vi.fn();
		const token = await request({ clientAuthentication: authentications });
		expect(token.accessToken).toBe('at-1');
		expect(hits).toHaveLength(3);
		expect(authentications).toHaveBeenCalledTimes(3);
	});

	it('waits as long as Retry-After says after a 429', async () => {
		answer(status(429, { 'retry-after': '1' }), ok);
		const started = Date.now();
		await request();
		expect(Date.now() - started).toBeGreaterThanOrEqual(900);
		expect(hits).toHaveLength(2);
	});

	it('gives up at once when Retry-After is longer than maxRetryAfter', async () => {
		answer(status(429, { 'retry-after': '120' }));
		const error = await failure(request({ retry: { ...fast, maxRetryAfter: 5_000 } }));
		expect(error).toMatchObject({
			name: 'TokenRequestError',
			reason: 'http',
			status: 429,
			attempts: 1,
		});
	});

	it.each<[string, Handler, Record<string, unknown>]>([
		[
			'an HTML 502 page',
			(_, r) => void r.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'),
			{ reason: 'http', status: 502 },
		],
		['a reset connection', reset, { reason: 'network', cause: expect.any(TypeError) }],
	])('retries %s, then fails with TokenRequestError', async (_, handler, expected) => {
		answer(handler);
		const error = await failure(request());
		expect(error).toBeInstanceOf(TokenRequestError);
		expect(error).toMatchObject({ ...expected, attempts: 3 });
		expect(hits).toHaveLength(3);
	});

	// Only the hang needs a short timeout (to end it); the reset keeps the default, so no answer
	// races a 200 ms timer there.
	it.each<[string, Handler, number | undefined]>([
		['a reset connection', reset, undefined],
		['a hang past the timeout', hang, 200],
	])('recovers from %s', async (_, handler, timeout) => {
		answer(handler, ok);
		expect((await request({ timeout })).accessToken).toBe('at-1');
		expect(hits).toHaveLength(2);
	});

	it('a hang past the timeout is a TokenRequestError timeout', async () => {
		answer(hang);
		const error = await failure(request({ timeout: 150, retry: false }));
		expect(error).toMatchObject({ name: 'TokenRequestError', reason: 'timeout', attempts: 1 });
		expect((error as Error).cause).toBeDefined();
	});

	it('stops at maxRetryTime however many retries are left', async () => {
		answer(status(503));
		const error = await failure(
			request({ retry: { retries: 50, minTimeout: 100, maxRetryTime: 250 } }),
		);
		expect(error).toMatchObject({ reason: 'http', status: 503 });
		expect(hits.length).toBeLessThanOrEqual(4);
	});

	it.each<[string, Handler, Partial<RequestTokenOptions>, () => unknown]>([
		[
			'an OAuth error answer',
			(_, r) => sendJson(r, 400, { error: 'invalid_grant' }),
			{},
			() => OAuth2ResponseError,
		],
		[
			'truncated JSON',
			(_, r) =>
				void r.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"at'),
			{},
			() => TokenResponseError,
		],
		[
			'a redirect',
			(_, r) => void r.writeHead(302, { location: `${server.origin}/elsewhere` }).end(),
			{},
			() => TokenRequestError,
		],
		['a 503 with retries off', status(503), { retry: false }, () => TokenRequestError],
	])('never retries %s', async (_, handler, options, errorClass) => {
		answer(handler);
		const error = await failure(request(options));
		expect(error).toBeInstanceOf(errorClass());
		expect(hits).toHaveLength(1);
	});

	it.each<[string, RequestTokenOptions['retry'], string]>([
		['negative retries', { retries: -1 }, 'retry.retries must be a whole number, 0 or more'],
		['fractional retries', { retries: 1.5 }, 'retry.retries must be a whole number, 0 or more'],
		['a NaN minTimeout', { minTimeout: Number.NaN }, 'retry.minTimeout must be a number of'],
		['an infinite minTimeout', { minTimeout: Number.POSITIVE_INFINITY }, 'retry.minTimeout'],
		['a negative maxRetryAfter', { maxRetryAfter: -1 }, 'retry.maxRetryAfter must be a number'],
		['a string maxRetryTime', { maxRetryTime: '9' as unknown as number }, 'retry.maxRetryTime'],
	])('refuses %s with InvalidOptionsError, sending nothing', async (_, retry, message) => {
		const error = await failure(request({ retry }));
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect((error as Error).message).toContain(message);
		expect(hits).toHaveLength(0);
	});

	it('takes unlimited retries and an unlimited retry time', async () => {
		answer(status(503), ok);
		const retry = { retries: Number.POSITIVE_INFINITY, minTimeout: 5, maxRetryTime: Infinity };
		expect((await request({ retry })).accessToken).toBe('at-1');
		expect(hits).toHaveLength(2);
	});

	it('reports a redirect as TokenRequestError redirect, and does not follow it', async () => {
		answer((_, r) => void r.writeHead(307, { location: `${server.origin}/elsewhere` }).end());
		const error = await failure(request());
		expect(error).toMatchObject({ reason: 'redirect', status: 307, attempts: 1 });
		expect(hits.filter((hit) => hit.url === '/elsewhere')).toHaveLength(0);
	});

	// The last column is the wait the abort cuts short: rejecting before it ended shows the abort,
	// not the wait's end, settled it (a fixed 500 ms was a race with a loaded machine).
	it.each<[string, Handler, RequestTokenOptions['retry'], number]>([
		['while waiting between retries', status(503), { retries: 5, minTimeout: 10_000 }, 10_000],
		['while waiting for Retry-After', status(429, { 'retry-after': '30' }), fast, 30_000],
		['while a request hangs', hang, fast, 30_000],
	])(
		'an abort %s stops everything and rejects with its reason',
		async (_, handler, retry, wait) => {
			answer(handler);
			const controller = new AbortController();
			const reason = new Error('user left');
			const arrived = arrival();
			const pending = failure(request({ retry, signal: controller.signal, timeout: 30_000 }));
			await arrived;
			expect(hits).toHaveLength(1);
			const aborted = Date.now();
			controller.abort(reason);
			expect(await pending).toBe(reason);
			expect(Date.now() - aborted).toBeLessThan(wait);
			await new Promise((resolve) => setTimeout(resolve, 100));
			expect(hits).toHaveLength(1);
		},
	);
});

describe('requestToken: secrets', () => {
	it('keeps the password and client secret out of a failing grant error', async () => {
		answer((_, r) =>
			sendJson(r, 400, {
				error: 'invalid_grant',
				error_description: 'wrong password hunter2-SECRET for alice (client cs-SECRET-9)',
			}),
		);
		const error = await failure(
			request({
				grant: passwordGrant({ username: 'alice', password: 'hunter2-SECRET' }),
				clientAuthentication: clientSecretPost('cid', 'cs-SECRET-9'),
			}),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
		expect(shown).toContain('alice');
		expect(shown).not.toMatch(/hunter2-SECRET|cs-SECRET-9/);
	});

	it.each<[string, typeof fetch | undefined]>([
		['from fetch', undefined],
		[
			'from a fetch that quotes the URL',
			async (input) => {
				throw new TypeError(`request to ${input} failed, reason: ECONNRESET`);
			},
		],
	])('keeps the query of a GET out of network errors %s', async (_, fetch) => {
		answer(reset);
		const error = await failure(
			request({
				fetch,
				grant: fbExchangeTokenGrant({ fbExchangeToken: 'fb-SECRET-1' }),
				clientAuthentication: clientSecretPost('app', 'cs-SECRET-9'),
				profile: facebook,
				retry: false,
			}),
		);
		expect(error).toMatchObject({ reason: 'network' });
		const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
		expect(shown).not.toMatch(/fb-SECRET-1|cs-SECRET-9/);
	});
});

describe('sendTokenRequest and retryAfterDelay', () => {
	it('returns any non-transient answer decoded, for the caller to judge', async () => {
		answer((_, r) => sendJson(r, 400, { error: 'authorization_pending' }, { 'x-id': '7' }));
		const answered = await sendTokenRequest(
			{
				url: new URL(`${server.origin}/token`),
				method: 'POST',
				headers: new Headers(),
				params: new URLSearchParams({ device_code: 'd' }),
			},
			{ now: () => 42 },
		);
		expect(answered).toMatchObject({
			status: 400,
			body: { error: 'authorization_pending' },
			requestedAt: 42,
			attempts: 1,
		});
		expect(answered.headers.get('x-id')).toBe('7');
	});

	it.each<[string | null, number | undefined]>([
		['2', 2000],
		['0', 0],
		[new Date(1_010_000).toUTCString(), 10_000],
		[new Date(990_000).toUTCString(), 0],
		['soon', undefined],
		['-3', undefined],
		[null, undefined],
	])('Retry-After %s is %s ms', (header, expected) => {
		expect(retryAfterDelay(header, 1_000_000)).toBe(expected);
	});
});

describe('a client secret sent with client_secret_basic and echoed back', () => {
	it('is redacted from the error, raw or form-encoded', async () => {
		const secret = 'p+ss/w0rd=SECRET';
		const server = await startServer((request, response) => {
			// A careless server quoting the credentials it could not verify.
			const sent = Buffer.from((request.headers.authorization ?? '').slice(6), 'base64').toString();
			const [, encoded = ''] = sent.split(':');
			response.writeHead(401, { 'content-type': 'application/json' });
			response.end(
				JSON.stringify({
					error: 'invalid_client',
					error_description: `bad secret ${decodeURIComponent(encoded)} (sent as ${encoded})`,
				}),
			);
		});
		try {
			const error = await requestToken({
				tokenEndpoint: `${server.origin}/token`,
				grant: clientCredentialsGrant(),
				clientAuthentication: clientSecretBasic('app', secret),
				retry: false,
			}).catch((e: unknown) => e);
			expect(error).toMatchObject({ name: 'OAuth2ResponseError', error: 'invalid_client' });
			const printed = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error)}`;
			expect(printed).not.toContain(secret);
			expect(printed).not.toContain(encodeURIComponent(secret));
			expect(printed).toContain('[redacted]');
		} finally {
			await server.close();
		}
	});
});
