import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { Token, type TokenInit } from '../../src/protocol/token.js';

describe('new Token(init): what it accepts', () => {
	it('takes null for an absent field, as tokens saved by other clients have it', () => {
		const saved = {
			accessToken: 'at-123456',
			refreshToken: null,
			expiresAt: null,
			idToken: null,
			scope: null,
		} as unknown as TokenInit;
		const token = new Token(saved);
		expect(token.refreshToken).toBeUndefined();
		expect(token.expiresAt).toBeUndefined();
		expect(token.idToken).toBeUndefined();
		expect(token.scope).toBeUndefined();
		expect(token.isExpired()).toBe(false);
	});

	it.each([
		['an empty access token', { accessToken: '' }, 'accessToken'],
		['an expiry as a date string', { accessToken: 'a', expiresAt: '2026-01-01' }, 'expiresAt'],
		['an expiry of NaN', { accessToken: 'a', expiresAt: Number.NaN }, 'expiresAt'],
		['an issue time as a Date', { accessToken: 'a', issuedAt: new Date() }, 'issuedAt'],
		['a refresh token as a number', { accessToken: 'a', refreshToken: 42 }, 'refreshToken'],
		['a token type as an object', { accessToken: 'a', tokenType: {} }, 'tokenType'],
		['a scope as a string', { accessToken: 'a', scope: 'read write' }, 'scope'],
		['a scope list with a number', { accessToken: 'a', scope: ['read', 1] }, 'scope'],
		['extra fields as a string', { accessToken: 'a', extra: 'x' }, 'extra'],
	])('refuses %s with an InvalidOptionsError naming the field', (_, init, field) => {
		const attempt = () => new Token(init as unknown as TokenInit);
		expect(attempt).toThrow(InvalidOptionsError);
		expect(attempt).toThrow(new RegExp(`\\b${field}\\b`));
	});

	it('never puts a value in the message', () => {
		expect(
			() => new Token({ accessToken: 'a', refreshToken: 12345678 } as unknown as TokenInit),
		).toThrow(expect.objectContaining({ message: expect.not.stringContaining('12345678') }));
	});
});

describe('new Token(init): only what an Authorization header can carry', () => {
	const secret = 'at-secret-123456';
	it.each([
		['CR LF in the access token', { accessToken: `${secret}\r\nX: 1` }, 'accessToken'],
		['a space in the access token', { accessToken: `${secret} x` }, 'accessToken'],
		['NUL in the access token', { accessToken: `${secret}\u0000` }, 'accessToken'],
		['non-ASCII in the access token', { accessToken: `${secret}ü` }, 'accessToken'],
		['LF in the token type', { accessToken: secret, tokenType: 'Bearer\nX' }, 'tokenType'],
	])('refuses %s, naming the field and not the value', (_, init, field) => {
		const attempt = () => new Token(init);
		expect(attempt).toThrow(InvalidOptionsError);
		expect(attempt).toThrow(new RegExp(`\\b${field}\\b`));
		expect(attempt).toThrow(
			expect.objectContaining({ message: expect.not.stringContaining(secret) }),
		);
	});

	it('keeps a token type with spaces, as stored records may have it', () => {
		expect(new Token({ accessToken: secret, tokenType: 'User Access Token' }).tokenType).toBe(
			'User Access Token',
		);
	});
});
