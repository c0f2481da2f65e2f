import { describe, expect, it } from 'vitest';
import { clientSecretPost } from '../../../src/protocol/client-authentication.js';
import { fbExchangeTokenGrant } from '../../../src/protocol/grants.js';
import { facebook } from '../../../src/protocol/profiles/index.js';
import { decodeTokenResponseBody } from '../../../src/protocol/token-request.js';
import { json, text, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt } from './support.js';

const server = useScriptedServer();

describe('facebook', () => {
	it('sends a long-lived token exchange with GET, parameters in the query', async () => {
		const { hit, result } = await exchange(
			server,
			facebook,
			json(200, { access_token: 'EAAB2', token_type: 'bearer', expires_in: 5183944 }),
			{
				grant: fbExchangeTokenGrant({ fbExchangeToken: 'short' }),
				clientAuthentication: clientSecretPost('app', 'shh+1'),
			},
		);
		expect(hit.method).toBe('GET');
		expect(hit.body).toBe('');
		expect(hit.url).toBe(
			'/token?grant_type=fb_exchange_token&fb_exchange_token=short&client_id=app&client_secret=shh%2B1',
		);
		expect(result?.expiresAt).toBeGreaterThan(Date.now() + 5_183_000_000);
	});

	it('over the wire: reads the legacy text/plain form with expires', async () => {
		const { result } = await exchange(
			server,
			facebook,
			text(200, 'access_token=EAAB1&expires=5183999', 'text/plain; charset=UTF-8'),
			{ grant: fbExchangeTokenGrant({ fbExchangeToken: 'short' }) },
		);
		expect(result?.accessToken).toBe('EAAB1');
		expect(result?.lifetime).toBe(5_183_999_000);
		expect(result?.extra).toEqual({});
	});

	it.each([
		[
			'the legacy form with expires',
			decodeTokenResponseBody('access_token=EAAB1&expires=5183999', 'text/plain'),
			requestedAt + 5_183_999_000,
		],
		[
			'expires_in, with expires ignored',
			{ access_token: 'EAAB1', expires_in: 60, expires: 99 },
			requestedAt + 60_000,
		],
		['no expiry at all', { access_token: 'EAAB1' }, undefined],
	])('reads %s', (_, body, expiresAt) => {
		expect(readAnswer(facebook, body).expiresAt).toBe(expiresAt);
	});

	it('splits comma scopes', () => {
		expect(
			readAnswer(facebook, { access_token: 'EAAB1', scope: 'email,public_profile' }).scope,
		).toEqual(['email', 'public_profile']);
	});
});
