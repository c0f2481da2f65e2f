import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import {
	type AuthorizationUrlOptions,
	authorizationUrl,
} from '../../src/protocol/authorization-url.js';
import { computeCodeChallenge } from '../../src/protocol/pkce.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { auth0, github, google, microsoft } from '../../src/protocol/profiles/index.js';

const endpoint = 'https://auth.example.com/authorize';
const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const redirect = 'https%3A%2F%2Fapp.example.com%2Fcallback';

const base = {
	authorizationEndpoint: endpoint,
	clientId: 'app',
	redirectUri: 'https://app.example.com/callback',
	state: 'xyz',
} satisfies AuthorizationUrlOptions;

describe('authorizationUrl: the exact request', () => {
	it.each<[string, Partial<AuthorizationUrlOptions>, string]>([
		[
			'code with PKCE S256 (the default)',
			{ scope: ['openid', 'profile'], codeVerifier: verifier },
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=openid+profile&state=xyz&code_challenge=${challenge}&code_challenge_method=S256`,
		],
		[
			'code with PKCE plain',
			{ pkce: 'plain', codeVerifier: verifier },
			`response_type=code&client_id=app&redirect_uri=${redirect}&state=xyz&code_challenge=${verifier}&code_challenge_method=plain`,
		],
		[
			'code without PKCE',
			{ pkce: false, scope: 'read' },
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=read&state=xyz`,
		],
		[
			'implicit (no PKCE by default)',
			{ responseType: 'token', scope: 'read write' },
			`response_type=token&client_id=app&redirect_uri=${redirect}&scope=read+write&state=xyz`,
		],
		[
			'a scope list joined by spaces',
			{ pkce: false, scope: ['read', 'write', 'admin:org'] },
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=read+write+admin%3Aorg&state=xyz`,
		],
		[
			'a scope list joined by commas (GitHub)',
			{ pkce: false, scope: ['user:email', 'repo'], scopeSeparator: ',' },
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=user%3Aemail%2Crepo&state=xyz`,
		],
		[
			'a scope string kept as given',
			{ pkce: false, scope: 'user:email, repo', scopeSeparator: ',' },
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=user%3Aemail%2C+repo&state=xyz`,
		],
		[
			'an empty scope list sends no scope',
			{ pkce: false, scope: [] },
			`response_type=code&client_id=app&redirect_uri=${redirect}&state=xyz`,
		],
		[
			'extra params after ours, undefined ones left out (Google, Auth0)',
			{
				pkce: false,
				params: {
					access_type: 'offline',
					prompt: 'consent',
					audience: 'https://api.example.com',
					login_hint: undefined,
				},
			},
			`response_type=code&client_id=app&redirect_uri=${redirect}&state=xyz&access_type=offline&prompt=consent&audience=https%3A%2F%2Fapi.example.com`,
		],
		[
			'a nonce',
			{ pkce: false, scope: 'openid', nonce: 'n-0S6_WzA2Mj' },
			`response_type=code&client_id=app&redirect_uri=${redirect}&scope=openid&state=xyz&nonce=n-0S6_WzA2Mj`,
		],
	])('%s', async (_, options, query) => {
		const request = await authorizationUrl({ ...base, ...options });
		expect(request.url).toBe(`${endpoint}?${query}`);
	});

	it('without a redirect URI sends none (GitHub uses the registered one)', async () => {
		const request = await authorizationUrl({
			authorizationEndpoint: 'https://github.com/login/oauth/authorize',
			clientId: 'Iv1.abc',
			scope: 'repo',
			state: 's',
			pkce: false,
		});
		expect(request.url).toBe(
			'https://github.com/login/oauth/authorize?response_type=code&client_id=Iv1.abc&scope=repo&state=s',
		);
	});

	it('keeps the query the endpoint already has', async () => {
		const request = await authorizationUrl({
			...base,
			authorizationEndpoint: 'https://login.example.com/oauth2/authorize?p=B2C_1_signin&x=a%20b',
			pkce: false,
		});
		const url = new URL(request.url);
		expect(url.origin + url.pathname).toBe('https://login.example.com/oauth2/authorize');
		expect([...url.searchParams]).toEqual([
			['p', 'B2C_1_signin'],
			['x', 'a b'],
			['response_type', 'code'],
			['client_id', 'app'],
			['redirect_uri', 'https://app.example.com/callback'],
			['state', 'xyz'],
		]);
	});

	it('extra params replace a value the endpoint query already has, without repeating it', async () => {
		const request = await authorizationUrl({
			...base,
			authorizationEndpoint: 'https://auth.example.com/authorize?prompt=login',
			pkce: false,
			params: { prompt: 'consent' },
		});
		expect(new URL(request.url).searchParams.getAll('prompt')).toEqual(['consent']);
	});

	it("accepts a URL object and leaves the caller's object as it was", async () => {
		const given = new URL(endpoint);
		const request = await authorizationUrl({ ...base, authorizationEndpoint: given });
		expect(request.url.startsWith(`${endpoint}?response_type=code&`)).toBe(true);
		expect(given.href).toBe(endpoint);
	});
});

describe('authorizationUrl: what it returns', () => {
	it('returns the given state, verifier and nonce', async () => {
		const request = await authorizationUrl({ ...base, codeVerifier: verifier, nonce: 'n1' });
		expect(request).toEqual({
			url: expect.any(String),
			state: 'xyz',
			codeVerifier: verifier,
			nonce: 'n1',
		});
	});

	it('generates a state of at least 128 bits and a fresh verifier whose challenge is sent', async () => {
		const request = await authorizationUrl({ authorizationEndpoint: endpoint, clientId: 'app' });
		expect(request.state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
		expect(request.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
		expect(request.nonce).toBeUndefined();
		const query = new URL(request.url).searchParams;
		expect(query.get('state')).toBe(request.state);
		expect(query.get('code_challenge')).toBe(await computeCodeChallenge(request.codeVerifier!));
		expect(query.get('code_challenge_method')).toBe('S256');

		const again = await authorizationUrl({ authorizationEndpoint: endpoint, clientId: 'app' });
		expect(again.state).not.toBe(request.state);
		expect(again.codeVerifier).not.toBe(request.codeVerifier);
	});

	it('has no verifier without PKCE', async () => {
		for (const options of [{ pkce: false }, { responseType: 'token' }] as const) {
			const request = await authorizationUrl({ ...base, ...options });
			expect(request.codeVerifier).toBeUndefined();
			expect(new URL(request.url).searchParams.has('code_challenge')).toBe(false);
		}
	});

	it('never puts the verifier itself in an S256 URL', async () => {
		const request = await authorizationUrl({ ...base, codeVerifier: verifier });
		expect(request.url).not.toContain(verifier);
	});
});

describe('authorizationUrl: refused options', () => {
	it.each<[string, Partial<AuthorizationUrlOptions>, RegExp]>([
		['a relative endpoint', { authorizationEndpoint: '/authorize' }, /authorizationEndpoint/],
		[
			'an endpoint that is not a URL',
			{ authorizationEndpoint: 'not a url' },
			/authorizationEndpoint/,
		],
		['an endpoint with a fragment', { authorizationEndpoint: `${endpoint}#x` }, /fragment/],
		['an endpoint with an empty fragment', { authorizationEndpoint: `${endpoint}#` }, /fragment/],
		[
			'an endpoint URL object with a fragment',
			{ authorizationEndpoint: new URL(`${endpoint}#x`) },
			/fragment/,
		],
		['a javascript: endpoint', { authorizationEndpoint: 'javascript:alert(1)' }, /http/],
		['an empty client id', { clientId: '' }, /clientId/],
		['a relative redirect URI', { redirectUri: '/callback' }, /redirectUri/],
		['a redirect URI with a fragment', { redirectUri: 'https://app.example.com/cb#x' }, /fragment/],
		['an empty state', { state: '' }, /state/],
		['a scope containing the separator', { scope: ['read write'] }, /scope/],
		['an empty scope in a list', { scope: ['read', ''] }, /scope/],
		[
			'a scope with a comma under the comma separator',
			{ scope: ['a,b'], scopeSeparator: ',' },
			/scope/,
		],
		['PKCE with the implicit flow', { responseType: 'token', pkce: 'S256' }, /pkce/],
		['a verifier without PKCE', { pkce: false, codeVerifier: verifier }, /codeVerifier/],
		['a bad verifier', { codeVerifier: 'short' }, /verifier/],
		['an unknown response type', { responseType: 'id_token' as 'code' }, /responseType/],
		['an unknown PKCE method', { pkce: 'S512' as 'S256' }, /pkce/],
		['an empty nonce', { nonce: '' }, /nonce/],
	])('%s', async (_, options, message) => {
		const error = await authorizationUrl({ ...base, ...options }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect((error as Error).message).toMatch(message);
	});

	it.each([
		'client_id',
		'state',
		'code_challenge',
		'code_challenge_method',
		'response_type',
		'redirect_uri',
		'scope',
		'nonce',
	])('extra params cannot set %s', async (name) => {
		const error = await authorizationUrl({ ...base, params: { [name]: 'evil' } }).catch(
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect((error as Error).message).toContain(name);
	});

	it.each(['client_id', 'state', 'code_challenge'])(
		'the endpoint query cannot set %s either',
		async (name) => {
			await expect(
				authorizationUrl({ ...base, authorizationEndpoint: `${endpoint}?${name}=evil` }),
			).rejects.toBeInstanceOf(InvalidOptionsError);
		},
	);

	it('does not echo a bad verifier', async () => {
		const bad = `${verifier} `;
		const error = await authorizationUrl({ ...base, codeVerifier: bad }).catch((e: unknown) => e);
		expect((error as Error).message).not.toContain(verifier);
	});
});

describe("authorizationUrl with a profile: what the session's authorizationUrl() does, without one", () => {
	const query = async (options: Partial<AuthorizationUrlOptions>) =>
		new URL((await authorizationUrl({ ...base, ...options })).url).searchParams;

	it.each([
		['a list', ['openid', 'User.Read'], 'openid User.Read offline_access'],
		['a string', 'openid User.Read', 'openid User.Read offline_access'],
		['a scope that has it', ['offline_access', 'openid'], 'offline_access openid'],
		['no scope', undefined, 'offline_access'],
	])('microsoft adds offline_access, for a refresh token, to %s', async (_, scope, expected) => {
		expect((await query({ profile: microsoft, scope })).get('scope')).toBe(expected);
	});

	it("puts the profile's parameters first, the caller's winning", async () => {
		const sent = await query({ profile: google, params: { prompt: 'select_account' } });
		expect(sent.get('access_type')).toBe('offline');
		expect(sent.get('prompt')).toBe('select_account');
		expect((await query({ profile: auth0({ audience: 'https://api' }) })).get('audience')).toBe(
			'https://api',
		);
	});

	it("joins with the profile's separator unless the caller gives one", async () => {
		expect((await query({ profile: github, scope: ['repo', 'user'] })).get('scope')).toBe(
			'repo,user',
		);
		const commas = defineProfile({ name: 'x', scopeSeparator: ',', authorizationScopes: ['c'] });
		expect((await query({ profile: commas, scope: 'a,b' })).get('scope')).toBe('a,b,c');
		expect(
			(await query({ profile: github, scope: ['repo', 'user'], scopeSeparator: ' ' })).get('scope'),
		).toBe('repo user');
	});

	it("refuses a profile parameter this function owns, as it refuses the caller's", async () => {
		const bad = defineProfile({ name: 'x', authorizationParams: { state: 'fixed' } });
		await expect(authorizationUrl({ ...base, profile: bad })).rejects.toBeInstanceOf(
			InvalidOptionsError,
		);
	});
});

describe('authorizationUrl for step-up authentication (RFC 9470 §4, OpenID Connect acr_values and max_age)', () => {
	it('sends acr_values, space-separated in the given order, and max_age, after nonce', async () => {
		const { url } = await authorizationUrl({
			...base,
			pkce: false,
			nonce: 'n',
			acrValues: ['urn:mace:incommon:iap:silver', 'phr'],
			maxAge: 0,
		});
		expect(new URL(url).search).toBe(
			`?response_type=code&client_id=app&redirect_uri=${redirect}&state=xyz&nonce=n&acr_values=urn%3Amace%3Aincommon%3Aiap%3Asilver+phr&max_age=0`,
		);
	});

	it('takes acr_values as a string too, and leaves out what is not given', async () => {
		const one = new URL((await authorizationUrl({ ...base, acrValues: 'phr' })).url).searchParams;
		expect([one.get('acr_values'), one.has('max_age')]).toEqual(['phr', false]);
		const none = new URL((await authorizationUrl({ ...base, acrValues: [] })).url).searchParams;
		expect(none.has('acr_values')).toBe(false);
	});

	it.each<[string, Partial<AuthorizationUrlOptions>]>([
		['a max_age below 0', { maxAge: -1 }],
		['a max_age that is not whole', { maxAge: 1.5 }],
		['an acr value with a space', { acrValues: ['a b'] }],
		['acr_values in params as well', { acrValues: ['phr'], params: { acr_values: 'x' } }],
		['max_age in params as well', { maxAge: 5, params: { max_age: '6' } }],
	])('refuses %s', async (_, options) => {
		await expect(authorizationUrl({ ...base, ...options })).rejects.toBeInstanceOf(
			InvalidOptionsError,
		);
	});
});
