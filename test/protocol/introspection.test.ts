import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../src/errors/index.js';
import { clientSecretBasic } from '../../src/protocol/client-authentication.js';
import {
	introspectionRequest,
	parseIntrospectionResponse,
} from '../../src/protocol/introspection.js';
import { toFetchArguments } from '../../src/protocol/token-request.js';

const parse = (body: unknown, status = 200, scopeSeparator?: ' ' | ',') =>
	parseIntrospectionResponse(body, { status, scopeSeparator });

// RFC 7662 §2.2's example, with a list audience.
const active = {
	active: true,
	client_id: 'l238j323ds-23ij4',
	username: 'jdoe',
	scope: 'read write dolphin',
	sub: 'Z5O3upPC88QrAjx00dis',
	aud: ['https://protected.example.net/resource', 'https://other.example'],
	iss: 'https://server.example.com/',
	exp: 1419356238,
	iat: 1419350238,
	nbf: 1419350000,
	jti: 'abc',
	token_type: 'Bearer',
	extension_field: 'twenty-seven',
};

describe('introspectionRequest', () => {
	it('POSTs token and hint, then client authentication', async () => {
		const [url, init] = toFetchArguments(
			await introspectionRequest({
				introspectionEndpoint: 'https://as.example/introspect',
				token: 'at-SECRET-1',
				tokenTypeHint: 'access_token',
				clientAuthentication: clientSecretBasic('api', 'api-secret'),
			}),
		);
		expect(url).toBe('https://as.example/introspect');
		expect(init.body).toBe('token=at-SECRET-1&token_type_hint=access_token');
		expect(Object.fromEntries(init.headers as Headers)).toEqual({
			accept: 'application/json',
			authorization: `Basic ${btoa('api:api-secret')}`,
			'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
		});
	});

	it('refuses an empty token', async () => {
		await expect(
			introspectionRequest({ introspectionEndpoint: 'https://as.example/i', token: '' }),
		).rejects.toThrow('introspectionRequest needs token as a non-empty string');
	});
});

describe('parseIntrospectionResponse', () => {
	it('reads every field of an active token, in camelCase, and keeps the rest in extra', () => {
		const result = parse(active);
		expect(result).toEqual({
			active: true,
			clientId: 'l238j323ds-23ij4',
			username: 'jdoe',
			scope: ['read', 'write', 'dolphin'],
			sub: 'Z5O3upPC88QrAjx00dis',
			aud: ['https://protected.example.net/resource', 'https://other.example'],
			iss: 'https://server.example.com/',
			exp: 1419356238,
			iat: 1419350238,
			nbf: 1419350000,
			jti: 'abc',
			tokenType: 'Bearer',
			extra: { extension_field: 'twenty-seven' },
		});
		expect(Object.isFrozen(result)).toBe(true);
		expect(Object.isFrozen(result.scope)).toBe(true);
		expect(Object.isFrozen(result.aud)).toBe(true);
	});

	it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
		[
			'a string audience as a list',
			{ aud: 'https://api.example' },
			{ aud: ['https://api.example'] },
		],
		['a scope list', { scope: ['a', 'b'] }, { scope: ['a', 'b'] }],
		['null as absent', { scope: null, exp: null, sub: null }, { scope: undefined, exp: undefined }],
		['only active', {}, { scope: undefined, clientId: undefined, extra: {} }],
	])('reads %s', (_, fields, expected) => {
		expect(parse({ active: true, ...fields })).toMatchObject(expected);
	});

	it('splits scope on commas where told to', () => {
		expect(parse({ active: true, scope: 'repo,gist' }, 200, ',').scope).toEqual(['repo', 'gist']);
	});

	it.each([
		['alone', { active: false }],
		['with fields it should not have sent, even wrong ones', { active: false, scope: 5, sub: 'x' }],
	])('an inactive token is an answer, %s', (_, body) => {
		expect(parse(body)).toEqual({ active: false, extra: {} });
	});

	it.each<[string, unknown, string, string]>([
		['no active', { scope: 'a' }, 'invalid-field', 'active'],
		['active as a string', { active: 'true' }, 'invalid-field', 'active'],
		['exp as a string', { active: true, exp: '1419356238' }, 'invalid-field', 'exp'],
		['a numeric scope', { active: true, scope: 5 }, 'invalid-field', 'scope'],
		['an audience list of numbers', { active: true, aud: [1] }, 'invalid-field', 'aud'],
		['an array', [active], 'not-an-object', 'no JSON object'],
		['nothing', undefined, 'not-an-object', 'no JSON object'],
	])('refuses %s', (_, body, problem, named) => {
		expect(() => parse(body)).toThrow(
			expect.objectContaining({ name: 'TokenResponseError', problem, status: 200 }),
		);
		expect(() => parse(body)).toThrow(named);
	});

	it.each<[number, unknown, string]>([
		[401, { error: 'invalid_client' }, 'OAuth2ResponseError'],
		[200, { error: 'invalid_request', active: false }, 'OAuth2ResponseError'],
		[403, { active: false }, 'TokenResponseError'],
	])('HTTP %s with %j is a %s', (status, body, name) => {
		expect(() => parse(body, status)).toThrow(expect.objectContaining({ name, status }));
	});

	it('names the introspection endpoint in an error answer', () => {
		expect(() => parse({ error: 'invalid_client' }, 401)).toThrow(
			new OAuth2ResponseError(
				{ error: 'invalid_client', status: 401 },
				{ context: 'The introspection endpoint' },
			),
		);
	});
});
