import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../../src/errors/index.js';
import { clientSecretPost } from '../../../src/protocol/client-authentication.js';
import { fbExchangeTokenGrant } from '../../../src/protocol/grants.js';
import { facebook } from '../../../src/protocol/profiles/index.js';
import { decodeTokenResponseBody } from '../../../src/protocol/token-request.js';
import { json, text, useScriptedServer } from '../../helpers/scripted-server.js';
import { exchange, readAnswer, requestedAt, thrownBy } from './support.js';

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

	// The Graph API's error form ("Handle errors" in Facebook's documentation): an object, not a code.
	const failure = (code: number, message: string, subcode?: number) => ({
		error: {
			message,
			type: 'OAuthException',
			code,
			...(subcode === undefined ? {} : { error_subcode: subcode }),
			fbtrace_id: 'AbCdEf1',
		},
	});

	it.each([
		[
			190,
			463,
			'Error validating access token: Session has expired on Tuesday, 05-Jun-18.',
			'invalid_grant',
		],
		[
			190,
			460,
			'Error validating access token: The user has changed their password.',
			'invalid_grant',
		],
		[190, undefined, 'Malformed access token', 'invalid_grant'],
		[102, undefined, 'Session key invalid or no longer valid', 'invalid_grant'],
		[100, 36007, 'This authorization code has expired.', 'invalid_grant'],
		[100, 36009, 'This authorization code has been used.', 'invalid_grant'],
		[101, undefined, 'Error validating application. Invalid application ID.', 'invalid_client'],
		[100, undefined, 'Missing redirect_uri parameter.', 'invalid_request'],
		[4, undefined, 'Application request limit reached', 'OAuthException'],
	])('code %i (subcode %s) is an OAuth2ResponseError: %s', (code, subcode, message, expected) => {
		const error = thrownBy(() =>
			readAnswer(facebook, failure(code, message, subcode), { status: 400 }),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		const sub = subcode === undefined ? '' : `, subcode ${subcode}`;
		expect(error).toMatchObject({
			error: expected,
			status: 400,
			errorDescription: `${message} (OAuthException, code ${code}${sub}, fbtrace_id AbCdEf1)`,
		});
	});

	it('an error object with neither code nor message is left to the parser', () => {
		const error = thrownBy(() =>
			readAnswer(facebook, { error: { fbtrace_id: 'x' } }, { status: 400 }),
		);
		expect(error).not.toBeInstanceOf(OAuth2ResponseError);
	});

	it('over the wire: an expired token in the exchange is invalid_grant, its message kept', async () => {
		const { error } = await exchange(
			server,
			facebook,
			json(400, failure(190, 'Error validating access token: Session has expired.', 463)),
			{ grant: fbExchangeTokenGrant({ fbExchangeToken: 'EAABshortlived' }) },
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({
			error: 'invalid_grant',
			status: 400,
			errorDescription:
				'Error validating access token: Session has expired. (OAuthException, code 190, subcode 463, fbtrace_id AbCdEf1)',
		});
	});

	it('over the wire: a token the message quotes is redacted', async () => {
		const { error } = await exchange(
			server,
			facebook,
			json(400, failure(190, 'Malformed access token EAABshortlived')),
			{ grant: fbExchangeTokenGrant({ fbExchangeToken: 'EAABshortlived' }) },
		);
		expect(error).toMatchObject({ error: 'invalid_grant' });
		expect(String((error as Error).message)).not.toContain('EAABshortlived');
		expect((error as OAuth2ResponseError).errorDescription).toContain('[redacted]');
	});

	it('splits comma scopes', () => {
		expect(
			readAnswer(facebook, { access_token: 'EAAB1', scope: 'email,public_profile' }).scope,
		).toEqual(['email', 'public_profile']);
	});
});
