import { describe, expect, it, vi } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { authorizationCodeGrant, refreshTokenGrant } from '../../../src/protocol/grants.js';
import { defineProfile } from '../../../src/protocol/profile.js';
import { OAuth2Session } from '../../../src/session/oauth2-session.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, thrownBy } from './support.js';

// The example imports the package by name; here that is src/.
vi.mock('oauth2-session', () => import('../../../src/index.js'));
const { strava } = await import('../../../examples/profiles/strava.js');

const server = useScriptedServer();

// README's recipes for providers not shipped, written with the exported answer helpers.
describe("README's profile of your own (Strava)", () => {
	const failure = (resource: string, field: string) => ({
		message: 'Bad Request',
		errors: [{ resource, field, code: 'invalid' }],
	});

	it.each([
		['RefreshToken', 'refresh_token', 'invalid_grant'],
		['AuthorizationCode', 'code', 'invalid_grant'],
		['Application', 'client_secret', 'invalid_client'],
		['Athlete', 'scope', 'invalid_request'],
	])('%s.%s invalid is %s', (resource, field, expected) => {
		const error = thrownBy(() =>
			readAnswer(strava, failure(resource, field), { status: 400, phase: 'refreshToken' }),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({
			error: expected,
			errorDescription: `${resource}.${field} invalid: Bad Request`,
		});
	});

	it('reads a token answer, comma scopes', () => {
		const token = readAnswer(strava, {
			token_type: 'Bearer',
			access_token: 'a9b723',
			expires_at: 1568775134,
			expires_in: 20566,
			refresh_token: 'b5c569',
			scope: 'read,activity:read_all',
		});
		expect(token.scope).toEqual(['read', 'activity:read_all']);
	});

	it('over the wire: a spent refresh token is invalid_grant', async () => {
		const { error } = await exchange(
			server,
			strava,
			json(400, failure('RefreshToken', 'refresh_token')),
			{ grant: refreshTokenGrant({ refreshToken: 'b5c569' }) },
		);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
	});
});

describe('a profile that reads scopes with another separator than it sends (LinkedIn)', () => {
	const linkedin = defineProfile({ name: 'linkedin', answerScopeSeparator: ',' });

	it('sends spaces in the authorization URL and reads the comma answer', async () => {
		const session = new OAuth2Session({
			profile: linkedin,
			clientId: 'app',
			authorizationEndpoint: 'https://www.linkedin.com/oauth/v2/authorization',
			scope: ['openid', 'profile', 'email'],
		});
		const { url } = await session.authorizationUrl();
		expect(new URL(url).searchParams.get('scope')).toBe('openid profile email');
		const { result } = await exchange(
			server,
			linkedin,
			json(200, { access_token: 'AQV', expires_in: 5183999, scope: 'email,openid,profile' }),
			{ grant: authorizationCodeGrant({ code: 'AQT', redirectUri: 'http://127.0.0.1/cb' }) },
		);
		expect(result?.scope).toEqual(['email', 'openid', 'profile']);
	});
});
