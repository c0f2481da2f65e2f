// decodeStoredRecord and tokenFromRecord on whatever a store may hand back: a token or a typed
// error (StorageError names the key, never a value), and a written record reads back the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import { tokenFromRecord } from '../../src/protocol/token-record.js';
import { decodeStoredRecord, encodeStoredRecord } from '../../src/storage/token-store.js';
import {
	expectNoSecret,
	expectTypedErrorWithout,
	fuzzTimeout,
	outcome,
	runs,
	secret,
} from './runs.js';

const KEY = 'user-1';
const now = Date.UTC(2026, 0, 1);

const anyField = fc.oneof(fc.anything(), fc.jsonValue(), fc.constantFrom(null, '', '3600', 'NaN'));

/** Record-shaped values: the envelope and token fields present or not, right or wrong. */
const recordShaped = fc.tuple(secret, secret, secret).chain((secrets) =>
	fc
		.record(
			{
				version: fc.oneof(fc.constant(1), fc.constant(2), anyField),
				writtenAt: fc.oneof(fc.integer(), anyField),
				token: fc.oneof(
					anyField,
					fc.record(
						{
							access_token: fc.oneof(fc.constant(secrets[0]), anyField),
							refresh_token: fc.oneof(fc.constant(secrets[1]), anyField),
							id_token: fc.oneof(fc.constant(secrets[2]), anyField),
							token_type: fc.oneof(fc.constant('Bearer'), anyField),
							expires_at: fc.oneof(fc.double(), fc.integer().map(String), anyField),
							expires_in: fc.oneof(fc.integer(), anyField),
							scope: fc.oneof(fc.array(fc.string()), fc.string(), anyField),
							issued_at: fc.oneof(fc.double(), anyField),
							refresh_token_expires_at: fc.oneof(fc.double(), anyField),
							extra: anyField,
						},
						{ requiredKeys: [] },
					),
				),
			},
			{ requiredKeys: [] },
		)
		.map((record) => ({ record, secrets })),
);

describe('decodeStoredRecord on anything a store returns (property)', () => {
	it(
		'any value: a token or a StorageError naming the key',
		() => {
			fc.assert(
				fc.property(fc.oneof(fc.anything(), fc.jsonValue()), (value) => {
					const result = outcome(() => decodeStoredRecord(value, KEY));
					if ('error' in result) {
						expectTypedErrorWithout(result.error, []);
						expect(result.error).toBeInstanceOf(StorageError);
						expect((result.error as StorageError).key).toBe(KEY);
					} else {
						expect(result.value.token).toBeInstanceOf(Token);
					}
				}),
				runs,
			);
		},
		fuzzTimeout,
	);

	it(
		'record-shaped values: no secret in the error or the token printout',
		() => {
			fc.assert(
				fc.property(recordShaped, ({ record, secrets }) => {
					const result = outcome(() => decodeStoredRecord(record, KEY));
					if ('error' in result) {
						expectTypedErrorWithout(result.error, secrets);
						expect(result.error).toBeInstanceOf(StorageError);
					} else {
						expect(result.value.token?.accessToken.length).toBeGreaterThan(0);
						expectNoSecret(result.value.token, secrets);
					}
				}),
				runs,
			);
		},
		fuzzTimeout,
	);

	it(
		'a record written for any token reads back as the same token',
		() => {
			const token = fc.record({
				accessToken: secret,
				refreshToken: fc.option(secret, { nil: undefined }),
				// From 1 ms: an expires_at of 0 reads as absent, as an expires_in of 0 does (then expires_in counts).
				expiresAt: fc.option(fc.integer({ min: 1, max: 4e12 }), { nil: undefined }),
				issuedAt: fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }),
				scope: fc.option(fc.uniqueArray(fc.stringMatching(/^[a-z:.]{1,12}$/), { minLength: 1 }), {
					nil: undefined,
				}),
			});
			fc.assert(
				fc.property(token, (init) => {
					const written = new Token(init);
					const stored = JSON.parse(JSON.stringify(encodeStoredRecord(written, now))) as unknown;
					const { token: read } = decodeStoredRecord(stored, KEY);
					if (read === undefined) throw new Error('A token record read back as none');
					expect(read.accessToken).toBe(written.accessToken);
					expect(read.refreshToken).toBe(written.refreshToken);
					expect(read.expiresAt).toBe(written.expiresAt);
					expect(read.issuedAt).toBe(written.issuedAt);
					expect(read.scope).toEqual(written.scope);
				}),
				runs,
			);
		},
		fuzzTimeout,
	);
});

describe('tokenFromRecord on any value, JSON or not (property)', () => {
	it(
		'objects with odd prototypes, keys and values: a token or a typed error',
		() => {
			const odd = fc.anything({
				withNullPrototype: true,
				withObjectString: true,
				withBoxedValues: true,
				withMap: true,
				withSet: true,
				withDate: true,
				withTypedArray: true,
				withSparseArray: true,
				key: fc.oneof(
					fc.string(),
					fc.constantFrom('__proto__', 'constructor', 'toJSON', 'access_token'),
				),
			});
			fc.assert(
				fc.property(
					fc.oneof(
						odd,
						recordShaped.map(({ record }) => record.token),
					),
					(value) => {
						const result = outcome(() => tokenFromRecord(value, now));
						if ('error' in result) expectTypedErrorWithout(result.error, []);
						else expect(result.value).toBeInstanceOf(Token);
					},
				),
				runs,
			);
		},
		fuzzTimeout,
	);
});
