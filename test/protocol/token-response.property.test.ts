import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOAuth2Error, OAuth2Error } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import { tokenFromRecord } from '../../src/protocol/token-record.js';
import { parseTokenResponse } from '../../src/protocol/token-response.js';

const runs = { numRuns: 1000 };
const requestedAt = Date.UTC(2026, 0, 1);

// Secrets come from an alphabet (upper case after "SECRET") that no other generated value and no
// message of the library can contain by accident, so finding one in an error is always a leak.
const secret = fc.stringMatching(/^SECRET[A-Z0-9]{6,40}$/);
// Mostly a success status, so both outcomes are explored.
const status = fc.oneof(
	{ arbitrary: fc.constant(200), weight: 3 },
	{ arbitrary: fc.integer({ min: 100, max: 599 }), weight: 1 },
	{ arbitrary: fc.integer(), weight: 1 },
);
const anyValue = fc.oneof(
	fc.jsonValue(),
	fc.string(),
	fc.constantFrom('', '0', '-30', '3600', ' 42 ', '1e3', 'NaN', 'bearer', 'read write'),
	fc.double(),
	fc.integer(),
	fc.array(fc.string(), { maxLength: 3 }),
);
/** Usually a value a real server sends, sometimes anything at all. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
	fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: anyValue, weight: 1 });
const seconds = mostly(
	fc.oneof(fc.integer({ min: -1e6, max: 1e10 }), fc.integer().map(String), fc.constant(null)),
);
/** Absent three times in four. */
const rarely = <T>(value: fc.Arbitrary<T>) =>
	fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: value, weight: 1 });

/** Token-endpoint-shaped bodies: the known fields with arbitrary values, secrets, and extras. */
function tokenShaped(secretValue: fc.Arbitrary<string>) {
	const echo = (text: fc.Arbitrary<unknown>) =>
		fc.oneof(
			text,
			fc.tuple(secretValue, fc.string()).map(([s, rest]) => `${rest} ${s} ${rest}`),
		);
	return fc
		.tuple(
			fc.record(
				{
					access_token: mostly(secretValue),
					refresh_token: mostly(fc.oneof(secretValue, fc.constant(null))),
					id_token: mostly(secretValue),
					token_type: mostly(fc.constantFrom('bearer', 'Bearer', 'DPoP', 'mac')),
					expires_in: seconds,
					expires_at: seconds,
					refresh_expires_in: seconds,
					refresh_token_expires_in: seconds,
					scope: mostly(fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(null))),
					error: rarely(fc.oneof(anyValue, fc.constantFrom('invalid_grant', 'access_denied'))),
					error_description: rarely(echo(anyValue)),
					error_uri: rarely(echo(anyValue)),
				},
				{ requiredKeys: [] },
			),
			fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
		)
		.map(([known, extra]) => {
			const body: Record<string, unknown> = { ...extra };
			for (const [key, value] of Object.entries(known)) {
				if (value !== undefined) body[key] = value;
			}
			return body;
		});
}

/** The same shape where every secret field is a secret: what must never come out of an error. */
const withSecrets = fc.tuple(secret, secret, secret).chain((secrets) =>
	tokenShaped(fc.constantFrom(...secrets)).map((body) => ({
		secrets,
		body: { ...body, access_token: secrets[0], refresh_token: secrets[1], id_token: secrets[2] },
	})),
);

function outcome(run: () => Token): { token: Token } | { error: unknown } {
	try {
		return { token: run() };
	} catch (error) {
		return { error };
	}
}

function expectTokenOrTypedError(result: { token: Token } | { error: unknown }): void {
	if ('token' in result) {
		expect(result.token).toBeInstanceOf(Token);
		expect(typeof result.token.accessToken).toBe('string');
		expect(result.token.accessToken.length).toBeGreaterThan(0);
	} else {
		expect(result.error).toBeInstanceOf(OAuth2Error);
		expect(isOAuth2Error(result.error)).toBe(true);
	}
}

function expectNoSecret(value: unknown, secrets: readonly string[]): void {
	const text =
		value instanceof Error
			? `${value.message} ${JSON.stringify(value)} ${inspect(value)}`
			: `${JSON.stringify(value)} ${inspect(value)}`;
	for (const s of secrets) expect(text).not.toContain(s);
}

describe('parseTokenResponse on any input (property)', () => {
	it('any JSON value and status: a Token or a typed error, nothing else', () => {
		fc.assert(
			fc.property(fc.jsonValue(), status, (body, httpStatus) => {
				expectTokenOrTypedError(
					outcome(() => parseTokenResponse(body, { requestedAt, status: httpStatus })),
				);
			}),
			runs,
		);
	});

	it('token-shaped bodies with arbitrary values: a Token or a typed error', () => {
		fc.assert(
			fc.property(tokenShaped(secret), status, (body, httpStatus) => {
				expectTokenOrTypedError(
					outcome(() => parseTokenResponse(body, { requestedAt, status: httpStatus })),
				);
			}),
			runs,
		);
	});

	it('no secret of the body in an error or a Token printout, even when the error echoes it', () => {
		fc.assert(
			fc.property(withSecrets, status, ({ body, secrets }, httpStatus) => {
				const result = outcome(() => parseTokenResponse(body, { requestedAt, status: httpStatus }));
				expectNoSecret('token' in result ? result.token : result.error, secrets);
			}),
			runs,
		);
	});
});

describe('tokenFromRecord on any input (property)', () => {
	it('any JSON value: a Token or a typed error, nothing else', () => {
		fc.assert(
			fc.property(fc.jsonValue(), (record) => {
				expectTokenOrTypedError(outcome(() => tokenFromRecord(record, requestedAt)));
			}),
			runs,
		);
	});

	it('record-shaped input with arbitrary values: a Token or a typed error', () => {
		fc.assert(
			fc.property(tokenShaped(secret), fc.anything(), (record, issuedAt) => {
				expectTokenOrTypedError(
					outcome(() => tokenFromRecord({ ...record, issued_at: issuedAt }, requestedAt)),
				);
			}),
			runs,
		);
	});

	it('no secret of the record in an error or a Token printout', () => {
		fc.assert(
			fc.property(withSecrets, ({ body, secrets }) => {
				const result = outcome(() => tokenFromRecord(body, requestedAt));
				expectNoSecret('token' in result ? result.token : result.error, secrets);
			}),
			runs,
		);
	});
});
