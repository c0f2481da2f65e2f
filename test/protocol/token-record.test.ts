import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { Token, type TokenInit } from '../../src/protocol/token.js';
import { tokenFromRecord, tokenToRecord, toToken } from '../../src/protocol/token-record.js';
import { parseTokenResponse } from '../../src/protocol/token-response.js';

const now = Date.UTC(2026, 0, 1);
const ACCESS = 'SECRETACCESS0123456789';
const REFRESH = 'SECRETREFRESH0123456789';

/** What requests-oauthlib hands its token_updater, as Python's json.dumps writes it. */
const pythonRecord = {
	access_token: ACCESS,
	token_type: 'Bearer',
	refresh_token: REFRESH,
	scope: ['read', 'write'],
	expires_in: 3599,
	expires_at: 1764000000.123,
};

describe('tokenFromRecord: requests-oauthlib compatibility', () => {
	it('loads the dict requests-oauthlib saves, expires_at in milliseconds', () => {
		const token = tokenFromRecord(JSON.parse(JSON.stringify(pythonRecord)), now);
		expect(token).toBeInstanceOf(Token);
		expect(token).toMatchObject({
			accessToken: ACCESS,
			tokenType: 'Bearer',
			refreshToken: REFRESH,
			scope: ['read', 'write'],
			expiresAt: 1764000000123,
			issuedAt: undefined,
			extra: {},
		});
	});

	it("counts expires_in: '-30' from now (the docs' already-expired token)", () => {
		const token = tokenFromRecord(
			{ access_token: ACCESS, refresh_token: REFRESH, token_type: 'Bearer', expires_in: '-30' },
			now,
		);
		expect(token.expiresAt).toBe(now - 30_000);
		expect(token.isExpired(now)).toBe(true);
	});

	it.each([
		['expires_in alone', { expires_in: 3600 }, now + 3_600_000],
		['expires_at wins over expires_in', { expires_in: 5, expires_at: 1764000000 }, 1764000000000],
		['expires_at as a string', { expires_at: '1764000000.5' }, 1764000000500],
		['nothing', {}, undefined],
		['None (null) everywhere', { expires_in: null, expires_at: null }, undefined],
	])('expiry from %s', (_, fields, expected) => {
		expect(tokenFromRecord({ access_token: ACCESS, ...fields }, now).expiresAt).toBe(expected);
	});

	it('reads Python None as absent and a space-separated scope string', () => {
		const token = tokenFromRecord(
			{
				access_token: ACCESS,
				refresh_token: null,
				token_type: null,
				scope: 'read write',
				id_token: null,
			},
			now,
		);
		expect(token).toMatchObject({
			refreshToken: undefined,
			tokenType: 'Bearer',
			scope: ['read', 'write'],
			idToken: undefined,
		});
	});

	it('keeps whole milliseconds for every timestamp, as for expires_at', () => {
		const token = tokenFromRecord(
			{
				access_token: ACCESS,
				refresh_token_expires_at: 1764000000.1234,
				issued_at: 1763990000.0004,
			},
			now,
		);
		expect(token.refreshTokenExpiresAt).toBe(1764000000123);
		expect(token.issuedAt).toBe(1763990000000);
	});

	it('keeps extra fields both ways', () => {
		const record = { ...pythonRecord, instance_url: 'https://na1.example.com', nested: { a: [1] } };
		const token = tokenFromRecord(record, now);
		expect(token.extra).toEqual({ instance_url: 'https://na1.example.com', nested: { a: [1] } });
		expect(tokenToRecord(token, now)).toMatchObject({
			instance_url: 'https://na1.example.com',
			nested: { a: [1] },
		});
	});
});

describe('tokenToRecord: what we write', () => {
	const init: TokenInit = {
		accessToken: ACCESS,
		tokenType: 'DPoP',
		expiresAt: 1764000000123,
		issuedAt: 1763996400123,
		refreshToken: REFRESH,
		refreshTokenExpiresAt: 1765000000789,
		scope: ['read', 'write'],
		idToken: 'SECRETID0123456789',
		extra: { instance_url: 'https://na1.example.com' },
	};

	it('is a requests-oauthlib dict: seconds, scope list, snake_case', () => {
		expect(tokenToRecord(new Token(init), 1764000000123 - 3_599_000)).toEqual({
			access_token: ACCESS,
			token_type: 'DPoP',
			refresh_token: REFRESH,
			scope: ['read', 'write'],
			expires_in: 3599,
			expires_at: 1764000000.123,
			id_token: 'SECRETID0123456789',
			issued_at: 1763996400.123,
			refresh_token_expires_at: 1765000000.789,
			instance_url: 'https://na1.example.com',
		});
	});

	it('round-trips exactly through JSON', () => {
		const token = new Token(init);
		const back = tokenFromRecord(JSON.parse(JSON.stringify(tokenToRecord(token, now))), now);
		expect({ ...back }).toEqual({ ...token });
	});

	it('round-trips any token through JSON (property)', () => {
		// Whole milliseconds up to the year 5000.
		const time = fc.option(fc.integer({ min: -1e12, max: 95e12 }), { nil: undefined });
		const text = fc.option(fc.string({ minLength: 1 }), { nil: undefined });
		// Extra fields named like record fields are dropped on write (tested above).
		const recordFields = [
			'access_token',
			'token_type',
			'refresh_token',
			'scope',
			'expires_in',
			'expires_at',
			'id_token',
			'refresh_token_expires_at',
			'issued_at',
		];
		// zod drops a "__proto__" key when it reads a record, which is what it should do.
		const extraKey = fc
			.oneof(fc.string(), fc.constantFrom('instance_url', 'constructor', 'toString'))
			.filter((key) => key !== '__proto__' && !recordFields.includes(key));
		fc.assert(
			fc.property(
				fc.record({
					// What an Authorization header can carry: a Token refuses anything else.
					accessToken: fc.stringMatching(/^[\x21-\x7e]+$/),
					tokenType: fc.option(fc.constantFrom('Bearer', 'DPoP', 'mac'), { nil: undefined }),
					expiresAt: time,
					issuedAt: time,
					refreshToken: text,
					refreshTokenExpiresAt: time,
					scope: fc.option(fc.array(fc.stringMatching(/^[!#-[\]-~]+$/)), { nil: undefined }),
					idToken: text,
					// Through JSON once, since JSON itself turns -0 into 0.
					extra: fc
						.dictionary(extraKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
						.map((extra) => JSON.parse(JSON.stringify(extra)) as Record<string, unknown>),
				}),
				(fields) => {
					const token = new Token(fields);
					const json = JSON.stringify(tokenToRecord(token, now));
					expect({ ...tokenFromRecord(JSON.parse(json), now) }).toEqual({ ...token });
				},
			),
			{ numRuns: 1000 },
		);
	});
});

describe('tokenToRecord: fields a server sent that clash with record fields', () => {
	it("a server's own expires_at or issued_at does not make the saved record unloadable", () => {
		// Salesforce sends issued_at as a string of milliseconds; some servers send an ISO expires_at.
		const token = parseTokenResponse(
			{ access_token: ACCESS, expires_at: '2026-01-01T01:00:00Z', issued_at: '1278448832702' },
			{ requestedAt: now },
		);
		const record = tokenToRecord(token, now);
		expect(record.expires_at).toBeUndefined();
		expect(record.issued_at).toBe(now / 1000);
		const back = tokenFromRecord(JSON.parse(JSON.stringify(record)), now);
		expect(back.expiresAt).toBeUndefined();
		expect(back.accessToken).toBe(ACCESS);
	});
});

describe('tokenFromRecord: bad records', () => {
	it.each([
		['no access_token', 'access_token', { refresh_token: REFRESH }],
		['an empty access_token', 'access_token', { access_token: '', refresh_token: REFRESH }],
		['a numeric access_token', 'access_token', { access_token: 42, refresh_token: REFRESH }],
		['a numeric token_type', 'token_type', { access_token: ACCESS, token_type: 1 }],
		['a numeric refresh_token', 'refresh_token', { access_token: ACCESS, refresh_token: 7 }],
		['a numeric scope', 'scope', { access_token: ACCESS, refresh_token: REFRESH, scope: 5 }],
		['a scope list with a number', 'scope', { access_token: ACCESS, scope: ['a', 1] }],
		['a boolean expires_at', 'expires_at', { access_token: ACCESS, expires_at: true }],
		[
			'a non-numeric expires_in',
			'expires_in',
			{ access_token: ACCESS, refresh_token: REFRESH, expires_in: 'soon' },
		],
		[
			'a non-numeric expires_at string',
			'expires_at',
			{ access_token: ACCESS, expires_at: 'tomorrow' },
		],
		['a string issued_at', 'issued_at', { access_token: ACCESS, issued_at: 'x' }],
		['null', 'record', null],
		['a string', 'record', ACCESS],
		['an array', 'record', [pythonRecord]],
	])('%s -> InvalidOptionsError naming %s, without the secrets', (_, field, record) => {
		const run = () => tokenFromRecord(record, now);
		expect(run).toThrow(InvalidOptionsError);
		expect(run).toThrow(field);
		for (const secret of [ACCESS, REFRESH]) {
			expect(run).toThrow(
				expect.objectContaining({ message: expect.not.stringContaining(secret) }),
			);
		}
	});
});

describe('toToken', () => {
	it('takes a Token, Token fields or a record', () => {
		const token = new Token({ accessToken: ACCESS });
		expect(toToken(token)).toBe(token);
		expect(toToken({ accessToken: ACCESS, expiresAt: 5 }).expiresAt).toBe(5);
		expect(toToken(pythonRecord, now).expiresAt).toBe(1764000000123);
	});
});
