import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { authorizationUrl } from '../../../src/protocol/authorization-url.js';
import { refreshTokenGrant } from '../../../src/protocol/grants.js';
import { google } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt } from './support.js';

const server = useScriptedServer();

describe('google', () => {
	it('asks for offline access and a fresh consent in authorization URLs', async () => {
		expect(google.authorizationParams).toEqual({ access_type: 'offline', prompt: 'consent' });
		// How the session merges them: the profile's first, the caller's params win.
		const { url } = await authorizationUrl({
			authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
			clientId: 'id.apps.googleusercontent.com',
			state: 's',
			pkce: false,
			params: { ...google.authorizationParams, prompt: 'select_account consent' },
		});
		expect(new URL(url).search).toBe(
			'?response_type=code&client_id=id.apps.googleusercontent.com&state=s&access_type=offline&prompt=select_account+consent',
		);
	});

	it.each([
		[
			'a code exchange',
			{
				access_token: 'ya29.a0Af',
				expires_in: 3599,
				refresh_token: '1//0gLx',
				scope: 'openid https://www.googleapis.com/auth/userinfo.email',
				token_type: 'Bearer',
				id_token: 'eyJhbGciOi.x.y',
			},
			'1//0gLx',
		],
		[
			'a refresh, which carries no refresh token',
			{
				access_token: 'ya29.a0Ag',
				expires_in: 3599,
				scope: 'openid https://www.googleapis.com/auth/userinfo.email',
				token_type: 'Bearer',
				id_token: 'eyJhbGciOi.x.z',
			},
			undefined,
		],
	])('reads %s', (_, body, refreshToken) => {
		const token = readAnswer(google, body, { phase: 'refreshToken' });
		expect(token.refreshToken).toBe(refreshToken);
		expect(token.expiresAt).toBe(requestedAt + 3_599_000);
		expect(token.scope).toEqual(['openid', 'https://www.googleapis.com/auth/userinfo.email']);
		expect(token.idToken).toBe(body.id_token);
	});

	it('a revoked refresh token is invalid_grant, which ends the session', async () => {
		const { error } = await exchange(
			server,
			google,
			json(400, {
				error: 'invalid_grant',
				error_description: 'Token has been expired or revoked.',
			}),
			{ grant: refreshTokenGrant({ refreshToken: '1//0gLx' }) },
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
	});
});
