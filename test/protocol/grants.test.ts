import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import {
	authorizationCodeGrant,
	clientCredentialsGrant,
	deviceCodeGrant,
	extensionGrant,
	fbExchangeTokenGrant,
	formatScope,
	type Grant,
	jwtBearerGrant,
	passwordGrant,
	refreshTokenGrant,
	tokenExchangeGrant,
} from '../../src/protocol/grants.js';

function paramsOf(grant: Grant, scopeSeparator?: ' ' | ','): string {
	const params = new URLSearchParams();
	grant.apply(params, { scopeSeparator });
	return params.toString();
}

describe('grants: exact parameters', () => {
	it.each<[string, Grant, string, string]>([
		[
			'authorization code with every option',
			authorizationCodeGrant({
				code: 'c0de',
				redirectUri: 'https://app.example/cb',
				codeVerifier: 'v3rifier',
			}),
			'authorization_code',
			'code=c0de&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=v3rifier',
		],
		[
			'authorization code alone',
			authorizationCodeGrant({ code: 'c0de' }),
			'authorization_code',
			'code=c0de',
		],
		['client credentials', clientCredentialsGrant(), 'client_credentials', ''],
		[
			'client credentials with scopes',
			clientCredentialsGrant({ scope: ['read', 'write'] }),
			'client_credentials',
			'scope=read+write',
		],
		[
			'client credentials with a scope string kept as given',
			clientCredentialsGrant({ scope: 'read,write' }),
			'client_credentials',
			'scope=read%2Cwrite',
		],
		[
			'password',
			passwordGrant({ username: 'alice', password: 'p@ss w', scope: 'profile' }),
			'password',
			'username=alice&password=p%40ss+w&scope=profile',
		],
		[
			'refresh token',
			refreshTokenGrant({ refreshToken: 'rt-1', scope: ['a'] }),
			'refresh_token',
			'refresh_token=rt-1&scope=a',
		],
		[
			'device code (RFC 8628)',
			deviceCodeGrant({ deviceCode: 'dc-1' }),
			'urn:ietf:params:oauth:grant-type:device_code',
			'device_code=dc-1',
		],
		[
			'token exchange (RFC 8693) with every option',
			tokenExchangeGrant({
				subjectToken: 'st',
				subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token',
				actorToken: 'at',
				actorTokenType: 'urn:ietf:params:oauth:token-type:jwt',
				requestedTokenType: 'urn:ietf:params:oauth:token-type:refresh_token',
				audience: ['svc-a', 'svc-b'],
				resource: 'https://api.example/',
				scope: ['x', 'y'],
			}),
			'urn:ietf:params:oauth:grant-type:token-exchange',
			'subject_token=st&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token' +
				'&actor_token=at&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt' +
				'&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Arefresh_token' +
				'&audience=svc-a&audience=svc-b&resource=https%3A%2F%2Fapi.example%2F&scope=x+y',
		],
		[
			'token exchange, required fields only',
			tokenExchangeGrant({ subjectToken: 'st', subjectTokenType: 'urn:x' }),
			'urn:ietf:params:oauth:grant-type:token-exchange',
			'subject_token=st&subject_token_type=urn%3Ax',
		],
		[
			'JWT bearer (RFC 7523)',
			jwtBearerGrant({ assertion: 'a.b.c', scope: 'openid' }),
			'urn:ietf:params:oauth:grant-type:jwt-bearer',
			'assertion=a.b.c&scope=openid',
		],
		[
			"Facebook's fb_exchange_token",
			fbExchangeTokenGrant({ fbExchangeToken: 'short-lived' }),
			'fb_exchange_token',
			'fb_exchange_token=short-lived',
		],
		[
			'an extension grant: lists repeat, scope joins, undefined is left out',
			extensionGrant('urn:example:grant', {
				a: '1',
				b: ['2', '3'],
				c: undefined,
				scope: ['x', 'y'],
			}),
			'urn:example:grant',
			'a=1&b=2&b=3&scope=x+y',
		],
	])('%s', (_, grant, grantType, expected) => {
		expect(grant.grantType).toBe(grantType);
		expect(paramsOf(grant)).toBe(expected);
	});

	it.each([
		clientCredentialsGrant({ scope: ['repo', 'gist'] }),
		passwordGrant({ username: 'u', password: 'p', scope: ['repo', 'gist'] }),
		refreshTokenGrant({ refreshToken: 'r', scope: ['repo', 'gist'] }),
		jwtBearerGrant({ assertion: 'a', scope: ['repo', 'gist'] }),
		tokenExchangeGrant({ subjectToken: 's', subjectTokenType: 't', scope: ['repo', 'gist'] }),
		extensionGrant('urn:x', { scope: ['repo', 'gist'] }),
	])('joins scope lists with the separator it is applied with (%#)', (grant) => {
		expect(new URLSearchParams(paramsOf(grant, ',')).get('scope')).toBe('repo,gist');
		expect(new URLSearchParams(paramsOf(grant)).get('scope')).toBe('repo gist');
	});

	it('sets (does not append) its parameters, so applying twice sends each once', () => {
		const params = new URLSearchParams();
		const grant = refreshTokenGrant({ refreshToken: 'rt-1' });
		grant.apply(params);
		grant.apply(params);
		expect(params.toString()).toBe('refresh_token=rt-1');
	});

	it('formatScope joins lists and keeps strings', () => {
		expect(formatScope(['a', 'b'])).toBe('a b');
		expect(formatScope(['a', 'b'], ',')).toBe('a,b');
		expect(formatScope('a b', ',')).toBe('a b');
		expect(formatScope(undefined)).toBeUndefined();
	});
});

describe('grants: validation and secrets', () => {
	it.each<[string, () => Grant]>([
		['an empty code', () => authorizationCodeGrant({ code: '' })],
		['a missing password', () => passwordGrant({ username: 'u' } as never)],
		['a numeric refresh token', () => refreshTokenGrant({ refreshToken: 42 as never })],
		['an empty device code', () => deviceCodeGrant({ deviceCode: '' })],
		['a missing subject token type', () => tokenExchangeGrant({ subjectToken: 's' } as never)],
		[
			'an actor token without its type',
			() => tokenExchangeGrant({ subjectToken: 's', subjectTokenType: 't', actorToken: 'a' }),
		],
		['an empty assertion', () => jwtBearerGrant({ assertion: '' })],
		['an empty fb_exchange_token', () => fbExchangeTokenGrant({ fbExchangeToken: '' })],
		['an empty extension grant type', () => extensionGrant('')],
		['an extension parameter named grant_type', () => extensionGrant('x', { grant_type: 'y' })],
		['a scope list with a space in a scope', () => clientCredentialsGrant({ scope: ['a b'] })],
	])('refuses %s with InvalidOptionsError', (_, make) => {
		expect(make).toThrow(InvalidOptionsError);
	});

	it('keeps secrets out of JSON, inspect and validation messages', () => {
		const secret = 'S3CRET-value';
		const grants = [
			authorizationCodeGrant({ code: secret, codeVerifier: secret }),
			passwordGrant({ username: 'alice', password: secret }),
			refreshTokenGrant({ refreshToken: secret }),
			deviceCodeGrant({ deviceCode: secret }),
			tokenExchangeGrant({
				subjectToken: secret,
				subjectTokenType: 't',
				actorToken: secret,
				actorTokenType: 't',
			}),
			jwtBearerGrant({ assertion: secret }),
			fbExchangeTokenGrant({ fbExchangeToken: secret }),
		];
		for (const grant of grants) {
			expect(Object.isFrozen(grant)).toBe(true);
			expect(`${JSON.stringify(grant)} ${inspect(grant, { showHidden: true })}`).not.toContain(
				secret,
			);
			expect(paramsOf(grant)).toContain(secret);
		}
		let message = '';
		try {
			passwordGrant({ username: secret, password: 17 as never });
		} catch (error) {
			message = `${(error as Error).message} ${JSON.stringify(error)}`;
		}
		expect(message).toContain('password');
		expect(message).not.toContain(secret);
	});
});
