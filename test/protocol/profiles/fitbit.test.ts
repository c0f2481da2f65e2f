import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError, TokenResponseError } from '../../../src/errors/index.js';
import { refreshTokenGrant } from '../../../src/protocol/grants.js';
import { fitbit } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt, thrownBy } from './support.js';

const server = useScriptedServer();

const failure = (errorType: string, message: string) => ({
	errors: [{ errorType, message }],
	success: false,
});

describe('fitbit', () => {
	it('reads a token answer; user_id stays in extra', () => {
		const token = readAnswer(fitbit, {
			access_token: 'eyJhbGciOiJIUzI1NiJ9.a.b',
			expires_in: 28800,
			refresh_token: 'c643a63c072f0f05478e9d18b991db80ef6061e4f8e6c822d83fed53e5fafdd7',
			scope: 'heartrate activity profile',
			token_type: 'Bearer',
			user_id: 'GGNJL9',
		});
		expect(token.expiresAt).toBe(requestedAt + 28_800_000);
		expect(token.scope).toEqual(['heartrate', 'activity', 'profile']);
		expect(token.extra).toEqual({ user_id: 'GGNJL9' });
	});

	it.each([
		[
			400,
			'invalid_grant',
			'Refresh token invalid: c643a6. Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API authorization process.',
			'invalid_grant',
			undefined,
		],
		[
			401,
			'expired_token',
			'Access token expired: eyJhbGci. Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API authorization process.',
			'invalid_grant',
			'expired_token: ',
		],
		[401, 'invalid_token', 'Refresh token invalid: c643a6.', 'invalid_grant', 'invalid_token: '],
		[401, 'invalid_client', 'Invalid authorization header format.', 'invalid_client', undefined],
		[400, 'invalid_request', 'Missing parameters: refresh_token', 'invalid_request', undefined],
		[
			400,
			'unsupported_grant_type',
			'The grant type is not supported.',
			'unsupported_grant_type',
			undefined,
		],
	])(
		'HTTP %i with errorType %s is an OAuth2ResponseError',
		(status, type, message, expected, prefix) => {
			const error = thrownBy(() =>
				readAnswer(fitbit, failure(type, message), { status, phase: 'refreshToken' }),
			);
			expect(error).toBeInstanceOf(OAuth2ResponseError);
			expect(error).toMatchObject({
				error: expected,
				status,
				errorDescription: `${prefix ?? ''}${message}`,
			});
		},
	);

	it('keeps every message of a list of errors, the first type as the code', () => {
		const body = {
			errors: [
				{ errorType: 'invalid_request', message: 'Missing parameters: code.' },
				{ errorType: 'invalid_request', message: 'Missing parameters: redirect_uri.' },
			],
			success: false,
		};
		expect(thrownBy(() => readAnswer(fitbit, body, { status: 400 }))).toMatchObject({
			error: 'invalid_request',
			errorDescription: 'Missing parameters: code. Missing parameters: redirect_uri.',
		});
	});

	it('an error list without a type stays an unreadable answer', () => {
		const error = thrownBy(() =>
			readAnswer(fitbit, { errors: [{ message: 'x' }], success: false }, { status: 400 }),
		);
		expect(error).toBeInstanceOf(TokenResponseError);
		expect(error).toMatchObject({ problem: 'missing-error-code' });
	});

	it('over the wire: a used refresh token is invalid_grant, which ends the session', async () => {
		const { error } = await exchange(
			server,
			fitbit,
			json(400, failure('invalid_grant', 'Refresh token invalid: c643a6.')),
			{ grant: refreshTokenGrant({ refreshToken: 'c643a63c' }) },
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
	});
});
