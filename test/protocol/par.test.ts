import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	InvalidOptionsError,
	OAuth2ResponseError,
	TokenResponseError,
} from '../../src/errors/index.js';
import { authorizationUrl } from '../../src/protocol/authorization-url.js';
import {
	clientSecretBasic,
	clientSecretPost,
	noneClientAuthentication,
} from '../../src/protocol/client-authentication.js';
import {
	type PushedAuthorizationRequestOptions,
	parsePushedAuthorizationResponse,
	pushedAuthorizationRequest,
	pushedAuthorizationUrl,
} from '../../src/protocol/par.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { toFetchArguments } from '../../src/protocol/token-request.js';

const parEndpoint = 'https://as.example/par';
const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const redirect = 'https%3A%2F%2Fapp.example%2Fcallback';
const base = {
	pushedAuthorizationRequestEndpoint: parEndpoint,
	clientId: 'app',
	redirectUri: 'https://app.example/callback',
	state: 'xyz',
	codeVerifier: verifier,
} satisfies PushedAuthorizationRequestOptions;

const requestedAt = Date.UTC(2026, 0, 1);
const parse = (body: unknown, status = 201) =>
	parsePushedAuthorizationResponse(body, { requestedAt, status });
const failure = (body: unknown, status = 201) => {
	try {
		parse(body, status);
	} catch (error) {
		return error;
	}
	throw new Error('no error');
};

describe('pushedAuthorizationRequest: the exact request', () => {
	it('a public client: the authorization parameters in a form POST, client_id once', async () => {
		const { request, ...keep } = await pushedAuthorizationRequest({
			...base,
			scope: ['openid', 'email'],
			nonce: 'n-1',
			clientAuthentication: noneClientAuthentication('app'),
		});
		const [url, init] = toFetchArguments(request);
		expect(url).toBe(parEndpoint);
		expect(init).toMatchObject({
			method: 'POST',
			body: `response_type=code&client_id=app&redirect_uri=${redirect}&scope=openid+email&state=xyz&code_challenge=${challenge}&code_challenge_method=S256&nonce=n-1`,
		});
		const headers = init.headers as Headers;
		expect(headers.get('accept')).toBe('application/json');
		expect(headers.get('content-type')).toBe('application/x-www-form-urlencoded;charset=UTF-8');
		expect(keep).toEqual({ state: 'xyz', codeVerifier: verifier, nonce: 'n-1' });
	});

	it('a confidential client authenticates as at the token endpoint; the verifier is never sent', async () => {
		const basic = await pushedAuthorizationRequest({
			...base,
			clientAuthentication: clientSecretBasic('app', 's3cret'),
		});
		expect(basic.request.headers.get('authorization')).toBe(`Basic ${btoa('app:s3cret')}`);
		const post = await pushedAuthorizationRequest({
			...base,
			clientAuthentication: clientSecretPost('app', 's3cret'),
		});
		expect(post.request.params.get('client_secret')).toBe('s3cret');
		for (const { request } of [basic, post]) {
			expect(request.params.get('code_verifier')).toBeNull();
			expect(request.params.toString()).not.toContain(verifier);
		}
	});

	it('binds the code to a DPoP key with dpop_jkt, and carries the caller headers (a proof)', async () => {
		const jkt = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
		const { request } = await pushedAuthorizationRequest({
			...base,
			dpopJkt: jkt,
			headers: { dpop: 'eyJ.proof.sig' },
		});
		expect(request.params.get('dpop_jkt')).toBe(jkt);
		expect(request.headers.get('dpop')).toBe('eyJ.proof.sig');
		await expect(
			pushedAuthorizationRequest({ ...base, dpopJkt: 'not a thumbprint' }),
		).rejects.toThrow(new InvalidOptionsError('dpopJkt must be a base64url JWK thumbprint'));
	});

	it("sends a profile's authorization parameters and scopes, the caller's winning", async () => {
		const profile = defineProfile({
			name: 'test',
			authorizationParams: { access_type: 'offline', prompt: 'consent' },
			authorizationScopes: ['offline_access'],
		});
		const { codeVerifier: _, ...withoutPkce } = base;
		const { request } = await pushedAuthorizationRequest({
			...withoutPkce,
			pkce: false,
			scope: 'read',
			profile,
			params: { prompt: 'none', ui_locales: undefined },
		});
		expect(request.params.toString()).toBe(
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=read+offline_access&state=xyz&access_type=offline&prompt=none`,
		);
	});

	it('generates a state and a verifier when none are given', async () => {
		const { request, state, codeVerifier } = await pushedAuthorizationRequest({
			pushedAuthorizationRequestEndpoint: parEndpoint,
			clientId: 'app',
		});
		expect(state.length).toBeGreaterThanOrEqual(22);
		expect(codeVerifier).toMatch(/^[\w.~-]{43,128}$/);
		expect(request.params.get('state')).toBe(state);
		expect(request.params.get('code_challenge')).toMatch(/^[\w-]{43}$/);
	});

	it.each<[string, Partial<PushedAuthorizationRequestOptions>, string]>([
		[
			'a relative endpoint',
			{ pushedAuthorizationRequestEndpoint: '/par' },
			'pushedAuthorizationRequestEndpoint must be an absolute URL',
		],
		[
			'request_uri among the pushed parameters (RFC 9126 §2.1)',
			{ params: { request_uri: 'urn:x' } },
			'params cannot set request_uri in a pushed authorization request',
		],
		[
			'a parameter the request owns',
			{ params: { state: 'other' } },
			'params cannot set state: it is set from the options of authorizationUrl()',
		],
		['an empty client id', { clientId: '' }, 'clientId must be a non-empty string'],
	])('refuses %s', async (_, options, message) => {
		await expect(pushedAuthorizationRequest({ ...base, ...options })).rejects.toThrow(
			new InvalidOptionsError(message),
		);
	});
});

describe('parsePushedAuthorizationResponse', () => {
	it("reads RFC 9126's example, expiry counted from the request", () => {
		const pushed = parse({
			request_uri: 'urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c',
			expires_in: 60,
		});
		expect(pushed).toEqual({
			requestUri: 'urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c',
			expiresIn: 60,
			expiresAt: requestedAt + 60_000,
		});
		expect(Object.isFrozen(pushed)).toBe(true);
		expect(parse({ request_uri: 'urn:x', expires_in: 1.5 }, 200).expiresAt).toBe(
			requestedAt + 1500,
		);
	});

	it.each<[string, unknown, number, Record<string, unknown>]>([
		[
			'invalid_request (400)',
			{ error: 'invalid_request', error_description: 'redirect_uri not registered' },
			400,
			{ error: 'invalid_request', errorDescription: 'redirect_uri not registered', status: 400 },
		],
		['invalid_client (401)', { error: 'invalid_client' }, 401, { error: 'invalid_client' }],
		[
			'use_dpop_nonce (400), for the DPoP retry',
			{ error: 'use_dpop_nonce' },
			400,
			{ error: 'use_dpop_nonce' },
		],
		['an error code in a 2xx answer', { error: 'access_denied' }, 201, { status: 201 }],
	])('%s is an OAuth2ResponseError', (_, body, status, fields) => {
		const error = failure(body, status);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject(fields);
		expect((error as Error).message).toContain('pushed authorization request endpoint');
	});

	it.each<[string, unknown, number, string]>([
		['an answer outside 2xx without an error code', { message: 'down' }, 503, 'missing-error-code'],
		['a 500 without a body', undefined, 500, 'missing-error-code'],
		['no object', ['urn:x', 60], 201, 'not-an-object'],
		['no body', undefined, 201, 'not-an-object'],
		['no request_uri', { expires_in: 60 }, 201, 'invalid-field'],
		['an empty request_uri', { request_uri: '', expires_in: 60 }, 201, 'invalid-field'],
		['a numeric request_uri', { request_uri: 7, expires_in: 60 }, 201, 'invalid-field'],
		['no expires_in', { request_uri: 'urn:x' }, 201, 'invalid-field'],
		['expires_in 0', { request_uri: 'urn:x', expires_in: 0 }, 201, 'invalid-field'],
		['a negative expires_in', { request_uri: 'urn:x', expires_in: -60 }, 201, 'invalid-field'],
		['expires_in as a string', { request_uri: 'urn:x', expires_in: '60' }, 201, 'invalid-field'],
		['a null expires_in', { request_uri: 'urn:x', expires_in: null }, 201, 'invalid-field'],
		['a NaN expires_in', { request_uri: 'urn:x', expires_in: Number.NaN }, 201, 'invalid-field'],
		[
			'an infinite expires_in',
			{ request_uri: 'urn:x', expires_in: Number.POSITIVE_INFINITY },
			201,
			'invalid-field',
		],
	])('%s is a TokenResponseError', (_, body, status, problem) => {
		const error = failure(body, status);
		expect(error).toBeInstanceOf(TokenResponseError);
		expect(error).toMatchObject({ problem, status });
	});

	it('names the wrong field, and never echoes the reference', () => {
		const error = failure({ request_uri: 'urn:secret-ish', expires_in: 'soon' });
		expect((error as Error).message).toBe(
			'The pushed authorization request endpoint answered with a missing or invalid expires_in',
		);
	});
});

describe('pushedAuthorizationUrl', () => {
	it('carries only client_id and request_uri, after the endpoint query', () => {
		expect(
			pushedAuthorizationUrl({
				authorizationEndpoint: 'https://as.example/authorize?p=b2c_signin',
				clientId: 'app',
				requestUri: 'urn:ietf:params:oauth:request_uri:abc',
			}),
		).toBe(
			'https://as.example/authorize?p=b2c_signin&client_id=app&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc',
		);
	});

	it.each<[string, Parameters<typeof pushedAuthorizationUrl>[0], string]>([
		[
			'an endpoint with its own client_id',
			{
				authorizationEndpoint: 'https://as.example/a?client_id=x',
				clientId: 'app',
				requestUri: 'u',
			},
			'authorizationEndpoint already has a client_id parameter; pass it as an option instead',
		],
		[
			'an endpoint with a fragment',
			{ authorizationEndpoint: 'https://as.example/a#f', clientId: 'app', requestUri: 'u' },
			'authorizationEndpoint must not have a fragment (RFC 6749 §3.1)',
		],
		[
			'an empty request URI',
			{ authorizationEndpoint: 'https://as.example/a', clientId: 'app', requestUri: '' },
			'requestUri must be a non-empty string',
		],
	])('refuses %s', (_, options, message) => {
		expect(() => pushedAuthorizationUrl(options)).toThrow(new InvalidOptionsError(message));
	});
});

describe('a push sends what the URL would have carried', () => {
	const value = fc.stringMatching(/^[\w.~ :/-]{1,20}$/);
	it('for any scope, state, nonce and extra parameters, the body is the query of authorizationUrl()', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.record({
					scope: fc.option(fc.array(fc.stringMatching(/^[\w:.-]{1,12}$/), { maxLength: 4 }), {
						nil: undefined,
					}),
					state: value,
					nonce: fc.option(value, { nil: undefined }),
					params: fc.dictionary(fc.stringMatching(/^x_[a-z]{1,8}$/), value, { maxKeys: 3 }),
					pkce: fc.constantFrom('S256' as const, 'plain' as const, false as const),
				}),
				async (options) => {
					const common = {
						clientId: 'app',
						redirectUri: 'https://app.example/callback',
						...options,
						...(options.pkce === false ? {} : { codeVerifier: verifier }),
					};
					const { url } = await authorizationUrl({
						...common,
						authorizationEndpoint: 'https://as.example/authorize',
					});
					const { request } = await pushedAuthorizationRequest({
						...common,
						pushedAuthorizationRequestEndpoint: parEndpoint,
					});
					expect(request.params.toString()).toBe(new URL(url).searchParams.toString());
				},
			),
			{ numRuns: 200 },
		);
	});
});
