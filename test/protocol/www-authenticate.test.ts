import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	parseWwwAuthenticate,
	tokenChallenge,
	unauthorizedCause,
} from '../../src/protocol/www-authenticate.js';
import { runs } from '../fuzz/runs.js';

describe('parseWwwAuthenticate', () => {
	it('reads RFC 9110 §11.6.1 example: several challenges, escapes, unquoted values', () => {
		const header =
			'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"';
		expect(parseWwwAuthenticate(header)).toEqual([
			{ scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
			{ scheme: 'basic', params: { realm: 'simple' } },
		]);
	});

	it('reads RFC 6750 and RFC 9470 bearer challenges beside a DPoP one', () => {
		const header =
			'DPoP algs="ES256 PS256", Bearer realm="api", error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phr phrh", max_age=5';
		const challenges = parseWwwAuthenticate(header);
		expect(challenges.map((c) => c.scheme)).toEqual(['dpop', 'bearer']);
		expect(tokenChallenge(challenges)?.scheme).toBe('bearer');
		expect(tokenChallenge(challenges, 'DPoP')?.scheme).toBe('bearer');
		expect(
			tokenChallenge(parseWwwAuthenticate('DPoP algs="ES256", Bearer realm="api"'))?.scheme,
		).toBe('dpop');
		expect(challenges[1]?.params).toEqual({
			realm: 'api',
			error: 'insufficient_user_authentication',
			error_description: 'A different authentication level is required',
			acr_values: 'phr phrh',
			max_age: '5',
		});
	});

	it('reads token68, bare schemes and odd spacing', () => {
		expect(parseWwwAuthenticate('Basic dXNlcjpwYXNz==,Bearer')).toEqual([
			{ scheme: 'basic', params: {}, token68: 'dXNlcjpwYXNz==' },
			{ scheme: 'bearer', params: {} },
		]);
		expect(parseWwwAuthenticate('  BEARER   Error = "invalid_token" ,  ,scope=read ')).toEqual([
			{ scheme: 'bearer', params: { error: 'invalid_token', scope: 'read' } },
		]);
	});

	it('keeps the first of a repeated parameter, and a name like __proto__ as plain data', () => {
		const [challenge] = parseWwwAuthenticate(
			'Bearer error="invalid_token", error="insufficient_scope", __proto__="x"',
		);
		expect(challenge?.params.error).toBe('invalid_token');
		expect(Object.entries(challenge?.params ?? {})).toContainEqual(['__proto__', 'x']);
		expect(({} as Record<string, unknown>).x).toBeUndefined();
	});

	it('stops at what it cannot read and keeps what came before', () => {
		expect(parseWwwAuthenticate('Bearer error="unterminated')).toEqual([
			{ scheme: 'bearer', params: {} },
		]);
		expect(parseWwwAuthenticate('Bearer realm="a", @@@, Basic')).toEqual([
			{ scheme: 'bearer', params: { realm: 'a' } },
		]);
		expect(parseWwwAuthenticate('')).toEqual([]);
		expect(parseWwwAuthenticate(null)).toEqual([]);
	});

	it('does not scan a header longer than 8 KiB', () => {
		expect(parseWwwAuthenticate(`Bearer realm="${'a'.repeat(9000)}"`)).toEqual([]);
	});
});

const tchar = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,8}$/);
const generatedChallenge = fc.record({
	scheme: tchar,
	params: fc.uniqueArray(fc.tuple(tchar, fc.string({ maxLength: 12 }), fc.boolean()), {
		maxLength: 4,
		selector: ([name]) => name.toLowerCase(),
	}),
});

function serialize(challenge: { scheme: string; params: [string, string, boolean][] }): string {
	const params = challenge.params.map(([name, value, quote]) =>
		quote || !/^[A-Za-z0-9_.-]+$/.test(value)
			? `${name}="${value.replace(/["\\]/g, '\\$&')}"`
			: `${name}=${value}`,
	);
	return params.length === 0 ? challenge.scheme : `${challenge.scheme} ${params.join(', ')}`;
}

describe('parseWwwAuthenticate (property)', () => {
	it('reads back every challenge list it is given, in order', () => {
		fc.assert(
			fc.property(fc.array(generatedChallenge, { minLength: 1, maxLength: 4 }), (list) => {
				const parsed = parseWwwAuthenticate(list.map(serialize).join(', '));
				expect(parsed).toEqual(
					list.map((c) => ({
						scheme: c.scheme.toLowerCase(),
						params: Object.fromEntries(c.params.map(([n, v]) => [n.toLowerCase(), v])),
					})),
				);
			}),
			runs,
		);
	});

	it('never throws, whatever the header', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 200 }), (header) => {
				expect(Array.isArray(parseWwwAuthenticate(header))).toBe(true);
			}),
			runs,
		);
	});
});

describe('unauthorizedCause (property)', () => {
	const errorCode = fc.constantFrom(
		'invalid_token',
		'insufficient_scope',
		'insufficient_user_authentication',
		'invalid_request',
	);
	const kindOf: Record<string, string> = {
		invalid_token: 'token',
		insufficient_scope: 'scope',
		insufficient_user_authentication: 'step-up',
		invalid_request: 'other',
	};

	it('reads the error of the scheme the request used, wherever its challenge stands', () => {
		fc.assert(
			fc.property(
				fc.array(generatedChallenge, { maxLength: 3 }),
				fc.array(generatedChallenge, { maxLength: 3 }),
				fc.constantFrom('Bearer', 'DPoP'),
				errorCode,
				fc.option(errorCode, { nil: undefined }),
				(before, after, used, error, otherError) => {
					const other = used === 'Bearer' ? 'DPoP' : 'Bearer';
					const foreign = (list: typeof before) =>
						list.filter((c) => !/^(bearer|dpop)$/i.test(c.scheme)).map(serialize);
					const otherChallenge =
						otherError === undefined ? `${other} algs="ES256"` : `${other} error="${otherError}"`;
					const header = [
						...foreign(before),
						otherChallenge,
						`${used} realm="api", error="${error}"`,
						...foreign(after),
					].join(', ');
					expect(unauthorizedCause(header, used).kind).toBe(kindOf[error]);
				},
			),
			runs,
		);
	});
});

describe('unauthorizedCause', () => {
	it('blames the token for invalid_token, for no error code and for no bearer challenge', () => {
		expect(unauthorizedCause('Bearer error="invalid_token"')).toEqual({ kind: 'token' });
		expect(unauthorizedCause('Bearer realm="api"')).toEqual({ kind: 'token' });
		expect(unauthorizedCause('Basic realm="x"')).toEqual({ kind: 'token' });
		expect(unauthorizedCause(null)).toEqual({ kind: 'token' });
	});

	it('reads a step-up challenge (RFC 9470 §3)', () => {
		expect(
			unauthorizedCause(
				'Bearer error="insufficient_user_authentication", acr_values="urn:mace:incommon:iap:silver  phr", max_age="300"',
			),
		).toEqual({ kind: 'step-up', acrValues: ['urn:mace:incommon:iap:silver', 'phr'], maxAge: 300 });
		expect(
			unauthorizedCause('Bearer error="insufficient_user_authentication", max_age=-4'),
		).toEqual({ kind: 'step-up', acrValues: [], maxAge: undefined });
	});

	it('reads the scope an insufficient_scope answer asks for, and names other codes', () => {
		expect(
			unauthorizedCause('Bearer error="insufficient_scope", scope="read:mail write:mail"'),
		).toEqual({ kind: 'scope', scope: ['read:mail', 'write:mail'] });
		expect(unauthorizedCause('Bearer error="invalid_request"')).toEqual({
			kind: 'other',
			error: 'invalid_request',
		});
	});
});
