// requestToken against any answer a token endpoint (or a proxy in front of it) may send: any
// status, content type and body, the request's secrets echoed in it. What the existing
// parseTokenResponse properties (test/protocol/token-response.property.test.ts) do not reach: the
// decoding of the body text and the redaction of what the request itself sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientSecretBasic, clientSecretPost } from '../../src/protocol/client-authentication.js';
import {
	authorizationCodeGrant,
	passwordGrant,
	refreshTokenGrant,
} from '../../src/protocol/grants.js';
import { Token } from '../../src/protocol/token.js';
import { requestToken } from '../../src/session/request-token.js';
import { expectNoSecret, expectTypedErrorWithout, fuzzTimeout, runs, secret } from './runs.js';

const TOKEN_ENDPOINT = 'https://as.example.com/token';

const scenario = fc
	.record({
		clientSecret: secret,
		password: secret,
		refreshToken: secret,
		code: secret,
		codeVerifier: secret,
		grant: fc.constantFrom('password', 'refresh_token', 'authorization_code'),
		basic: fc.boolean(),
		status: fc.oneof(
			fc.constantFrom(200, 400, 401, 403, 404, 500, 502, 503, 429, 302),
			fc.integer({ min: 200, max: 599 }),
		),
		contentType: fc.option(
			fc.constantFrom(
				'application/json',
				'application/json; charset=utf-8',
				'application/x-www-form-urlencoded',
				'text/plain',
				'text/html',
				'application/problem+json',
			),
			{ nil: undefined },
		),
		shape: fc.constantFrom('json', 'form', 'text', 'truncated'),
		error: fc.constantFrom(
			'invalid_grant',
			'invalid_client',
			'invalid_request',
			'server_error',
			'',
		),
		fields: fc.dictionary(
			fc.constantFrom('access_token', 'token_type', 'expires_in', 'scope', 'x'),
			fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
			{ maxKeys: 4 },
		),
		echoIn: fc.subarray(['error_description', 'error_uri', 'error'] as const),
	})
	// The secrets the request sends: the client's and the grant's. Only those can be echoed back.
	.map((s) => ({
		...s,
		secrets: [
			s.clientSecret,
			...(s.grant === 'password'
				? [s.password]
				: s.grant === 'refresh_token'
					? [s.refreshToken]
					: [s.code, s.codeVerifier]),
		],
	}));

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The answer body: the fields, an error echoing every secret of the request, in one shape. */
function bodyOf(s: Scenario): string {
	const echo = s.secrets.join(' ');
	const body: Record<string, unknown> = { ...s.fields };
	if (s.error !== '') body.error = s.error;
	for (const field of s.echoIn) body[field] = `${String(body[field] ?? '')} ${echo}`;
	if (s.shape === 'form' || s.shape === 'text') {
		const form = new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)]));
		return s.shape === 'form' ? form.toString() : `<html>${form.toString()}</html>`;
	}
	const json = JSON.stringify(body);
	return s.shape === 'truncated' ? json.slice(0, Math.ceil(json.length / 2)) : json;
}

describe('requestToken on any answer (property)', () => {
	it(
		'a Token or a typed error, and no secret of the request in the error',
		async () => {
			await fc.assert(
				fc.asyncProperty(scenario, async (s) => {
					const grant =
						s.grant === 'password'
							? passwordGrant({ username: 'alice', password: s.password })
							: s.grant === 'refresh_token'
								? refreshTokenGrant({ refreshToken: s.refreshToken })
								: authorizationCodeGrant({ code: s.code, codeVerifier: s.codeVerifier });
					const headers = new Headers();
					if (s.contentType !== undefined) headers.set('content-type', s.contentType);
					if (s.status === 302) headers.set('location', `${TOKEN_ENDPOINT}?${s.refreshToken}`);
					try {
						const token = await requestToken({
							tokenEndpoint: TOKEN_ENDPOINT,
							grant,
							clientAuthentication: s.basic
								? clientSecretBasic('app', s.clientSecret)
								: clientSecretPost('app', s.clientSecret),
							retry: false,
							fetch: async () => new Response(bodyOf(s), { status: s.status, headers }),
						});
						expect(token).toBeInstanceOf(Token);
						expectNoSecret(token, s.secrets);
					} catch (error) {
						expectTypedErrorWithout(error, s.secrets);
					}
				}),
				runs,
			);
		},
		fuzzTimeout,
	);
});
