import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { clientSecretBasic } from '../../../src/protocol/client-authentication.js';
import {
	authorizationCodeGrant,
	clientCredentialsGrant,
	refreshTokenGrant,
} from '../../../src/protocol/grants.js';
import { runTokenRequestHooks } from '../../../src/protocol/profile.js';
import { github } from '../../../src/protocol/profiles/index.js';
import { buildTokenRequest } from '../../../src/protocol/token-request.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, formOf, readAnswer, requestedAt, thrownBy } from './support.js';

const server = useScriptedServer();

// A GitHub App user token with expiry on: 8 hours, and a refresh token good for about 6 months.
const expiringAnswer = {
	access_token: 'ghu_16C7e42F292c6912E7710c838347Ae178B4a',
	expires_in: 28800,
	refresh_token: 'ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498',
	refresh_token_expires_in: 15811200,
	scope: '',
	token_type: 'bearer',
};

describe('github', () => {
	it('joins scopes with commas and asks for JSON, whatever an earlier hook set', async () => {
		const built = await buildTokenRequest({
			tokenEndpoint: 'https://github.com/login/oauth/access_token',
			grant: clientCredentialsGrant({ scope: ['repo', 'gist'] }),
			scopeSeparator: github.scopeSeparator,
		});
		expect(built.params.get('scope')).toBe('repo,gist');
		built.headers.set('accept', '*/*');
		await runTokenRequestHooks(github, 'refreshToken', built);
		expect(built.headers.get('accept')).toBe('application/json');
	});

	it.each([
		['an OAuth app token', { access_token: 'gho_1', scope: 'repo,gist', token_type: 'bearer' }],
		['a token with no scope', { access_token: 'gho_1', scope: '', token_type: 'bearer' }],
	])('reads %s', (_, body) => {
		const token = readAnswer(github, body);
		expect(token.tokenType).toBe('Bearer');
		expect(token.scope).toEqual(body.scope === '' ? [] : ['repo', 'gist']);
		expect(token.expiresAt).toBeUndefined();
	});

	it('reads an 8-hour user token and its refresh token expiry', () => {
		const token = readAnswer(github, expiringAnswer, { phase: 'refreshToken' });
		expect(token.expiresAt).toBe(requestedAt + 28_800_000);
		expect(token.refreshToken).toBe(expiringAnswer.refresh_token);
		expect(token.refreshTokenExpiresAt).toBe(requestedAt + 15_811_200_000);
	});

	it.each([
		['bad_verification_code', 'invalid_grant', 'accessToken'],
		['bad_refresh_token', 'invalid_grant', 'refreshToken'],
		['incorrect_client_credentials', 'invalid_client', 'accessToken'],
		['unverified_user_email', 'unverified_user_email', 'accessToken'],
	] as const)('an error %s with HTTP 200 is an OAuth2ResponseError %s', (sent, expected, phase) => {
		const error = thrownBy(() =>
			readAnswer(
				github,
				{ error: sent, error_description: 'The code passed is incorrect or expired.' },
				{ phase },
			),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: expected, status: 200 });
		expect((error as OAuth2ResponseError).errorDescription).toMatch(
			expected === sent ? /^The code/ : new RegExp(`^${sent}: The code`),
		);
	});

	it('over the wire: a spent refresh token answered with HTTP 200 is invalid_grant', async () => {
		const { hit, error } = await exchange(
			server,
			github,
			json(200, {
				error: 'bad_refresh_token',
				error_description: 'The refresh token passed is incorrect or expired.',
				error_uri: 'https://docs.github.com',
			}),
			{
				grant: refreshTokenGrant({ refreshToken: expiringAnswer.refresh_token }),
				clientAuthentication: clientSecretBasic('Iv1.8a61f9b3a7aba766', 'secret'),
			},
		);
		expect(hit.headers.accept).toBe('application/json');
		expect(formOf(hit.body)).toEqual({
			grant_type: 'refresh_token',
			refresh_token: expiringAnswer.refresh_token,
		});
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 200 });
	});

	it('over the wire: a code exchange answered as JSON', async () => {
		const { hit, result } = await exchange(server, github, json(200, expiringAnswer), {
			grant: authorizationCodeGrant({ code: 'abc' }),
		});
		expect(hit.headers.accept).toBe('application/json');
		expect(result?.accessToken).toBe(expiringAnswer.access_token);
	});
});
