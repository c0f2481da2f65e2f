import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { clientSecretBasic } from '../../../src/protocol/client-authentication.js';
import { refreshTokenGrant } from '../../../src/protocol/grants.js';
import { cognito } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt } from './support.js';

const server = useScriptedServer();

const refreshAnswer = {
	access_token: 'eyJraWQiOiJ.a.b',
	id_token: 'eyJraWQiOiJ.c.d',
	token_type: 'Bearer',
	expires_in: 3600,
};

describe('cognito', () => {
	it.each([
		[
			'a code exchange',
			{ ...refreshAnswer, refresh_token: 'eyJjdHkiOiJKV1Qi.e.f' },
			'eyJjdHkiOiJKV1Qi.e.f',
		],
		['a refresh, a new ID token but no refresh token', refreshAnswer, undefined],
		[
			'a refresh with rotation on',
			{ ...refreshAnswer, refresh_token: 'eyJjdHkiOiJKV1Qi.g.h' },
			'eyJjdHkiOiJKV1Qi.g.h',
		],
	])('reads %s', (_, body, refreshToken) => {
		const token = readAnswer(cognito, body, { phase: 'refreshToken' });
		expect(token).toMatchObject({
			idToken: 'eyJraWQiOiJ.c.d',
			refreshToken,
			expiresAt: requestedAt + 3_600_000,
		});
	});

	it('over the wire: an expired refresh token is invalid_grant', async () => {
		const { hit, error } = await exchange(
			server,
			cognito,
			json(400, { error: 'invalid_grant', error_description: 'Refresh Token has expired' }),
			{
				grant: refreshTokenGrant({ refreshToken: 'eyJjdHkiOiJKV1Qi.e.f' }),
				clientAuthentication: clientSecretBasic('1example23456789', 'secret'),
			},
		);
		expect(hit.headers['content-type']).toBe('application/x-www-form-urlencoded;charset=UTF-8');
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
	});
});
