import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { refreshTokenGrant } from '../../../src/protocol/grants.js';
import { keycloak } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt } from './support.js';

const server = useScriptedServer();

const answer = {
	access_token: 'eyJhbGciOiJSUzI1NiJ9.a.b',
	expires_in: 300,
	refresh_expires_in: 1800,
	refresh_token: 'eyJhbGciOiJIUzUxMiJ9.c.d',
	token_type: 'Bearer',
	'not-before-policy': 0,
	session_state: '4e3b6c2a-3f1e-4c57-9b1e-2c5f8e0d7a11',
	scope: 'profile email',
};

describe('keycloak', () => {
	it.each([
		[
			'an online token: the refresh token ends with the SSO session',
			answer,
			requestedAt + 1_800_000,
		],
		[
			'an offline token: refresh_expires_in 0, no known expiry',
			{ ...answer, refresh_expires_in: 0, scope: 'offline_access profile email' },
			undefined,
		],
	])('reads %s', (_, body, refreshTokenExpiresAt) => {
		const token = readAnswer(keycloak, body, { phase: 'refreshToken' });
		expect(token.expiresAt).toBe(requestedAt + 300_000);
		expect(token.refreshTokenExpiresAt).toBe(refreshTokenExpiresAt);
		expect(token.extra).toEqual({
			'not-before-policy': 0,
			session_state: answer.session_state,
		});
	});

	it.each(['Session not active', 'Token is not active', 'Offline user session not found'])(
		'over the wire: a refresh answered 400 invalid_grant "%s" stays invalid_grant',
		async (description) => {
			const { error } = await exchange(
				server,
				keycloak,
				json(400, { error: 'invalid_grant', error_description: description }),
				{ grant: refreshTokenGrant({ refreshToken: answer.refresh_token }) },
			);
			expect(error).toBeInstanceOf(OAuth2ResponseError);
			expect(error).toMatchObject({
				error: 'invalid_grant',
				errorDescription: description,
				status: 400,
			});
		},
	);
});
