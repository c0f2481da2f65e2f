import { describe, expect, it } from 'vitest';
import {
	InvalidOptionsError,
	OAuth2ResponseError,
	TokenResponseError,
} from '../../src/errors/index.js';
import { clientSecretBasic, clientSecretPost } from '../../src/protocol/client-authentication.js';
import { redactSentSecrets } from '../../src/protocol/endpoint-request.js';
import {
	decodeRevocationResponseBody,
	parseRevocationResponse,
	type RevocationRequestOptions,
	revocationRequest,
} from '../../src/protocol/revocation.js';
import { toFetchArguments } from '../../src/protocol/token-request.js';

const revocationEndpoint = 'https://as.example/revoke';
const build = (options: Partial<RevocationRequestOptions> = {}) =>
	revocationRequest({ revocationEndpoint, token: 'rt-SECRET-1', ...options });

describe('revocationRequest', () => {
	it.each<[string, Partial<RevocationRequestOptions>, string, Record<string, string>]>([
		['no hint', {}, 'token=rt-SECRET-1', {}],
		[
			'a refresh token hint and client_secret_basic',
			{ tokenTypeHint: 'refresh_token', clientAuthentication: clientSecretBasic('app', 'cs') },
			'token=rt-SECRET-1&token_type_hint=refresh_token',
			{ authorization: `Basic ${btoa('app:cs')}` },
		],
		[
			'an access token hint and client_secret_post',
			{ tokenTypeHint: 'access_token', clientAuthentication: clientSecretPost('app', 'cs') },
			'token=rt-SECRET-1&token_type_hint=access_token&client_id=app&client_secret=cs',
			{},
		],
		[
			'extra parameters and headers',
			{ params: { resource: 'https://api.example', skipped: undefined }, headers: { 'x-id': '7' } },
			'token=rt-SECRET-1&resource=https%3A%2F%2Fapi.example',
			{ 'x-id': '7' },
		],
	])('%s', async (_, options, body, headers) => {
		const [url, init] = toFetchArguments(await build(options));
		expect(url).toBe(revocationEndpoint);
		expect(init).toMatchObject({ method: 'POST', redirect: 'manual', body });
		expect(Object.fromEntries(init.headers as Headers)).toEqual({
			accept: 'application/json',
			'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
			...headers,
		});
	});

	it.each<[string, Partial<RevocationRequestOptions>, string]>([
		['a relative endpoint', { revocationEndpoint: '/revoke' }, 'revocationEndpoint'],
		['an empty token', { token: '' }, 'token'],
		['a token that is not a string', { token: 5 as unknown as string }, 'token'],
		['a hint that is not a string', { tokenTypeHint: 1 as unknown as string }, 'tokenTypeHint'],
	])('refuses %s', async (_, options, named) => {
		const error = await build(options).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect((error as Error).message).toContain(named);
	});
});

describe('parseRevocationResponse', () => {
	it.each<[number, unknown]>([
		[200, undefined],
		[200, {}],
		[200, { revoked: true }],
		[204, undefined],
	])('HTTP %s with %j is a success', (status, body) => {
		expect(parseRevocationResponse(body, { status })).toBeUndefined();
	});

	it.each<[number, string]>([
		[400, 'unsupported_token_type'],
		[400, 'invalid_request'],
		[401, 'invalid_client'],
		[200, 'invalid_client'],
	])('HTTP %s with error %s is an OAuth2ResponseError', (status, code) => {
		const response = new Response();
		const body = { error: code, error_description: 'no', error_uri: 'https://as.example/e' };
		const run = () => parseRevocationResponse(body, { status, response });
		expect(run).toThrow(OAuth2ResponseError);
		expect(run).toThrow(`The revocation endpoint answered ${code} (HTTP ${status}): no`);
		try {
			run();
		} catch (error) {
			expect(error).toMatchObject({
				error: code,
				errorDescription: 'no',
				errorUri: 'https://as.example/e',
				status,
				code: 'OAUTH2_RESPONSE_ERROR',
			});
			expect((error as OAuth2ResponseError).response).toBe(response);
		}
	});

	it.each<[number, unknown]>([
		[400, undefined],
		[403, { message: 'forbidden' }],
	])('HTTP %s without an error code is a TokenResponseError', (status, body) => {
		expect(() => parseRevocationResponse(body, { status })).toThrow(
			expect.objectContaining({
				name: 'TokenResponseError',
				problem: 'missing-error-code',
				status,
			}),
		);
	});

	it('refuses an error field that is not a code', () => {
		expect(() => parseRevocationResponse({ error: 5 }, { status: 400 })).toThrow(
			TokenResponseError,
		);
	});
});

describe('decodeRevocationResponseBody', () => {
	const response = (status: number, type = 'application/json') =>
		new Response(null, { status, headers: { 'content-type': type } });
	it.each<[string, number, string, unknown]>([
		['an empty 200', 200, '', undefined],
		['a text 200', 200, 'OK', undefined],
		['a JSON 200', 200, '{"error":"invalid_client"}', { error: 'invalid_client' }],
		['a JSON 400', 400, '{"error":"unsupported_token_type"}', { error: 'unsupported_token_type' }],
	])('decodes %s', (_, status, text, expected) => {
		expect(decodeRevocationResponseBody(text, response(status, 'text/plain'))).toEqual(expected);
	});

	it('refuses an unreadable error answer', () => {
		expect(() => decodeRevocationResponseBody('<h1>no</h1>', response(400, 'text/html'))).toThrow(
			expect.objectContaining({ problem: 'unparseable', status: 400 }),
		);
	});
});

describe('redactSentSecrets', () => {
	it('redacts the token and client secret a server echoes in its error', () => {
		const params = new URLSearchParams({ token: 'rt-SECRET-1', client_secret: 'cs-SECRET-2' });
		const body = {
			error: 'invalid_request',
			error_description: 'token rt-SECRET-1 of client cs-SECRET-2 is odd',
			other: 'rt-SECRET-1',
		};
		expect(redactSentSecrets(body, params)).toEqual({
			error: 'invalid_request',
			error_description: 'token [redacted] of client [redacted] is odd',
			other: '[redacted]',
		});
		expect(params.getAll('assertion')).toEqual([]);
	});
});
