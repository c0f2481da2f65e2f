import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, OAuth2ResponseError } from '../../../src/errors/index.js';
import { clientSecretPost } from '../../../src/protocol/client-authentication.js';
import {
	authorizationCodeGrant,
	clientCredentialsGrant,
	type Grant,
	passwordGrant,
	refreshTokenGrant,
} from '../../../src/protocol/grants.js';
import { auth0 } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, formOf, readAnswer } from './support.js';

const server = useScriptedServer();

const audience = 'https://api.example.com';
const answer = {
	access_token: 'eyJhbGciOiJSUzI1NiJ9.a.b',
	refresh_token: 'v1.MRrT3ZH',
	id_token: 'eyJhbGciOiJSUzI1NiJ9.c.d',
	scope: 'openid profile offline_access',
	expires_in: 86400,
	token_type: 'Bearer',
};

describe('auth0', () => {
	it('puts the audience and offline_access into authorization URLs', () => {
		const profile = auth0({ audience });
		expect(profile.authorizationParams).toEqual({ audience });
		expect(profile.authorizationScopes).toEqual(['offline_access']);
		expect(auth0().authorizationParams).toBeUndefined();
		expect(auth0().authorizationScopes).toEqual(['offline_access']);
	});

	it.each([[''], [42]])('refuses the audience %j', (bad) => {
		expect(() => auth0({ audience: bad as string })).toThrow(InvalidOptionsError);
	});

	it.each<[string, Grant, Record<string, string>, string | undefined]>([
		['client credentials', clientCredentialsGrant(), {}, audience],
		['password', passwordGrant({ username: 'u', password: 'p' }), {}, audience],
		[
			'client credentials with its own audience',
			clientCredentialsGrant(),
			{ audience: 'urn:other' },
			'urn:other',
		],
		['a code exchange', authorizationCodeGrant({ code: 'c' }), {}, undefined],
		['a refresh', refreshTokenGrant({ refreshToken: 'v1.MRrT3ZH' }), {}, undefined],
	])('over the wire: %s sends audience %s', async (_, grant, params, expected) => {
		const { hit } = await exchange(server, auth0({ audience }), json(200, answer), {
			grant,
			params,
			clientAuthentication: clientSecretPost('client', 'secret'),
		});
		expect(formOf(hit.body).audience).toBe(expected);
	});

	it('a rotated refresh answer brings the next refresh token', () => {
		const token = readAnswer(
			auth0({ audience }),
			{ ...answer, refresh_token: 'v1.next' },
			{
				phase: 'refreshToken',
			},
		);
		expect(token.refreshToken).toBe('v1.next');
		expect(token.scope).toEqual(['openid', 'profile', 'offline_access']);
	});

	it('over the wire: reusing a rotated refresh token is invalid_grant', async () => {
		const { error } = await exchange(
			server,
			auth0({ audience }),
			json(403, { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' }),
			{ grant: refreshTokenGrant({ refreshToken: 'v1.MRrT3ZH' }) },
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 403 });
	});
});
