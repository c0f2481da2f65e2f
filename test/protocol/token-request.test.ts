import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, TokenResponseError } from '../../src/errors/index.js';
import { clientSecretPost } from '../../src/protocol/client-authentication.js';
import {
	clientCredentialsGrant,
	passwordGrant,
	refreshTokenGrant,
} from '../../src/protocol/grants.js';
import { redactEchoedSecrets } from '../../src/protocol/redact.js';
import {
	buildTokenRequest,
	decodeTokenResponseBody,
	toFetchArguments,
} from '../../src/protocol/token-request.js';

const tokenEndpoint = 'https://as.example/oauth/token';

describe('buildTokenRequest', () => {
	it('sets grant_type, then the grant, then extra parameters, then client authentication', async () => {
		const seen: string[] = [];
		const request = await buildTokenRequest({
			tokenEndpoint,
			grant: refreshTokenGrant({ refreshToken: 'rt-1', scope: ['a', 'b'] }),
			params: { resource: 'https://api.example', skipped: undefined, scope: 'narrow' },
			clientAuthentication: (parts) => {
				seen.push(parts.params.toString());
				parts.params.set('client_id', 'cid');
				parts.headers.set('x-signed', 'yes');
			},
		});
		expect(seen).toEqual([
			'grant_type=refresh_token&refresh_token=rt-1&scope=narrow&resource=https%3A%2F%2Fapi.example',
		]);
		expect(request.params.get('client_id')).toBe('cid');
		expect(request.headers.get('x-signed')).toBe('yes');
		expect(request.method).toBe('POST');
		expect(request.url.href).toBe(tokenEndpoint);
	});

	it('always asks for JSON and keeps the caller headers', async () => {
		const request = await buildTokenRequest({
			tokenEndpoint: new URL(tokenEndpoint),
			grant: clientCredentialsGrant(),
			headers: { accept: 'text/html', 'x-request-id': 'r1' },
		});
		expect(request.headers.get('accept')).toBe('application/json');
		expect(request.headers.get('x-request-id')).toBe('r1');
	});

	it('joins scope lists with the separator it is given', async () => {
		const request = await buildTokenRequest({
			tokenEndpoint,
			grant: clientCredentialsGrant({ scope: ['repo', 'gist'] }),
			scopeSeparator: ',',
		});
		expect(request.params.get('scope')).toBe('repo,gist');
	});

	it('copies the endpoint URL, so changing the request leaves the caller URL alone', async () => {
		const url = new URL(tokenEndpoint);
		const request = await buildTokenRequest({
			tokenEndpoint: url,
			grant: clientCredentialsGrant(),
		});
		request.url.searchParams.set('x', '1');
		expect(url.href).toBe(tokenEndpoint);
	});

	it.each([
		['a relative endpoint', { tokenEndpoint: '/token', grant: clientCredentialsGrant() }],
		['no grant', { tokenEndpoint }],
		['a bad method', { tokenEndpoint, grant: clientCredentialsGrant(), method: 'PUT' }],
	])('refuses %s', async (_, options) => {
		await expect(buildTokenRequest(options as never)).rejects.toThrow(InvalidOptionsError);
	});
});

describe('toFetchArguments', () => {
	it('POST: a form body, its content type, and redirects not followed', async () => {
		const parts = await buildTokenRequest({
			tokenEndpoint,
			grant: passwordGrant({ username: 'u', password: 'p w' }),
			clientAuthentication: clientSecretPost('cid', 'cs'),
		});
		const [url, init] = toFetchArguments(parts);
		expect(url).toBe(tokenEndpoint);
		expect(init.method).toBe('POST');
		expect(init.redirect).toBe('manual');
		expect(init.body).toBe(
			'grant_type=password&username=u&password=p+w&client_id=cid&client_secret=cs',
		);
		const headers = new Headers(init.headers);
		expect(headers.get('content-type')).toBe('application/x-www-form-urlencoded;charset=UTF-8');
		expect(headers.get('accept')).toBe('application/json');
		expect(parts.headers.has('content-type')).toBe(false);
	});

	it('GET: parameters in the query after the ones the endpoint has, no body', async () => {
		const parts = await buildTokenRequest({
			tokenEndpoint: `${tokenEndpoint}?v=2`,
			grant: clientCredentialsGrant(),
			clientAuthentication: clientSecretPost('cid', 'cs'),
			method: 'GET',
		});
		const [url, init] = toFetchArguments(parts);
		expect(url).toBe(
			`${tokenEndpoint}?v=2&grant_type=client_credentials&client_id=cid&client_secret=cs`,
		);
		expect(init.method).toBe('GET');
		expect(init.body).toBeUndefined();
		expect(init.redirect).toBe('manual');
		expect(new Headers(init.headers).has('content-type')).toBe(false);
		expect(parts.url.search).toBe('?v=2');
	});
});

describe('decodeTokenResponseBody', () => {
	it.each<[string, string, string | null, unknown]>([
		['JSON', '{"access_token":"a"}', 'application/json', { access_token: 'a' }],
		['JSON with a charset', '{"a":1}', 'application/json; charset=utf-8', { a: 1 }],
		['a +json type', '{"a":1}', 'application/problem+json', { a: 1 }],
		['JSON sent as text/plain', ' {"a":1}', 'text/plain', { a: 1 }],
		['JSON with no content type', '{"a":1}', null, { a: 1 }],
		[
			'a form',
			'access_token=a&expires=60&token_type=bearer',
			'application/x-www-form-urlencoded',
			{ access_token: 'a', expires: '60', token_type: 'bearer' },
		],
		[
			'a form sent as text/plain (old Facebook)',
			'access_token=a%2Bb&expires=5183999',
			'text/plain; charset=UTF-8',
			{ access_token: 'a+b', expires: '5183999' },
		],
		[
			'a form with a repeated key',
			'scope=a&scope=b',
			'application/x-www-form-urlencoded',
			{ scope: ['a', 'b'] },
		],
	])('reads %s', (_, text, contentType, expected) => {
		expect(decodeTokenResponseBody(text, contentType)).toEqual(expected);
	});

	it.each<[string, string, string | null]>([
		['truncated JSON', '{"access_token":"at-SECRET-1","exp', 'application/json'],
		['an HTML page', '<html>at-SECRET-1</html>', 'text/html'],
		['text that is no form', 'at-SECRET-1 is your token', 'text/plain'],
		['an empty body', '', 'application/json'],
		['an empty form', '', 'application/x-www-form-urlencoded'],
	])('refuses %s as unparseable, keeping the body out of sight', (_, text, contentType) => {
		let error: unknown;
		try {
			decodeTokenResponseBody(text, contentType, 200);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(TokenResponseError);
		expect(error).toMatchObject({ problem: 'unparseable', status: 200, body: text });
		const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error)}`;
		expect(shown).not.toContain('at-SECRET-1');
	});
});

describe('redactEchoedSecrets', () => {
	const params = new URLSearchParams({
		grant_type: 'password',
		username: 'alice',
		password: 'hunter2',
		client_secret: 'cs-9876',
		scope: 'abc',
	});

	it('replaces secrets the request carried in every field of an error answer', () => {
		const body = {
			error: 'invalid_grant',
			error_description: 'alice: hunter2 is wrong, and so is cs-9876 (scope abc)',
			error_uri: 'https://e.example/?p=hunter2',
			echoed: 'hunter2',
		};
		expect(redactEchoedSecrets(body, params)).toEqual({
			error: 'invalid_grant',
			error_description: 'alice: [redacted] is wrong, and so is [redacted] (scope abc)',
			error_uri: 'https://e.example/?p=[redacted]',
			echoed: '[redacted]',
		});
		expect(body.error_description).toContain('hunter2');
	});

	it('leaves answers without an error, and short values, as they are', () => {
		const success = { access_token: 'hunter2' };
		expect(redactEchoedSecrets(success, params)).toBe(success);
		const short = new URLSearchParams({ code: 'abc' });
		expect(redactEchoedSecrets({ error: 'x', error_description: 'abc' }, short)).toEqual({
			error: 'x',
			error_description: 'abc',
		});
	});
});

describe('decodeTokenResponseBody keeps a broken body out of what gets logged', () => {
	it('a JSON syntax error does not carry the body in a cause', () => {
		let error: unknown;
		try {
			decodeTokenResponseBody('SECRETTOKEN1234', 'application/json');
		} catch (e) {
			error = e;
		}
		expect(inspect(error, { depth: 5 })).not.toContain('SECRETTOKEN1234');
		expect(JSON.stringify(error)).not.toContain('SECRETTOKEN1234');
	});
});
