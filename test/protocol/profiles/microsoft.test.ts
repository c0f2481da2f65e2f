import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { authorizationUrl } from '../../../src/protocol/authorization-url.js';
import {
	type ClientAuthentication,
	clientSecretBasic,
	clientSecretPost,
} from '../../../src/protocol/client-authentication.js';
import { authorizationCodeGrant, refreshTokenGrant } from '../../../src/protocol/grants.js';
import { defineProfile } from '../../../src/protocol/profile.js';
import { microsoft } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, formOf, readAnswer, requestedAt, thrownBy } from './support.js';

const server = useScriptedServer();

const clientId = '6731de76-14a6-49ae-97bc-6eba6914391e';
// Entra ID secrets may hold '+', '/', '=' and '~'; a '+' sent raw in a form reads as a space.
const secret = 'Ab3+Q8~x/y=z';
const answer = {
	token_type: 'Bearer',
	scope: 'openid profile https://graph.microsoft.com/User.Read',
	expires_in: 4017,
	ext_expires_in: 4017,
	access_token: 'eyJ0eXAiOiJKV1Qi.a.b',
	refresh_token: '1.AXcAs',
	id_token: 'eyJ0eXAiOiJKV1Qi.c.d',
};

describe('microsoft', () => {
	it('adds offline_access to authorization scopes, for a refresh token', () => {
		expect(microsoft.authorizationScopes).toEqual(['offline_access']);
	});

	it('a profile made from it without offline_access keeps the rest', async () => {
		const signInOnly = defineProfile({ ...microsoft, name: 'sign-in', authorizationScopes: [] });
		const { url } = await authorizationUrl({
			authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
			clientId,
			scope: ['openid'],
			profile: signInOnly,
		});
		expect(new URL(url).searchParams.get('scope')).toBe('openid');
		expect(signInOnly.hooks?.refreshTokenResponse).toHaveLength(1);
		const body = { error: 'interaction_required', error_description: 'AADSTS50076' };
		expect(
			thrownBy(() => readAnswer(signInOnly, body, { status: 400, phase: 'refreshToken' })),
		).toMatchObject({ error: 'invalid_grant' });
	});

	it('reads a v2.0 answer; ext_expires_in stays in extra', () => {
		const token = readAnswer(microsoft, answer);
		expect(token.expiresAt).toBe(requestedAt + 4_017_000);
		expect(token.scope).toEqual(['openid', 'profile', 'https://graph.microsoft.com/User.Read']);
		expect(token.extra).toEqual({ ext_expires_in: 4017 });
	});

	it.each<
		[
			string,
			ClientAuthentication,
			(hit: { headers: Record<string, unknown>; body: string }) => void,
		]
	>([
		[
			'client_secret_basic',
			clientSecretBasic(clientId, secret),
			(hit) => {
				expect(hit.headers.authorization).toBe(`Basic ${btoa(`${clientId}:Ab3%2BQ8%7Ex%2Fy%3Dz`)}`);
				// What the server reads back, form-decoding as RFC 6749 §2.3.1 says.
				const [id, decoded] = atob(String(hit.headers.authorization).slice(6))
					.split(':')
					.map((part) => new URLSearchParams(`v=${part}`).get('v'));
				expect([id, decoded]).toEqual([clientId, secret]);
			},
		],
		[
			'client_secret_post',
			clientSecretPost(clientId, secret),
			(hit) => {
				expect(hit.body).toContain('&client_secret=Ab3%2BQ8%7Ex%2Fy%3Dz');
				expect(formOf(hit.body).client_secret).toBe(secret);
				expect(hit.headers.authorization).toBeUndefined();
			},
		],
	])('a secret with + reaches the server intact with %s', async (_, auth, check) => {
		const { hit, result } = await exchange(server, microsoft, json(200, answer), {
			grant: authorizationCodeGrant({ code: 'M.C5', redirectUri: 'http://localhost/cb' }),
			clientAuthentication: auth,
		});
		check(hit);
		expect(result?.accessToken).toBe(answer.access_token);
	});

	it('sends the scope given as refreshParams with a refresh', async () => {
		const scope = 'openid offline_access https://graph.microsoft.com/User.Read';
		const { hit } = await exchange(server, microsoft, json(200, answer), {
			grant: refreshTokenGrant({ refreshToken: '1.AXcAs' }),
			params: { scope },
		});
		expect(hit.body).toBe(
			'grant_type=refresh_token&refresh_token=1.AXcAs&scope=openid+offline_access+https%3A%2F%2Fgraph.microsoft.com%2FUser.Read',
		);
	});

	it.each(['interaction_required', 'consent_required', 'login_required'])(
		'a refresh answered %s is invalid_grant, which ends the session',
		(code) => {
			const body = {
				error: code,
				error_description: 'AADSTS50076: you must use multi-factor authentication.',
				error_codes: [50076],
			};
			const error = thrownBy(() =>
				readAnswer(microsoft, body, { status: 400, phase: 'refreshToken' }),
			);
			expect(error).toBeInstanceOf(OAuth2ResponseError);
			expect(error).toMatchObject({
				error: 'invalid_grant',
				errorDescription: `${code}: AADSTS50076: you must use multi-factor authentication.`,
			});
			// A code exchange keeps the code: the user is there to act on it.
			expect(thrownBy(() => readAnswer(microsoft, body, { status: 400 }))).toMatchObject({
				error: code,
			});
		},
	);

	it('an expired refresh token is invalid_grant as sent', async () => {
		const { error } = await exchange(
			server,
			microsoft,
			json(400, {
				error: 'invalid_grant',
				error_description:
					'AADSTS70008: The provided authorization code or refresh token has expired.',
				error_codes: [70008],
			}),
			{ grant: refreshTokenGrant({ refreshToken: '1.AXcAs' }) },
		);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
	});
});
