import { describe, expect, it } from 'vitest';
import { clientSecretBasic } from '../../../src/protocol/client-authentication.js';
import { refreshTokenGrant } from '../../../src/protocol/grants.js';
import { ebay } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt } from './support.js';

const server = useScriptedServer();

const userToken = 'v^1.1#i^1#p^3#r^1#I^3#f^0#t^Ul4xMF8';
const refreshToken = 'v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8yOjNDMj';

describe('ebay', () => {
	it.each([
		[
			'a user token with its refresh token',
			{
				access_token: userToken,
				expires_in: 7200,
				refresh_token: refreshToken,
				refresh_token_expires_in: 47304000,
				token_type: 'User Access Token',
			},
			'User Access Token',
			requestedAt + 47_304_000_000,
		],
		[
			'an application token',
			{ access_token: userToken, expires_in: 7200, token_type: 'Application Access Token' },
			'Application Access Token',
			undefined,
		],
	])('reads %s, sent as Bearer', (_, body, name, refreshTokenExpiresAt) => {
		const token = readAnswer(ebay, body);
		expect(token.authorization).toBe(`Bearer ${userToken}`);
		expect(token.expiresAt).toBe(requestedAt + 7_200_000);
		expect(token.refreshTokenExpiresAt).toBe(refreshTokenExpiresAt);
		expect(token.extra).toEqual({ original_token_type: name });
	});

	it('over the wire: a refresh answer without a refresh token', async () => {
		const { hit, result } = await exchange(
			server,
			ebay,
			json(200, { access_token: userToken, expires_in: 7200, token_type: 'User Access Token' }),
			{
				grant: refreshTokenGrant({ refreshToken }),
				clientAuthentication: clientSecretBasic('Awesome-App-PRD-1a2b3c', 'PRD-1a2b3c4d'),
			},
		);
		expect(new URLSearchParams(hit.body).get('refresh_token')).toBe(refreshToken);
		expect(result).toMatchObject({ tokenType: 'Bearer', refreshToken: undefined });
	});
});
