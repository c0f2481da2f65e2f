import { describe, expect, it } from 'vitest';
import { authorizationCodeGrant } from '../../../src/protocol/grants.js';
import { mailchimp } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer } from './support.js';

const server = useScriptedServer();

const answer = { access_token: '5c6ccc561059aa386da9d112215bae55', expires_in: 0, scope: null };

describe('mailchimp', () => {
	it.each([
		['expires_in: 0 and scope: null', answer],
		['a string "0"', { ...answer, expires_in: '0' }],
		['no expires_in at all', { access_token: answer.access_token }],
	])('reads %s as a token that never expires and cannot be refreshed', (_, body) => {
		const token = readAnswer(mailchimp, body);
		expect(token).toMatchObject({
			expiresAt: undefined,
			scope: undefined,
			refreshToken: undefined,
			tokenType: 'Bearer',
		});
		expect(token.isExpired(Number.MAX_SAFE_INTEGER)).toBe(false);
	});

	it('over the wire', async () => {
		const { result } = await exchange(server, mailchimp, json(200, answer), {
			grant: authorizationCodeGrant({ code: '1edf2b0f', redirectUri: 'https://app.example/cb' }),
		});
		expect(result?.accessToken).toBe(answer.access_token);
		expect(result?.extra).toEqual({});
	});
});
