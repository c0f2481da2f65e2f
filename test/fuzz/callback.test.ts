// parseAuthorizationCallback and parseImplicitCallback on arbitrary and adversarial URLs: a result
// only when every check passed, else a typed error, and never a code or token in what is thrown.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	parseAuthorizationCallback,
	parseImplicitCallback,
} from '../../src/protocol/authorization-callback.js';
import { Token } from '../../src/protocol/token.js';
import {
	expectNoSecret,
	expectTypedErrorWithout,
	fuzzTimeout,
	outcome,
	runs,
	secret,
} from './runs.js';

const ISSUER = 'https://as.example.com';
const STATE = 'state-0123456789abcdef';

const NAMES = [
	'code',
	'state',
	'iss',
	'error',
	'error_description',
	'error_uri',
	'error_reason',
	'description',
	'access_token',
	'refresh_token',
	'id_token',
	'token_type',
	'expires_in',
	'scope',
	'',
	'__proto__',
	'constructor',
];
const SECRET_NAMES = ['code', 'access_token', 'refresh_token', 'id_token'];
const ECHOED = [
	...SECRET_NAMES,
	'error',
	'error_description',
	'error_uri',
	'error_reason',
	'description',
];

const bases = fc.constantFrom(
	'https://app.example.com/cb',
	'https://app.example.com/cb?next=%2Fhome',
	'http://127.0.0.1:8080/callback',
	'com.example.app:/oauth2redirect',
	'https://app.example.com/cb?code=',
	'https://user:pass@app.example.com:443/cb/../cb',
);

/** Values a server or an attacker may put in a parameter, secrets echoed among them. */
const value = (secrets: readonly string[]) =>
	fc.oneof(
		fc.constantFrom(...secrets),
		fc.constantFrom(STATE, ISSUER, `${ISSUER}/`, 'HTTPS://AS.EXAMPLE.COM', '', 'access_denied'),
		fc.string({ maxLength: 12 }),
		fc.string({ unit: 'binary', maxLength: 12 }),
		fc.constantFrom(
			'%',
			'%00',
			'%ZZ',
			'+',
			'&',
			'=',
			'#',
			'?',
			'\u0000',
			'\ud800',
			'3600',
			'-1',
			'NaN',
		),
		fc
			.tuple(fc.constantFrom(...secrets), fc.string({ maxLength: 8 }))
			.map(([s, text]) => `${text} ${s} ${text}`),
	);

interface AdversarialUrl {
	url: string;
	/** The generated secrets the callback carries as a code or token: none may be echoed. */
	secrets: string[];
}

/**
 * The secrets a reader of the callback knows to be secrets: the values of the code and token
 * parameters in the part it reads (query or fragment, by the rule the parsers document).
 */
function carriedSecrets(url: string, prefer: 'query' | 'fragment', generated: string[]): string[] {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return [];
	}
	const query = parsed.searchParams;
	const fragment = new URLSearchParams(parsed.hash.slice(1));
	const responseNames = NAMES.slice(0, 8);
	const useFragment =
		prefer === 'fragment'
			? fragment.size > 0 || query.size === 0
			: !responseNames.some((name) => query.has(name)) && fragment.size > 0;
	const params = useFragment ? fragment : query;
	const values = SECRET_NAMES.map((name) => params.get(name));
	return generated.filter((s) => values.includes(s));
}

/** A callback URL made of response parameters (repeated, mixed between query and fragment). */
const adversarial = (prefer: 'query' | 'fragment'): fc.Arbitrary<AdversarialUrl> =>
	fc.tuple(secret, secret, secret, secret).chain((secrets) => {
		// A secret goes where a server may put or echo one: a code or token parameter, or the text
		// of an error. Elsewhere (the client's own state, a scope, a parameter name) it is replaced.
		const param = fc
			.tuple(fc.constantFrom(...NAMES), value(secrets), fc.boolean())
			.map(([name, v, raw]) =>
				secrets.some((s) => v.includes(s)) && (raw || !ECHOED.includes(name))
					? ([name, 'plain', raw] as const)
					: ([name, v, raw] as const),
			);
		return fc
			.record({
				base: bases,
				query: fc.array(param, { maxLength: 6 }),
				fragment: fc.array(param, { maxLength: 6 }),
				secretParams: fc.subarray(SECRET_NAMES),
			})
			.map(({ base, query, fragment, secretParams }) => {
				// Every secret name carries a secret somewhere, so an echo of it is a leak.
				const carried = secretParams.map((name, i) => [name, secrets[i] as string, false] as const);
				const inQuery = prefer === 'query' ? [...query, ...carried] : query;
				const inFragment = prefer === 'fragment' ? [...fragment, ...carried] : fragment;
				const encode = (params: readonly (readonly [string, string, boolean])[]) =>
					params
						.map(([name, v, raw]) =>
							raw ? `${name}=${v}` : `${encodeParam(name)}=${encodeParam(v)}`,
						)
						.join('&');
				const q = encode(inQuery);
				const f = encode(inFragment);
				const joiner = base.includes('?') ? '&' : '?';
				const url = `${base}${q === '' ? '' : `${joiner}${q}`}${f === '' ? '' : `#${f}`}`;
				return { url, secrets: carriedSecrets(url, prefer, secrets) };
			});
	});

/** encodeURIComponent, with lone surrogates replaced first (it throws on them). */
function encodeParam(text: string): string {
	return encodeURIComponent(text.replace(/[\ud800-\udfff]/gu, '\ufffd'));
}

const options = fc.record({
	expectedState: fc.constantFrom<string | undefined>(STATE, STATE, undefined),
	issuer: fc.constantFrom<string | undefined>(ISSUER, undefined),
	requireIssuer: fc.boolean(),
});

/** A callback was accepted: its state and issuer are the expected ones. */
function expectChecksPassed(
	got: { state: string | undefined; issuer: string | undefined },
	checks: { expectedState: string | undefined; issuer: string | undefined; requireIssuer: boolean },
): void {
	if (checks.expectedState !== undefined) expect(got.state).toBe(checks.expectedState);
	if (checks.issuer !== undefined && got.issuer !== undefined)
		expect(got.issuer).toBe(checks.issuer);
	if (checks.requireIssuer) expect(got.issuer).toBe(checks.issuer);
}

describe('parseAuthorizationCallback on any URL (property)', () => {
	it(
		'arbitrary strings: a checked callback or a typed error',
		() => {
			fc.assert(
				fc.property(
					fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true })),
					options,
					(url, checks) => {
						const result = outcome(() => parseAuthorizationCallback(url, checks));
						if ('error' in result) expectTypedErrorWithout(result.error, []);
					},
				),
				runs,
			);
		},
		fuzzTimeout,
	);

	it(
		'adversarial callbacks: a code only when state and issuer check out; no secret in an error',
		() => {
			fc.assert(
				fc.property(adversarial('query'), options, ({ url, secrets }, checks) => {
					const result = outcome(() => parseAuthorizationCallback(url, checks));
					if ('error' in result) {
						expectTypedErrorWithout(result.error, secrets);
						return;
					}
					const { code, state, issuer } = result.value;
					expect(code.length).toBeGreaterThan(0);
					expectChecksPassed({ state, issuer }, checks);
				}),
				runs,
			);
		},
		fuzzTimeout,
	);
});

describe('parseImplicitCallback on any URL (property)', () => {
	it(
		'arbitrary strings: a token or a typed error',
		() => {
			fc.assert(
				fc.property(
					fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true })),
					options,
					(url, checks) => {
						const result = outcome(() => parseImplicitCallback(url, checks));
						if ('error' in result) expectTypedErrorWithout(result.error, []);
						else expect(result.value.token).toBeInstanceOf(Token);
					},
				),
				runs,
			);
		},
		fuzzTimeout,
	);

	it(
		'adversarial callbacks: a token only when the checks pass; no secret in an error or a printout',
		() => {
			fc.assert(
				fc.property(adversarial('fragment'), options, ({ url, secrets }, checks) => {
					const result = outcome(() => parseImplicitCallback(url, { ...checks, requestedAt: 0 }));
					if ('error' in result) {
						expectTypedErrorWithout(result.error, secrets);
						return;
					}
					const { token, state, issuer } = result.value;
					expect(token).toBeInstanceOf(Token);
					expectNoSecret(token, secrets);
					expectChecksPassed({ state, issuer }, checks);
				}),
				runs,
			);
		},
		fuzzTimeout,
	);
});
