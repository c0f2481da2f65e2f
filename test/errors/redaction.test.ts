import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors/index.js';
import {
	AuthorizationResponseError,
	InsecureTransportError,
	InvalidCallbackError,
	InvalidOptionsError,
	isOAuth2Error,
	OAuth2Error,
	OAuth2ResponseError,
	OriginNotAllowedError,
	ReauthenticationRequiredError,
	StateMismatchError,
	StorageError,
	TokenExpiredError,
	TokenRequestError,
	TokenResponseError,
	TokenUpdated,
} from '../../src/errors/index.js';
import { parseAuthorizationCallback } from '../../src/protocol/authorization-callback.js';
import { parseAuthorizationServerMetadata } from '../../src/protocol/discovery.js';
import { Token } from '../../src/protocol/token.js';
import { tokenFromRecord } from '../../src/protocol/token-record.js';
import { parseTokenResponse } from '../../src/protocol/token-response.js';

const ACCESS = 'SECRETACCESS0123456789';
const REFRESH = 'SECRETREFRESH0123456789';
const ID_TOKEN = 'SECRETIDTOKEN0123456789';
const CODE = 'SECRETCODE0123456789';
const CLIENT_SECRET = 'SECRETCLIENT0123456789';
const secrets = [ACCESS, REFRESH, ID_TOKEN, CODE, CLIENT_SECRET];

const token = new Token({
	accessToken: ACCESS,
	refreshToken: REFRESH,
	idToken: ID_TOKEN,
	expiresAt: Date.UTC(2026, 0, 1),
	scope: ['read'],
	extra: { client_secret: CLIENT_SECRET },
});
const tokenBody = JSON.stringify({ access_token: ACCESS, refresh_token: REFRESH });
const cause = new Error('the network said no');

function thrown(run: () => unknown): Error {
	try {
		run();
	} catch (error) {
		return error as Error;
	}
	throw new Error('expected a throw');
}

interface Case {
	error: Error;
	type: abstract new (...args: never[]) => Error;
	name: string;
	code: errors.OAuth2ErrorCode;
	cause?: unknown;
}

// Each error made the way the library makes it, with secrets around wherever they could leak.
const cases: Case[] = [
	{
		error: new OAuth2Error('The refresh failed', 'TOKEN_REQUEST_FAILED', { cause }),
		type: OAuth2Error,
		name: 'OAuth2Error',
		code: 'TOKEN_REQUEST_FAILED',
		cause,
	},
	{
		error: thrown(() =>
			parseTokenResponse(
				{ error: 'invalid_grant', error_description: `${REFRESH} reused`, refresh_token: REFRESH },
				{ requestedAt: 0, status: 400, response: new Response(tokenBody) },
			),
		),
		type: OAuth2ResponseError,
		name: 'OAuth2ResponseError',
		code: 'OAUTH2_RESPONSE_ERROR',
	},
	{
		error: thrown(() =>
			parseAuthorizationCallback(
				`https://app.example.com/cb?error=access_denied&error_description=${CODE}&code=${CODE}&state=s`,
				{ expectedState: 's' },
			),
		),
		type: AuthorizationResponseError,
		name: 'AuthorizationResponseError',
		code: 'AUTHORIZATION_RESPONSE_ERROR',
	},
	{
		error: new TokenResponseError(
			'The token endpoint answered with a body that is not valid JSON',
			{ problem: 'unparseable', status: 200, body: `${tokenBody}}` },
			{ cause },
		),
		type: TokenResponseError,
		name: 'TokenResponseError',
		code: 'TOKEN_RESPONSE_INVALID',
		cause,
	},
	{
		error: new TokenRequestError(
			'The token request failed',
			{ reason: 'network', attempts: 3 },
			{ cause },
		),
		type: TokenRequestError,
		name: 'TokenRequestError',
		code: 'TOKEN_REQUEST_FAILED',
		cause,
	},
	{
		error: new InsecureTransportError('http://auth.example.com'),
		type: InsecureTransportError,
		name: 'InsecureTransportError',
		code: 'INSECURE_TRANSPORT',
	},
	{
		error: thrown(() =>
			parseAuthorizationCallback(`https://app.example.com/cb?code=${CODE}&state=evil`, {
				expectedState: 's',
			}),
		),
		type: StateMismatchError,
		name: 'StateMismatchError',
		code: 'STATE_MISMATCH',
	},
	{
		error: thrown(() =>
			parseAuthorizationCallback(`https://app.example.com/cb?code=${CODE}&code=${CODE}`, {
				expectedState: undefined,
			}),
		),
		type: InvalidCallbackError,
		name: 'InvalidCallbackError',
		code: 'INVALID_CALLBACK',
	},
	{
		error: new TokenExpiredError(Date.UTC(2026, 0, 1)),
		type: TokenExpiredError,
		name: 'TokenExpiredError',
		code: 'TOKEN_EXPIRED',
	},
	{
		error: new TokenUpdated(token),
		type: TokenUpdated,
		name: 'TokenUpdated',
		code: 'TOKEN_UPDATED',
	},
	{
		error: new ReauthenticationRequiredError('The refresh token was refused', {
			cause: new OAuth2ResponseError({ error: 'invalid_grant' }),
		}),
		type: ReauthenticationRequiredError,
		name: 'ReauthenticationRequiredError',
		code: 'REAUTHENTICATION_REQUIRED',
	},
	{
		error: thrown(() =>
			parseAuthorizationServerMetadata(
				{ issuer: 'https://evil.example' },
				{ issuer: 'https://as.example' },
			),
		),
		type: errors.MetadataError,
		name: 'MetadataError',
		code: 'METADATA_ERROR',
	},
	{
		error: new OriginNotAllowedError('https://evil.example'),
		type: OriginNotAllowedError,
		name: 'OriginNotAllowedError',
		code: 'ORIGIN_NOT_ALLOWED',
	},
	{
		error: new StorageError(
			'The stored token is corrupt',
			{ problem: 'corrupt', key: 'user-1' },
			{ cause },
		),
		type: StorageError,
		name: 'StorageError',
		code: 'STORAGE_ERROR',
		cause,
	},
	{
		error: new errors.StepUpRequiredError({
			acrValues: ['phr'],
			maxAge: 60,
			response: new Response(tokenBody, { status: 401 }),
		}),
		type: errors.StepUpRequiredError,
		name: 'StepUpRequiredError',
		code: 'STEP_UP_REQUIRED',
	},
	{
		error: new errors.DPoPError('The stored token has no DPoP key', 'key-missing', { cause }),
		type: errors.DPoPError,
		name: 'DPoPError',
		code: 'DPOP_ERROR',
		cause,
	},
	{
		error: new errors.InsufficientScopeError({
			scope: ['write'],
			response: new Response(tokenBody, { status: 403 }),
		}),
		type: errors.InsufficientScopeError,
		name: 'InsufficientScopeError',
		code: 'INSUFFICIENT_SCOPE',
	},
	{
		error: thrown(() =>
			tokenFromRecord({ access_token: ACCESS, refresh_token: REFRESH, scope: 5 }),
		),
		type: InvalidOptionsError,
		name: 'InvalidOptionsError',
		code: 'INVALID_OPTIONS',
	},
];

function printouts(value: unknown): Record<string, string> {
	return {
		message: value instanceof Error ? value.message : '',
		json: JSON.stringify(value),
		inspect: inspect(value),
		deepInspect: inspect(value, { depth: Number.POSITIVE_INFINITY }),
		string: String(value),
	};
}

describe('every error class', () => {
	it('has a case here (a new class needs one)', () => {
		const classes = Object.values(errors).filter(
			(value) => typeof value === 'function' && value.prototype instanceof Error,
		);
		expect(new Set(cases.map((c) => c.type))).toEqual(new Set(classes));
	});

	it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
		const { error } = c;
		for (const [where, text] of Object.entries(printouts(error))) {
			for (const s of secrets) {
				expect(text, `${name} ${where}`).not.toContain(s);
			}
		}
		expect(error).toBeInstanceOf(c.type);
		expect(error).toBeInstanceOf(OAuth2Error);
		expect(error.name).toBe(name);
		expect((error as OAuth2Error).code).toBe(c.code);
		expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name, code: c.code });
		expect(isOAuth2Error(error)).toBe(true);
		if (c.cause !== undefined) expect(error.cause).toBe(c.cause);
	});

	it('keeps a cause given to any constructor that takes one', () => {
		expect(new ReauthenticationRequiredError('x', { cause }).cause).toBe(cause);
		expect(new OAuth2ResponseError({ error: 'x' }, { cause }).cause).toBe(cause);
		expect(new OAuth2Error('x', 'INVALID_OPTIONS').cause).toBeUndefined();
		expect('cause' in new OAuth2Error('x', 'INVALID_OPTIONS')).toBe(false);
	});

	it('keeps the raw response and body reachable but out of printouts', () => {
		const withResponse = cases[1]!.error as OAuth2ResponseError;
		expect(withResponse.response).toBeInstanceOf(Response);
		expect(Object.keys(withResponse)).not.toContain('response');
		const withBody = cases[3]!.error as TokenResponseError;
		expect(withBody.body).toContain(ACCESS);
		expect(Object.keys(withBody)).not.toContain('body');
	});
});

describe('Token', () => {
	it('prints no secret', () => {
		for (const [where, text] of Object.entries(printouts(token))) {
			for (const s of secrets) expect(text, where).not.toContain(s);
		}
		expect(inspect({ nested: { token } }, { depth: 5 })).not.toContain(ACCESS);
	});

	it('still says what it holds', () => {
		expect(token.toJSON()).toMatchObject({
			accessToken: '[redacted]',
			refreshToken: '[redacted]',
			idToken: '[redacted]',
			expiresAt: '2026-01-01T00:00:00.000Z',
			scope: ['read'],
			extra: ['client_secret'],
		});
		expect(inspect(token)).toContain('[redacted]');
	});
});

describe('isOAuth2Error', () => {
	it('is false for what is not ours', () => {
		const systemError = thrown(() => readFileSync('/nonexistent/oauth2-session-test'));
		expect((systemError as NodeJS.ErrnoException).code).toBe('ENOENT');
		expect(isOAuth2Error(systemError)).toBe(false);
		expect(isOAuth2Error(new Error('x'))).toBe(false);
		expect(isOAuth2Error(Object.assign(new Error('x'), { code: 'STATE_MISMATCH' }))).toBe(false);
		expect(isOAuth2Error({ name: 'StateMismatchError', code: 'STATE_MISMATCH' })).toBe(false);
		expect(isOAuth2Error(undefined)).toBe(false);
		expect(isOAuth2Error('StateMismatchError')).toBe(false);
	});

	it('is true for an error of another realm or another copy of the package', () => {
		const foreign = runInNewContext(
			"Object.assign(new Error('x'), { name: 'StateMismatchError', code: 'STATE_MISMATCH' })",
		) as unknown;
		expect(foreign instanceof Error).toBe(false);
		expect(isOAuth2Error(foreign)).toBe(true);

		class OtherCopyError extends Error {
			override name = 'TokenExpiredError';
			readonly code = 'TOKEN_EXPIRED';
		}
		expect(isOAuth2Error(new OtherCopyError())).toBe(true);
	});
});
