import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError, TokenResponseError } from '../../src/errors/index.js';
import { parseTokenResponse } from '../../src/protocol/token-response.js';

const requestedAt = Date.UTC(2026, 0, 1);
const parse = (body: unknown, status = 200, scopeSeparator?: ' ' | ',') =>
	parseTokenResponse(body, { requestedAt, status, scopeSeparator });

describe('parseTokenResponse: what real servers send', () => {
	it.each([
		['number', 3600, requestedAt + 3_600_000],
		['numeric string', '3600', requestedAt + 3_600_000],
		['negative (already expired)', -30, requestedAt - 30_000],
		['negative string', '-30', requestedAt - 30_000],
		['zero (no known expiry)', 0, undefined],
		['null (no known expiry)', null, undefined],
		['absent', undefined, undefined],
		['fractional', 1.5, requestedAt + 1500],
	])('expires_in as %s', (_, expiresIn, expected) => {
		const token = parse({ access_token: 'at-123456', expires_in: expiresIn });
		expect(token.expiresAt).toBe(expected);
	});

	it('counts expiry from when the request started, not when the answer came', () => {
		const token = parseTokenResponse(
			{ access_token: 'at-123456', expires_in: 60 },
			{ requestedAt: 1_000_000 },
		);
		expect(token.expiresAt).toBe(1_060_000);
	});

	it.each([
		[undefined, 'Bearer'],
		['bearer', 'Bearer'],
		['BEARER', 'Bearer'],
		['Bearer', 'Bearer'],
		['', 'Bearer'],
	])('token_type %s becomes %s', (tokenType, expected) => {
		expect(parse({ access_token: 'at-123456', token_type: tokenType }).tokenType).toBe(expected);
	});

	it.each([
		['space-separated', 'read write', ' ', ['read', 'write']],
		['extra spaces', ' read  write ', ' ', ['read', 'write']],
		['a list', ['read', 'write'], ' ', ['read', 'write']],
		['null', null, ' ', undefined],
		['absent', undefined, ' ', undefined],
		['empty', '', ' ', []],
		['commas without a profile saying so stay one scope', 'repo,gist', ' ', ['repo,gist']],
		['commas where the profile says so', 'repo,gist', ',', ['repo', 'gist']],
		['commas and spaces where the profile says so', 'repo, gist', ',', ['repo', 'gist']],
	] as const)('scope %s', (_, scope, separator, expected) => {
		expect(parse({ access_token: 'at-123456', scope }, 200, separator).scope).toEqual(expected);
	});

	it('keeps every other field in extra and reads the known ones', () => {
		const token = parse({
			access_token: 'at-123456',
			refresh_token: 'rt-123456',
			id_token: 'id.token.here',
			expires_in: 60,
			refresh_expires_in: 1800,
			instance_url: 'https://na1.salesforce.com',
			nested: { a: 1 },
		});
		expect(token.refreshToken).toBe('rt-123456');
		expect(token.idToken).toBe('id.token.here');
		expect(token.refreshTokenExpiresAt).toBe(requestedAt + 1_800_000);
		expect(token.extra).toEqual({ instance_url: 'https://na1.salesforce.com', nested: { a: 1 } });
	});

	it("reads GitHub's refresh_token_expires_in", () => {
		const token = parse({ access_token: 'at-123456', refresh_token_expires_in: '15811200' });
		expect(token.refreshTokenExpiresAt).toBe(requestedAt + 15_811_200_000);
	});

	it('treats an empty refresh_token as none', () => {
		expect(parse({ access_token: 'at-123456', refresh_token: '' }).refreshToken).toBeUndefined();
	});

	it('clamps an absurd expires_in to a valid date', () => {
		const token = parse({ access_token: 'at-123456', expires_in: 1e300 });
		expect(Number.isFinite(token.expiresAt)).toBe(true);
		expect(() => JSON.stringify(token)).not.toThrow();
	});
});

describe('parseTokenResponse: typed errors', () => {
	it.each([
		['missing access_token', { token_type: 'bearer' }, 'missing-access-token'],
		['empty access_token', { access_token: '' }, 'missing-access-token'],
		['numeric access_token', { access_token: 42 }, 'missing-access-token'],
		['NaN expires_in', { access_token: 'at-123456', expires_in: 'soon' }, 'invalid-field'],
		['boolean expires_in', { access_token: 'at-123456', expires_in: true }, 'invalid-field'],
		['numeric scope', { access_token: 'at-123456', scope: 5 }, 'invalid-field'],
		['a string body', 'access_token=abc', 'not-an-object'],
		['an array body', [{ access_token: 'x' }], 'not-an-object'],
		['a null body', null, 'not-an-object'],
	])('%s', (_, body, problem) => {
		const error = (() => {
			try {
				parse(body);
			} catch (e) {
				return e;
			}
		})();
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).problem).toBe(problem);
		expect((error as TokenResponseError).code).toBe('TOKEN_RESPONSE_INVALID');
	});

	it('an error answer without a code is a TokenResponseError', () => {
		expect(() => parse({ error_description: 'bad' }, 400)).toThrow(
			expect.objectContaining({
				name: 'TokenResponseError',
				problem: 'missing-error-code',
				status: 400,
			}),
		);
		expect(() => parse({ error: 17 }, 400)).toThrow(
			expect.objectContaining({ problem: 'missing-error-code' }),
		);
	});

	it('an RFC 6749 §5.2 answer is an OAuth2ResponseError with every field', () => {
		let error: unknown;
		try {
			parse(
				{ error: 'invalid_grant', error_description: 'Token reused', error_uri: 'https://e.x/doc' },
				400,
			);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({
			code: 'OAUTH2_RESPONSE_ERROR',
			error: 'invalid_grant',
			errorDescription: 'Token reused',
			errorUri: 'https://e.x/doc',
			status: 400,
			errorCodeDescription: expect.stringContaining('refresh token is invalid, expired, revoked'),
		});
		expect((error as Error).message).toContain('invalid_grant');
	});

	it('an error code with HTTP 200 is still an error (GitHub, Slack)', () => {
		expect(() => parse({ error: 'bad_verification_code' }, 200)).toThrow(OAuth2ResponseError);
	});

	it('an error answer echoing a token does not put it in the message or fields', () => {
		let error: unknown;
		try {
			parse(
				{
					error: 'invalid_grant',
					error_description: 'refresh rt-SECRET-99 reused',
					refresh_token: 'rt-SECRET-99',
				},
				400,
			);
		} catch (e) {
			error = e;
		}
		const text = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error)}`;
		expect(text).not.toContain('rt-SECRET-99');
	});
});

describe('parseTokenResponse: a token must be sendable, and is never quoted', () => {
	const secret = 'at-secret-123456';
	const caught = (body: unknown): TokenResponseError => {
		try {
			parse(body);
		} catch (error) {
			expect(error).toBeInstanceOf(TokenResponseError);
			return error as TokenResponseError;
		}
		throw new Error('parse did not throw');
	};
	const shown = (error: Error) =>
		`${error.message} ${inspect(error, { showHidden: true, depth: 5 })}`;

	it.each([
		['CR LF', `${secret}\r\nX-Injected: 1`],
		['LF', `${secret}\n`],
		['NUL', `${secret}\u0000`],
		['a space', `${secret} more`],
		['a tab', `${secret}\tmore`],
		['non-ASCII', `${secret}é`],
		['DEL', `${secret}\u007f`],
	])('refuses an access_token with %s when the answer arrives', (_, accessToken) => {
		const error = caught({ access_token: accessToken, token_type: 'Bearer' });
		expect(error.problem).toBe('invalid-field');
		expect(error.message).toMatch(/access_token/);
		expect(shown(error)).not.toContain(secret);
	});

	it('takes every visible ASCII character (Facebook app tokens hold a |)', () => {
		const visible = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
		expect(parse({ access_token: visible }).authorization).toBe(`Bearer ${visible}`);
		expect(parse({ access_token: '1234|abcd' }).accessToken).toBe('1234|abcd');
	});

	it.each(['DPoP', 'mac', 'N_A', 'User Access Token', 'bot'])(
		'refuses token_type %s, which the session cannot send',
		(tokenType) => {
			const error = caught({ access_token: secret, token_type: tokenType });
			expect(error.problem).toBe('unsupported-token-type');
			expect(error.message).toMatch(/Bearer/);
			expect(shown(error)).not.toContain(secret);
		},
	);

	it('names a token_type only when it is a plain word', () => {
		expect(caught({ access_token: secret, token_type: 'DPoP' }).message).toContain('DPoP');
		const error = caught({ access_token: secret, token_type: `x\r\n${secret}` });
		expect(error.problem).toBe('unsupported-token-type');
		expect(shown(error)).not.toContain(secret);
	});
});

describe('parseTokenResponse: error answers that are not RFC 6749 keep what helps', () => {
	const caught = (body: unknown, status: number): TokenResponseError => {
		try {
			parse(body, status);
		} catch (error) {
			expect(error).toBeInstanceOf(TokenResponseError);
			return error as TokenResponseError;
		}
		throw new Error('parse did not throw');
	};

	it.each([
		[
			'Strava errors[]',
			400,
			{
				message: 'Bad Request',
				errors: [{ resource: 'Application', field: 'client_id', code: 'invalid' }],
			},
			'Bad Request',
		],
		[
			'Twitch { status, message }',
			400,
			{ status: 400, message: 'invalid client secret' },
			'invalid client secret',
		],
		[
			'Facebook { error: { message, type, code } } without a profile',
			400,
			{
				error: {
					message: 'Error validating client secret.',
					type: 'OAuthException',
					code: 1,
					fbtrace_id: 'A1b2',
				},
			},
			'Error validating client secret.',
		],
		['a message at HTTP 200', 200, { error: { message: 'Try later' } }, 'Try later'],
	])('%s: the status, the message and the fields', (_, status, body, message) => {
		const error = caught(body, status);
		expect(error.problem).toBe('missing-error-code');
		expect(error.status).toBe(status);
		expect(error.providerMessage).toBe(message);
		expect(error.message).toContain(message);
		expect(error.message).toContain(`HTTP ${status}`);
		expect(error.fields).toEqual(body);
	});

	it("Zoom's reason beside its code becomes the description", () => {
		let error: unknown;
		try {
			parse({ reason: 'Invalid client_id or client_secret', error: 'invalid_client' }, 401);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({
			error: 'invalid_client',
			status: 401,
			errorDescription: 'Invalid client_id or client_secret',
		});
	});

	it('tokens in such an answer appear nowhere', () => {
		const secret = 'at-leaked-0123456789';
		const error = caught(
			{
				message: `token ${secret} is bad`,
				access_token: secret,
				data: {
					refresh_token: 'rt-leaked-0123456789',
					client_secret: 'cs-leaked-0123',
					note: 'kept',
				},
			},
			400,
		);
		const shown = `${error.message} ${JSON.stringify(error)} ${inspect(error, { showHidden: true, depth: 9 })}`;
		expect(shown).not.toContain('leaked');
		expect(error.fields).toEqual({ message: 'token [redacted] is bad', data: { note: 'kept' } });
	});
});
