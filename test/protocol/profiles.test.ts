import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, OAuth2ResponseError } from '../../src/errors/index.js';
import { clientSecretPost } from '../../src/protocol/client-authentication.js';
import {
	authorizationCodeGrant,
	clientCredentialsGrant,
	deviceCodeGrant,
	fbExchangeTokenGrant,
	refreshTokenGrant,
} from '../../src/protocol/grants.js';
import {
	defineProfile,
	type ProviderProfile,
	runTokenRequestHooks,
	runTokenResponseHooks,
	type TokenHttpResponse,
	tokenPhaseOf,
} from '../../src/protocol/profile.js';
import { facebook, github } from '../../src/protocol/profiles/index.js';
import {
	buildTokenRequest,
	decodeTokenResponseBody,
	type TokenRequestParts,
	toFetchArguments,
} from '../../src/protocol/token-request.js';
import { parseTokenResponse } from '../../src/protocol/token-response.js';

const requestedAt = Date.UTC(2026, 0, 1);
const endpoint = 'https://as.example/token';

const answer = (body: unknown, status = 200): TokenHttpResponse => ({
	status,
	headers: new Headers(),
	body,
});

/** What the session does with an answer: the profile's response hooks, then the parser. */
function readAnswer(profile: ProviderProfile, body: unknown, status = 200) {
	const response = runTokenResponseHooks(profile, 'accessToken', answer(body, status));
	return parseTokenResponse(response.body, {
		requestedAt,
		status: response.status,
		scopeSeparator: profile.scopeSeparator,
	});
}

function request(): TokenRequestParts {
	return {
		url: new URL(endpoint),
		method: 'POST',
		headers: new Headers(),
		params: new URLSearchParams(),
	};
}

describe('defineProfile', () => {
	it('returns a frozen copy, hook lists included', () => {
		const hooks = [() => {}];
		const profile = defineProfile({ name: 'x', hooks: { accessTokenRequest: hooks } });
		hooks.push(() => {});
		expect(profile.hooks?.accessTokenRequest).toHaveLength(1);
		expect(Object.isFrozen(profile)).toBe(true);
		expect(Object.isFrozen(profile.hooks)).toBe(true);
		expect(Object.isFrozen(profile.hooks?.accessTokenRequest)).toBe(true);
	});

	it.each([
		['no name', { name: '' }],
		['a semicolon separator', { name: 'x', scopeSeparator: ';' }],
		['a PUT token endpoint', { name: 'x', tokenEndpointMethod: 'PUT' }],
		['an unknown hook phase', { name: 'x', hooks: { beforeLunch: [] } }],
		['a hook that is not a function', { name: 'x', hooks: { accessTokenResponse: ['nope'] } }],
		['hooks not in a list', { name: 'x', hooks: { protectedRequest: () => {} } }],
	])('refuses %s', (_, profile) => {
		expect(() => defineProfile(profile as never)).toThrow(InvalidOptionsError);
	});
});

describe('running hooks', () => {
	it.each([
		[refreshTokenGrant({ refreshToken: 'r' }), 'refreshToken'],
		[authorizationCodeGrant({ code: 'c' }), 'accessToken'],
		[deviceCodeGrant({ deviceCode: 'd' }), 'accessToken'],
	] as const)('picks the phase from the grant (%#)', (grant, phase) => {
		expect(tokenPhaseOf(grant)).toBe(phase);
	});

	it('runs the request hooks of the phase, in order, awaiting each', async () => {
		const calls: string[] = [];
		const profile = defineProfile({
			name: 'x',
			hooks: {
				accessTokenRequest: [
					async (r) => {
						await new Promise((resolve) => setTimeout(resolve, 5));
						r.params.set('first', '1');
						calls.push('access 1');
					},
					(r) => {
						calls.push(`access 2 sees first=${r.params.get('first')}`);
					},
				],
				refreshTokenRequest: [() => void calls.push('refresh')],
			},
		});
		await runTokenRequestHooks(profile, 'accessToken', request());
		expect(calls).toEqual(['access 1', 'access 2 sees first=1']);
		await runTokenRequestHooks(profile, 'refreshToken', request());
		expect(calls).toHaveLength(3);
		await expect(
			runTokenRequestHooks(undefined, 'accessToken', request()),
		).resolves.toBeUndefined();
	});

	it('response hooks may replace the answer or leave it, in order', () => {
		const profile = defineProfile({
			name: 'x',
			hooks: {
				refreshTokenResponse: [
					(r) => ({ ...r, body: { wrapped: r.body } }),
					() => undefined,
					(r) => ({ ...r, status: r.status + 1 }),
				],
			},
		});
		const result = runTokenResponseHooks(profile, 'refreshToken', answer('raw'));
		expect(result).toMatchObject({ status: 201, body: { wrapped: 'raw' } });
		expect(runTokenResponseHooks(profile, 'accessToken', answer('raw')).body).toBe('raw');
	});
});

describe('github', () => {
	it('joins and splits scopes with commas, and asks for JSON', async () => {
		const built = await buildTokenRequest({
			tokenEndpoint: endpoint,
			grant: clientCredentialsGrant({ scope: ['repo', 'gist'] }),
			scopeSeparator: github.scopeSeparator,
		});
		expect(built.params.get('scope')).toBe('repo,gist');
		built.headers.set('accept', '*/*');
		await runTokenRequestHooks(github, 'refreshToken', built);
		expect(built.headers.get('accept')).toBe('application/json');
		const token = readAnswer(github, { access_token: 'gho_1', scope: 'repo,gist' });
		expect(token.scope).toEqual(['repo', 'gist']);
	});

	it.each([
		['bad_verification_code', 'invalid_grant'],
		['bad_refresh_token', 'invalid_grant'],
		['incorrect_client_credentials', 'invalid_client'],
		['unverified_user_email', 'unverified_user_email'],
	])('an error %s with HTTP 200 is an OAuth2ResponseError %s', (sent, expected) => {
		let error: unknown;
		try {
			readAnswer(github, { error: sent, error_description: 'The code passed is incorrect.' });
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: expected, status: 200 });
		expect((error as OAuth2ResponseError).message).toContain(sent);
	});
});

describe('facebook', () => {
	it('sends its token requests with GET, parameters in the query', async () => {
		expect(facebook.tokenEndpointMethod).toBe('GET');
		const built = await buildTokenRequest({
			tokenEndpoint: 'https://graph.facebook.com/oauth/access_token',
			grant: fbExchangeTokenGrant({ fbExchangeToken: 'short' }),
			clientAuthentication: clientSecretPost('app', 'shh'),
			method: facebook.tokenEndpointMethod,
		});
		const [url, init] = toFetchArguments(built);
		expect(init.body).toBeUndefined();
		expect(new URL(url).searchParams.toString()).toBe(
			'grant_type=fb_exchange_token&fb_exchange_token=short&client_id=app&client_secret=shh',
		);
	});

	it('reads the legacy text/plain form with expires into an expiry', () => {
		const body = decodeTokenResponseBody('access_token=EAAB1&expires=5183999', 'text/plain');
		const token = readAnswer(facebook, body);
		expect(token.accessToken).toBe('EAAB1');
		expect(token.expiresAt).toBe(requestedAt + 5_183_999_000);
		expect(token.extra).toEqual({});
	});

	it('leaves expires_in alone when the answer has one', () => {
		const token = readAnswer(facebook, { access_token: 'EAAB1', expires_in: 60, expires: 99 });
		expect(token.expiresAt).toBe(requestedAt + 60_000);
	});

	it('splits comma scopes', () => {
		expect(
			readAnswer(facebook, { access_token: 'EAAB1', scope: 'email,public_profile' }).scope,
		).toEqual(['email', 'public_profile']);
	});
});
