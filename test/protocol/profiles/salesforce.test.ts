import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { refreshTokenGrant } from '../../../src/protocol/grants.js';
import { salesforce } from '../../../src/protocol/profiles/index.js';
import { json, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer } from './support.js';

const server = useScriptedServer();

const common = {
	id: 'https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P',
	issued_at: '1278448832702',
	instance_url: 'https://yourInstance.salesforce.com/',
	signature: '0CmxinZir53Yex7nE0TD+zMpvIWYGb/bdJh6XfOH6EQ=',
	access_token: '00Dx0000000BV7z!AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpwBMmbRcgKFmxOtvxjTrKW1',
	token_type: 'Bearer',
};

describe('salesforce', () => {
	it.each([
		[
			'a code exchange',
			{ ...common, refresh_token: '5Aep861TSESvWeug_xvFHRBTTbf', scope: 'id api refresh_token' },
		],
		['a refresh, without a refresh token', common],
	])('reads %s: no expiry, the org fields kept as sent', (_, body) => {
		const token = readAnswer(salesforce, body, { phase: 'refreshToken' });
		expect(token.expiresAt).toBeUndefined();
		expect(token.isExpired()).toBe(false);
		expect(token.refreshToken).toBe('refresh_token' in body ? body.refresh_token : undefined);
		expect(token.extra).toEqual({
			id: common.id,
			issued_at: '1278448832702',
			instance_url: 'https://yourInstance.salesforce.com/',
			signature: common.signature,
		});
	});

	it('an expired refresh token is invalid_grant', async () => {
		const { error } = await exchange(
			server,
			salesforce,
			json(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' }),
			{ grant: refreshTokenGrant({ refreshToken: '5Aep861TSESvWeug_xvFHRBTTbf' }) },
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
	});
});
