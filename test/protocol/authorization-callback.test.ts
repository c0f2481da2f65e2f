import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	AuthorizationResponseError,
	InvalidCallbackError,
	InvalidOptionsError,
	isOAuth2Error,
	StateMismatchError,
	TokenResponseError,
} from '../../src/errors/index.js';
import {
	type CallbackOptions,
	parseAuthorizationCallback,
	parseImplicitCallback,
} from '../../src/protocol/authorization-callback.js';
import { Token } from '../../src/protocol/token.js';

const CODE = 'SECRETCODE0123456789';
const TOKEN = 'SECRETTOKEN0123456789';
const callback = 'https://app.example.com/callback';
const expect_ = { expectedState: 'xyz' } satisfies CallbackOptions;

function thrown(run: () => unknown): unknown {
	try {
		run();
	} catch (error) {
		return error;
	}
	throw new Error('expected a throw');
}

function everything(error: unknown): string {
	return `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error)}`;
}

describe('parseAuthorizationCallback: success', () => {
	it('reads the code and state from the query', () => {
		expect(parseAuthorizationCallback(`${callback}?code=${CODE}&state=xyz`, expect_)).toEqual({
			code: CODE,
			state: 'xyz',
			issuer: undefined,
		});
	});

	it('accepts a URL object and decodes the values', () => {
		const url = new URL(`${callback}?code=a%2Fb%2Bc&state=x%20y`);
		expect(parseAuthorizationCallback(url, { expectedState: 'x y' }).code).toBe('a/b+c');
	});

	it('reads the fragment when the query has no response parameters (response_mode=fragment)', () => {
		expect(parseAuthorizationCallback(`${callback}#code=${CODE}&state=xyz`, expect_)).toEqual({
			code: CODE,
			state: 'xyz',
			issuer: undefined,
		});
	});

	it('reads the fragment even when the redirect URI has a query of its own', () => {
		const result = parseAuthorizationCallback(
			`${callback}?next=%2Fhome#code=${CODE}&state=xyz`,
			expect_,
		);
		expect(result.code).toBe(CODE);
	});

	it('never mixes query and fragment: a code in the fragment does not complete a query state', () => {
		const error = thrown(() =>
			parseAuthorizationCallback(`${callback}?state=xyz#code=${CODE}`, expect_),
		);
		expect(error).toMatchObject({ name: 'InvalidCallbackError', problem: 'missing-code' });
	});

	it('accepts any state when none was sent (expectedState undefined)', () => {
		expect(
			parseAuthorizationCallback(`${callback}?code=${CODE}`, { expectedState: undefined }),
		).toEqual({ code: CODE, state: undefined, issuer: undefined });
		expect(
			parseAuthorizationCallback(`${callback}?code=${CODE}&state=any`, {
				expectedState: undefined,
			}).state,
		).toBe('any');
	});

	it('ignores other parameters of the redirect URI', () => {
		expect(
			parseAuthorizationCallback(`${callback}?code=${CODE}&state=xyz&tab=1&tab=2`, expect_).code,
		).toBe(CODE);
	});
});

describe('parseAuthorizationCallback: state', () => {
	it.each([
		['missing', `${callback}?code=${CODE}`, 'missing'],
		['empty', `${callback}?code=${CODE}&state=`, 'different'],
		['different', `${callback}?code=${CODE}&state=xyZ`, 'different'],
		['a prefix', `${callback}?code=${CODE}&state=xy`, 'different'],
		['longer', `${callback}?code=${CODE}&state=xyzz`, 'different'],
		['missing on an error answer', `${callback}?error=access_denied`, 'missing'],
		['different on an error answer', `${callback}?error=access_denied&state=evil`, 'different'],
	])('%s -> StateMismatchError', (_, url, received) => {
		const error = thrown(() => parseAuthorizationCallback(url, expect_));
		expect(error).toBeInstanceOf(StateMismatchError);
		expect(error).toMatchObject({ code: 'STATE_MISMATCH' });
		expect((error as Error).message).toContain(received === 'missing' ? 'no state' : 'differs');
		expect(everything(error)).not.toContain(CODE);
	});

	it('state mismatch wins over every other problem', () => {
		for (const url of [
			`${callback}?state=evil`,
			`${callback}?state=evil&iss=https%3A%2F%2Fevil.example`,
			`${callback}?state=evil&error=server_error`,
		]) {
			const error = thrown(() =>
				parseAuthorizationCallback(url, {
					...expect_,
					issuer: 'https://auth.example.com',
					requireIssuer: true,
				}),
			);
			expect(error).toBeInstanceOf(StateMismatchError);
		}
	});

	it.each([
		['empty: it would protect nothing', ''],
		['null', null],
		['a number', 42],
	])('refuses an expectedState that is %s', (_, expectedState) => {
		expect(() =>
			parseAuthorizationCallback(`${callback}?code=${CODE}&state=`, {
				expectedState: expectedState as string,
			}),
		).toThrow(InvalidOptionsError);
	});
});

describe('parseAuthorizationCallback: error answers', () => {
	it.each([
		[
			'access_denied with every field',
			'error=access_denied&error_description=The+user+said+no&error_uri=https%3A%2F%2Fe.x%2Fdoc',
			{ error: 'access_denied', errorDescription: 'The user said no', errorUri: 'https://e.x/doc' },
		],
		[
			"Facebook's error with error_reason",
			'error=access_denied&error_reason=user_denied&error_description=Permissions+error.',
			{ error: 'access_denied', errorDescription: 'Permissions error.' },
		],
		[
			'legacy Facebook error_reason alone',
			'error_reason=user_denied&error_description=User+denied+your+request',
			{ error: 'user_denied', errorDescription: 'User denied your request' },
		],
		[
			'legacy description parameter',
			'error=user_denied&description=User+denied+your+request',
			{ error: 'user_denied', errorDescription: 'User denied your request' },
		],
		[
			'server_error without a description',
			'error=server_error',
			{ error: 'server_error', errorDescription: undefined, errorUri: undefined },
		],
	])('%s', (_, query, fields) => {
		const error = thrown(() =>
			parseAuthorizationCallback(`${callback}?${query}&state=xyz`, expect_),
		);
		expect(error).toBeInstanceOf(AuthorizationResponseError);
		expect(error).toMatchObject({
			...fields,
			state: 'xyz',
			code: 'AUTHORIZATION_RESPONSE_ERROR',
			name: 'AuthorizationResponseError',
		});
		expect((error as Error).message).toContain(fields.error);
		if (fields.errorDescription)
			expect((error as Error).message).toContain(fields.errorDescription);
	});

	it('describes the code the specification defines', () => {
		const error = thrown(() =>
			parseAuthorizationCallback(`${callback}?error=access_denied&state=xyz`, expect_),
		);
		expect((error as AuthorizationResponseError).errorCodeDescription).toBe(
			'The resource owner or authorization server denied the request.',
		);
	});

	it('an error answer in the fragment', () => {
		expect(() =>
			parseAuthorizationCallback(`${callback}#error=access_denied&state=xyz`, expect_),
		).toThrow(AuthorizationResponseError);
	});

	it('an error answer that also carries a code is an error, and does not echo the code', () => {
		const error = thrown(() =>
			parseAuthorizationCallback(
				`${callback}?error=invalid_request&error_description=bad+code+${CODE}&code=${CODE}&state=xyz`,
				expect_,
			),
		);
		expect(error).toBeInstanceOf(AuthorizationResponseError);
		expect(everything(error)).not.toContain(CODE);
	});

	it('does not garble a description around a code too short to be a secret', () => {
		const error = thrown(() =>
			parseAuthorizationCallback(
				`${callback}?error=invalid_request&error_description=a+bad+request&code=a&state=xyz`,
				expect_,
			),
		);
		expect(error).toMatchObject({ errorDescription: 'a bad request' });
	});

	it('an empty error parameter is malformed', () => {
		const error = thrown(() =>
			parseAuthorizationCallback(`${callback}?error=&code=${CODE}&state=xyz`, expect_),
		);
		expect(error).toMatchObject({ name: 'InvalidCallbackError', problem: 'malformed' });
	});
});

describe('parseAuthorizationCallback: issuer (RFC 9207)', () => {
	const issuer = 'https://auth.example.com';
	const iss = encodeURIComponent(issuer);

	it.each<[string, string, Partial<CallbackOptions>, string | undefined]>([
		['a matching iss', `&iss=${iss}`, { issuer }, issuer],
		['a matching iss, required', `&iss=${iss}`, { issuer, requireIssuer: true }, issuer],
		['no iss when not required', '', { issuer }, undefined],
		['an iss with no issuer to check it against', '&iss=https%3A%2F%2Fother', {}, 'https://other'],
	])('accepts %s', (_, extra, options, expected) => {
		const result = parseAuthorizationCallback(`${callback}?code=${CODE}&state=xyz${extra}`, {
			...expect_,
			...options,
		});
		expect(result.issuer).toBe(expected);
	});

	it.each<[string, string, Partial<CallbackOptions>, string]>([
		['a different iss', '&iss=https%3A%2F%2Fevil.example', { issuer }, 'issuer-mismatch'],
		['a trailing slash', `&iss=${iss}%2F`, { issuer }, 'issuer-mismatch'],
		['an empty iss', '&iss=', { issuer }, 'issuer-mismatch'],
		['no iss when required', '', { issuer, requireIssuer: true }, 'missing-issuer'],
	])('refuses %s', (_, extra, options, problem) => {
		const error = thrown(() =>
			parseAuthorizationCallback(`${callback}?code=${CODE}&state=xyz${extra}`, {
				...expect_,
				...options,
			}),
		);
		expect(error).toBeInstanceOf(InvalidCallbackError);
		expect(error).toMatchObject({ problem, code: 'INVALID_CALLBACK' });
		expect(everything(error)).not.toContain(CODE);
	});

	it('checks the issuer of an error answer too: a mixed-up error is not believed', () => {
		const error = thrown(() =>
			parseAuthorizationCallback(
				`${callback}?error=access_denied&state=xyz&iss=https%3A%2F%2Fevil.example`,
				{ ...expect_, issuer },
			),
		);
		expect(error).toMatchObject({ name: 'InvalidCallbackError', problem: 'issuer-mismatch' });
	});

	it('refuses requireIssuer without an issuer', () => {
		expect(() =>
			parseAuthorizationCallback(`${callback}?code=${CODE}&state=xyz`, {
				...expect_,
				requireIssuer: true,
			}),
		).toThrow(InvalidOptionsError);
	});
});

describe('parseAuthorizationCallback: malformed callbacks', () => {
	it.each([
		['no code', `${callback}?state=xyz`, 'missing-code'],
		['an empty code', `${callback}?code=&state=xyz`, 'missing-code'],
		['no parameters at all', callback, 'missing-code'],
		['two codes', `${callback}?code=${CODE}&code=other&state=xyz`, 'malformed'],
		['two states', `${callback}?code=${CODE}&state=xyz&state=xyz`, 'malformed'],
		['two iss', `${callback}?code=${CODE}&state=xyz&iss=a&iss=a`, 'malformed'],
		['two errors', `${callback}?error=a&error=b&state=xyz`, 'malformed'],
		['two codes in the fragment', `${callback}#code=${CODE}&code=x&state=xyz`, 'malformed'],
		['not a URL', 'not a url', 'malformed'],
		['a relative URL', `/callback?code=${CODE}&state=xyz`, 'malformed'],
	])('%s -> %s', (_, url, problem) => {
		const error = thrown(() => parseAuthorizationCallback(url, { expectedState: undefined }));
		expect(error).toBeInstanceOf(InvalidCallbackError);
		expect(error).toMatchObject({ problem, code: 'INVALID_CALLBACK' });
		expect(everything(error)).not.toContain(CODE);
	});
});

describe('the size of what is parsed is bounded', () => {
	const state = 'state=xyz';
	it.each([
		[
			'a URL over 32,768 characters',
			`${callback}?code=${CODE}&${state}&pad=${'a'.repeat(32_768)}`,
			'32768 characters',
		],
		[
			'over 100 parameters',
			`${callback}?code=${CODE}&${state}${'&p=1'.repeat(100)}`,
			'100 parameters',
		],
		[
			'over 100 parameters in the fragment',
			`${callback}#code=${CODE}&${state}${'&p=1'.repeat(100)}`,
			'100 parameters',
		],
	])('%s is refused with an error naming the limit', (_, url, limit) => {
		for (const parse of [parseAuthorizationCallback, parseImplicitCallback]) {
			const error = thrown(() => parse(url, expect_));
			expect(error).toBeInstanceOf(InvalidCallbackError);
			expect(error).toMatchObject({ problem: 'too-large' });
			expect((error as Error).message).toContain(limit);
			expect(everything(error)).not.toContain(CODE);
		}
		// The same as a URL object.
		expect(() => parseAuthorizationCallback(new URL(url), expect_)).toThrowError(limit);
	});

	it('the largest callbacks within the limits are read', () => {
		const padded = `${callback}?code=${CODE}&${state}`;
		const long = `${padded}&pad=${'a'.repeat(32_768 - padded.length - 5)}`;
		expect(long).toHaveLength(32_768);
		expect(parseAuthorizationCallback(long, expect_).code).toBe(CODE);
		const many = `${callback}?code=${CODE}&${state}${'&p=1'.repeat(98)}`;
		expect(parseAuthorizationCallback(many, expect_).code).toBe(CODE);
	});
});

describe('parseImplicitCallback', () => {
	const requestedAt = Date.UTC(2026, 0, 1);
	const fragment = `access_token=${TOKEN}&token_type=bearer&expires_in=3600&scope=read+write&state=xyz`;

	it('reads the token from the fragment into a Token', () => {
		const result = parseImplicitCallback(`${callback}#${fragment}&extra=1`, {
			...expect_,
			requestedAt,
		});
		expect(result.state).toBe('xyz');
		expect(result.token).toBeInstanceOf(Token);
		expect(result.token).toMatchObject({
			accessToken: TOKEN,
			tokenType: 'Bearer',
			expiresAt: requestedAt + 3_600_000,
			issuedAt: requestedAt,
			scope: ['read', 'write'],
			extra: { extra: '1' },
		});
	});

	it('counts the expiry from now by default', () => {
		const before = Date.now();
		const { token } = parseImplicitCallback(`${callback}#${fragment}`, expect_);
		expect(token.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
		expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
	});

	it('does not keep state or iss in the token', () => {
		const { token } = parseImplicitCallback(`${callback}#${fragment}&iss=https%3A%2F%2Fa`, {
			...expect_,
			issuer: 'https://a',
			requestedAt,
		});
		expect(token.extra).toEqual({});
	});

	it.each([
		['no state', `${callback}#access_token=${TOKEN}`, StateMismatchError],
		['a different state', `${callback}#access_token=${TOKEN}&state=evil`, StateMismatchError],
		['no access token', `${callback}#state=xyz&token_type=bearer`, InvalidCallbackError],
		[
			'two access tokens',
			`${callback}#access_token=${TOKEN}&access_token=x&state=xyz`,
			InvalidCallbackError,
		],
		['an error', `${callback}#error=access_denied&state=xyz`, AuthorizationResponseError],
		[
			'an error in the query',
			`${callback}?error=access_denied&state=xyz`,
			AuthorizationResponseError,
		],
		['a token in the query', `${callback}?access_token=${TOKEN}&state=xyz`, StateMismatchError],
		[
			'a token in the query, the fragment empty',
			`${callback}?access_token=${TOKEN}&state=xyz#`,
			StateMismatchError,
		],
		[
			'an invalid expires_in',
			`${callback}#access_token=${TOKEN}&expires_in=soon&state=xyz`,
			TokenResponseError,
		],
	])('%s', (_, url, type) => {
		const error = thrown(() => parseImplicitCallback(url, { ...expect_, requestedAt }));
		expect(error).toBeInstanceOf(type);
		expect(everything(error)).not.toContain(TOKEN);
	});

	it('an error answer echoing the token does not put it anywhere', () => {
		const error = thrown(() =>
			parseImplicitCallback(
				`${callback}#error=invalid_request&error_description=${TOKEN}+rejected&access_token=${TOKEN}&state=xyz`,
				{ ...expect_, requestedAt },
			),
		);
		expect(error).toBeInstanceOf(AuthorizationResponseError);
		expect(everything(error)).not.toContain(TOKEN);
	});

	it('never reads a token from the query, even with no state expected', () => {
		const error = thrown(() =>
			parseImplicitCallback(`${callback}?access_token=${TOKEN}&token_type=bearer`, {
				expectedState: undefined,
			}),
		);
		expect(error).toMatchObject({ name: 'InvalidCallbackError', problem: 'missing-code' });
		expect((error as Error).message).toContain('fragment');
		expect(everything(error)).not.toContain(TOKEN);
	});

	it('checks the issuer', () => {
		const error = thrown(() =>
			parseImplicitCallback(`${callback}#${fragment}&iss=https%3A%2F%2Fevil`, {
				...expect_,
				issuer: 'https://a',
				requestedAt,
			}),
		);
		expect(error).toMatchObject({ name: 'InvalidCallbackError', problem: 'issuer-mismatch' });
	});
});

describe('parseAuthorizationCallback: any URL', () => {
	// A code from an alphabet no other generated value can produce, so finding it in an error is a leak.
	const secret = fc.stringMatching(/^SECRET[A-Z0-9]{6,24}$/);
	const value = fc.oneof(fc.string(), fc.constantFrom('xyz', 'access_denied', 'https://a'));
	const name = fc.constantFrom(
		'code',
		'state',
		'iss',
		'error',
		'error_description',
		'error_uri',
		'error_reason',
		'description',
		'other',
	);

	it('returns a callback or throws a typed error, never with the code in it (1,000 runs)', () => {
		fc.assert(
			fc.property(
				secret,
				fc.array(fc.tuple(name, value), { maxLength: 8 }),
				fc.boolean(),
				fc.boolean(),
				fc.option(fc.constantFrom('xyz', ''), { nil: undefined }),
				fc.record(
					{ issuer: fc.constant('https://a'), requireIssuer: fc.boolean() },
					{ requiredKeys: [] },
				),
				(code, pairs, inFragment, echo, expectedState, issuerOptions) => {
					const params = new URLSearchParams(pairs);
					params.append('code', code);
					if (echo) params.append('error_description', `bad ${code}`);
					const url = `${callback}${inFragment ? '#' : '?'}${params}`;
					try {
						const result = parseAuthorizationCallback(url, { expectedState, ...issuerOptions });
						expect(result.code.length).toBeGreaterThan(0);
					} catch (error) {
						expect(isOAuth2Error(error)).toBe(true);
						expect(everything(error)).not.toContain(code);
					}
				},
			),
			{ numRuns: 1000 },
		);
	});

	it('never throws anything but a typed error on arbitrary strings and web URLs', () => {
		fc.assert(
			fc.property(
				fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true })),
				(url) => {
					try {
						parseAuthorizationCallback(url, { expectedState: undefined });
					} catch (error) {
						expect(isOAuth2Error(error)).toBe(true);
					}
				},
			),
			{ numRuns: 1000 },
		);
	});
});
