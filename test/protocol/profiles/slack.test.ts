import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError, TokenResponseError } from '../../../src/errors/index.js';
import { clientSecretBasic } from '../../../src/protocol/client-authentication.js';
import { authorizationCodeGrant, refreshTokenGrant } from '../../../src/protocol/grants.js';
import { slack, slackUser } from '../../../src/protocol/profiles/index.js';
import { tokenToRecord } from '../../../src/protocol/token-record.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt, thrownBy } from './support.js';

const server = useScriptedServer();

// oauth.v2.access for an install asking for bot and user scopes, token rotation off.
const install = {
	ok: true,
	access_token: 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy',
	token_type: 'bot',
	scope: 'commands,incoming-webhook',
	bot_user_id: 'U0KRQLJ9H',
	app_id: 'A0KRD7HC3',
	team: { name: 'Slack Softball Team', id: 'T9TK3CUKW' },
	enterprise: { name: 'slack-sports', id: 'E12345678' },
	authed_user: {
		id: 'U1234',
		scope: 'chat:write',
		access_token: 'xoxp-1234',
		token_type: 'user',
	},
};
// The same with token rotation on: both tokens expire in 12 hours and come with a refresh token.
const rotatingInstall = {
	...install,
	access_token: 'xoxe.xoxb-1-MS0y',
	refresh_token: 'xoxe-1-My0xLTE3',
	expires_in: 43200,
	authed_user: {
		...install.authed_user,
		access_token: 'xoxe.xoxp-1-Mi0y',
		refresh_token: 'xoxe-1-Mi0xLTE3',
		expires_in: 43200,
	},
};
// A refresh of a user token answers it at the top level.
const userRefresh = {
	ok: true,
	app_id: 'A0KRD7HC3',
	authed_user: { id: 'U1234' },
	scope: 'chat:write',
	token_type: 'user',
	access_token: 'xoxe.xoxp-1-Mi0z',
	refresh_token: 'xoxe-1-Mi0xLTE4',
	expires_in: 43200,
	team: { id: 'T9TK3CUKW', name: 'Slack Softball Team' },
	enterprise: null,
	is_enterprise_install: false,
};

describe('slack (the bot token)', () => {
	it('reads the bot token, sent as Bearer, with comma scopes', () => {
		const token = readAnswer(slack, install);
		expect(token.accessToken).toBe(install.access_token);
		expect(token.tokenType).toBe('Bearer');
		expect(token.authorization).toBe(`Bearer ${install.access_token}`);
		expect(token.scope).toEqual(['commands', 'incoming-webhook']);
		expect(token.extra).toMatchObject({ original_token_type: 'bot', app_id: 'A0KRD7HC3' });
	});

	it('reads a rotating bot token with its expiry and refresh token', () => {
		const token = readAnswer(slack, rotatingInstall);
		expect(token).toMatchObject({
			accessToken: 'xoxe.xoxb-1-MS0y',
			refreshToken: 'xoxe-1-My0xLTE3',
			expiresAt: requestedAt + 43_200_000,
		});
	});

	it('an install with only user scopes has no bot token', () => {
		const { access_token: _, ...userOnly } = install;
		const error = thrownBy(() => readAnswer(slack, userOnly));
		expect(error).toBeInstanceOf(TokenResponseError);
		expect(error).toMatchObject({ problem: 'missing-access-token' });
	});

	it('over the wire: joins scopes with commas, client credentials in Basic', async () => {
		const { hit, result } = await exchange(server, slack, json(200, install), {
			grant: authorizationCodeGrant({ code: '4724469134.4644010092847.232b4e6d' }),
			clientAuthentication: clientSecretBasic('2141029472.691202649728', 'e1b9e11dfcd'),
		});
		expect(hit.headers.authorization).toBe(`Basic ${btoa('2141029472.691202649728:e1b9e11dfcd')}`);
		expect(result?.accessToken).toBe(install.access_token);
	});
});

describe('slackUser (the user token under authed_user)', () => {
	it('lifts the user token; the bot token is not kept anywhere', () => {
		const token = readAnswer(slackUser, install);
		expect(token).toMatchObject({
			accessToken: 'xoxp-1234',
			tokenType: 'Bearer',
			scope: ['chat:write'],
			refreshToken: undefined,
		});
		expect(token.extra).toMatchObject({
			id: 'U1234',
			original_token_type: 'user',
			bot_scope: 'commands,incoming-webhook',
			team: install.team,
		});
		expect(JSON.stringify(tokenToRecord(token))).not.toContain('xoxb');
	});

	it.each([
		['a rotating install', rotatingInstall, 'xoxe.xoxp-1-Mi0y', 'xoxe-1-Mi0xLTE3'],
		['a refresh, answered at the top level', userRefresh, 'xoxe.xoxp-1-Mi0z', 'xoxe-1-Mi0xLTE4'],
	])('reads %s', (_, body, accessToken, refreshToken) => {
		const token = readAnswer(slackUser, body, { phase: 'refreshToken' });
		expect(token).toMatchObject({
			accessToken,
			refreshToken,
			expiresAt: requestedAt + 43_200_000,
			tokenType: 'Bearer',
		});
		expect(JSON.stringify(tokenToRecord(token))).not.toContain('xoxb');
	});
});

describe.each([slack, slackUser])('$name errors', (profile) => {
	it.each([
		['invalid_code', 'invalid_grant'],
		['code_already_used', 'invalid_grant'],
		['invalid_refresh_token', 'invalid_grant'],
		['bad_redirect_uri', 'invalid_grant'],
		['invalid_client_id', 'invalid_client'],
		['bad_client_secret', 'invalid_client'],
		['invalid_grant_type', 'unsupported_grant_type'],
		['ratelimited', 'ratelimited'],
	])('ok: false, error %s with HTTP 200 is an OAuth2ResponseError %s', (sent, expected) => {
		const error = thrownBy(() =>
			readAnswer(profile, { ok: false, error: sent }, { phase: 'refreshToken' }),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({
			error: expected,
			status: 200,
			errorDescription: sent === expected ? undefined : sent,
		});
	});

	it('over the wire: a spent refresh token is invalid_grant', async () => {
		const { error } = await exchange(
			server,
			profile,
			json(200, { ok: false, error: 'invalid_refresh_token' }),
			{ grant: refreshTokenGrant({ refreshToken: 'xoxe-1-My0xLTE3' }) },
		);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 200 });
	});
});
