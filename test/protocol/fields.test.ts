import { describe, expect, it } from 'vitest';
import { firstInvalidField, isRecord, otherFields } from '../../src/protocol/fields.js';

describe('firstInvalidField', () => {
	const fields = {
		access_token: 'token',
		token_type: 'string',
		expires_in: 'seconds',
		scope: 'scope',
		issued_at: 'number',
	} as const;

	it('accepts every kind in its allowed forms, absent and null included', () => {
		expect(
			firstInvalidField(
				{
					access_token: 'a',
					token_type: 'Bearer',
					expires_in: '60',
					scope: ['a', 'b'],
					issued_at: 1,
				},
				fields,
			),
		).toBeUndefined();
		expect(
			firstInvalidField({ access_token: 'a', expires_in: 60, scope: 'a b' }, fields),
		).toBeUndefined();
		expect(
			firstInvalidField(
				{ access_token: 'a', token_type: null, expires_in: null, scope: null, issued_at: null },
				fields,
			),
		).toBeUndefined();
	});

	it.each([
		['a missing token', {}, 'access_token'],
		['an empty token', { access_token: '' }, 'access_token'],
		['a null token', { access_token: null }, 'access_token'],
		['a number for a string', { access_token: 'a', token_type: 1 }, 'token_type'],
		['an object for seconds', { access_token: 'a', expires_in: {} }, 'expires_in'],
		[
			'Infinity for seconds',
			{ access_token: 'a', expires_in: Number.POSITIVE_INFINITY },
			'expires_in',
		],
		['NaN for a number', { access_token: 'a', issued_at: Number.NaN }, 'issued_at'],
		['a string for a number', { access_token: 'a', issued_at: '1' }, 'issued_at'],
		['a list with a number for a scope', { access_token: 'a', scope: ['a', 1] }, 'scope'],
		['an object for a scope', { access_token: 'a', scope: { a: 1 } }, 'scope'],
	])('names the field of %s', (_, body, field) => {
		expect(firstInvalidField(body, fields)).toBe(field);
	});

	it('names the first wrong field in the order the fields are listed', () => {
		expect(firstInvalidField({ access_token: 'a', scope: 1, token_type: 1 }, fields)).toBe(
			'token_type',
		);
	});
});

describe('otherFields and isRecord', () => {
	it('keeps the fields not listed, as they were', () => {
		const nested = { a: 1 };
		expect(otherFields({ access_token: 'a', nested, n: null }, { access_token: 'token' })).toEqual({
			nested,
			n: null,
		});
	});

	it('does not take inherited names for listed fields', () => {
		expect(otherFields({ toString: 'x' }, { access_token: 'token' })).toEqual({ toString: 'x' });
	});

	it.each([
		[{}, true],
		[[], false],
		[null, false],
		['{}', false],
	])('isRecord(%j) is %s', (value, expected) => {
		expect(isRecord(value)).toBe(expected);
	});
});
