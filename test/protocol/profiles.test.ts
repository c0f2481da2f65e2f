import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import {
	authorizationCodeGrant,
	deviceCodeGrant,
	refreshTokenGrant,
} from '../../src/protocol/grants.js';
import {
	defineProfile,
	runTokenRequestHooks,
	runTokenResponseHooks,
	type TokenHttpResponse,
	tokenPhaseOf,
} from '../../src/protocol/profile.js';
import type { TokenRequestParts } from '../../src/protocol/token-request.js';

const endpoint = 'https://as.example/token';

const answer = (body: unknown, status = 200): TokenHttpResponse => ({
	status,
	headers: new Headers(),
	body,
});

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

	it('copies and freezes authorizationParams and authorizationScopes', () => {
		const params: Record<string, string> = { prompt: 'consent' };
		const scopes = ['offline_access'];
		const profile = defineProfile({
			name: 'x',
			authorizationParams: params,
			authorizationScopes: scopes,
		});
		params.prompt = 'none';
		scopes.push('openid');
		expect(profile.authorizationParams).toEqual({ prompt: 'consent' });
		expect(profile.authorizationScopes).toEqual(['offline_access']);
		expect(Object.isFrozen(profile.authorizationParams)).toBe(true);
		expect(Object.isFrozen(profile.authorizationScopes)).toBe(true);
		expect(defineProfile({ name: 'y' })).not.toHaveProperty('authorizationParams');
	});

	it.each([
		['no name', { name: '' }],
		['a semicolon separator', { name: 'x', scopeSeparator: ';' }],
		['a PUT token endpoint', { name: 'x', tokenEndpointMethod: 'PUT' }],
		['an unknown hook phase', { name: 'x', hooks: { beforeLunch: [] } }],
		['a hook that is not a function', { name: 'x', hooks: { accessTokenResponse: ['nope'] } }],
		['hooks not in a list', { name: 'x', hooks: { protectedRequest: () => {} } }],
		['authorizationParams with a number', { name: 'x', authorizationParams: { max_age: 0 } }],
		['authorizationParams as a list', { name: 'x', authorizationParams: ['a'] }],
		['authorizationScopes as a string', { name: 'x', authorizationScopes: 'offline_access' }],
		['an authorization scope with a space', { name: 'x', authorizationScopes: ['a b'] }],
		['an empty authorization scope', { name: 'x', authorizationScopes: [''] }],
		['tokenRequestHeaders with a number', { name: 'x', tokenRequestHeaders: { 'x-n': 1 } }],
		['a header name with a space', { name: 'x', tokenRequestHeaders: { 'user agent': 'a' } }],
		['a semicolon answer separator', { name: 'x', answerScopeSeparator: ';' }],
		['deadGrant as a string', { name: 'x', deadGrant: 'expired_token' }],
		['deadGrant with an empty code', { name: 'x', deadGrant: [''] }],
		['deadGrant with a number', { name: 'x', deadGrant: [190] }],
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

describe('deadGrant', () => {
	const zoomDead = { reason: 'Invalid Token!', error: 'invalid_request' };

	it.each([
		['a listed code', ['expired_token'], { error: 'expired_token', error_description: 'gone' }],
		['a listed code, no description', ['expired_token'], { error: 'expired_token' }],
		[
			'a test of the answer',
			({ body }: TokenHttpResponse) => (body as typeof zoomDead).reason === 'Invalid Token!',
			zoomDead,
		],
	] as const)(
		'%s makes a refresh answer invalid_grant, its own code kept',
		(_, deadGrant, body) => {
			const profile = defineProfile({ name: 'x', deadGrant });
			const result = runTokenResponseHooks(profile, 'refreshToken', answer(body, 400));
			const own =
				'error_description' in body ? `${body.error}: ${body.error_description}` : body.error;
			expect(result).toMatchObject({
				status: 400,
				body: { ...body, error: 'invalid_grant', error_description: own },
			});
			// A code exchange's answer is the hooks' to rename: the user is there to act on it.
			expect(runTokenResponseHooks(profile, 'accessToken', answer(body, 400)).body).toEqual(body);
		},
	);

	it('sees the answer after the hooks', () => {
		const profile = defineProfile({
			name: 'x',
			deadGrant: ['token_dead'],
			hooks: { refreshTokenResponse: [(r) => ({ ...r, body: { error: 'token_dead' } })] },
		});
		expect(runTokenResponseHooks(profile, 'refreshToken', answer({ code: 7 }, 400)).body).toEqual({
			error: 'invalid_grant',
			error_description: 'token_dead',
		});
	});

	it.each([
		['another code', { error: 'invalid_request', error_description: 'x' }],
		['a success', { access_token: 'a' }],
		['invalid_grant already', { error: 'invalid_grant', error_description: 'spent' }],
		['a body that is not an object', 'expired_token'],
	])('leaves %s as it is', (_, body) => {
		const profile = defineProfile({ name: 'x', deadGrant: ['expired_token'] });
		expect(runTokenResponseHooks(profile, 'refreshToken', answer(body, 400)).body).toEqual(body);
	});

	it('a profile defined again from one replaces its deadGrant', () => {
		const first = defineProfile({
			name: 'x',
			deadGrant: ['expired_token'],
			hooks: { refreshTokenResponse: [() => undefined] },
		});
		const second = defineProfile({ ...first, name: 'y', deadGrant: ['token_gone'] });
		expect(second.hooks?.refreshTokenResponse).toHaveLength(2);
		const run = (error: string) =>
			runTokenResponseHooks(second, 'refreshToken', answer({ error }, 400)).body;
		expect(run('expired_token')).toEqual({ error: 'expired_token' });
		expect(run('token_gone')).toEqual({ error: 'invalid_grant', error_description: 'token_gone' });
	});

	it('freezes a copy of the list', () => {
		const codes = ['expired_token'];
		const profile = defineProfile({ name: 'x', deadGrant: codes });
		codes.push('invalid_request');
		expect(profile.deadGrant).toEqual(['expired_token']);
		expect(Object.isFrozen(profile.deadGrant)).toBe(true);
	});
});

describe('tokenRequestHeaders', () => {
	const userAgent = 'web:app:v1 (by /u/me)';

	it('are set on token requests of both phases, before the hooks, a header already there kept', async () => {
		const seen: (string | null)[] = [];
		const profile = defineProfile({
			name: 'x',
			tokenRequestHeaders: { 'User-Agent': userAgent, 'x-app': 'a' },
			hooks: { refreshTokenRequest: [(r) => void seen.push(r.headers.get('user-agent'))] },
		});
		for (const phase of ['accessToken', 'refreshToken'] as const) {
			const sent = request();
			await runTokenRequestHooks(profile, phase, sent);
			expect(sent.headers.get('user-agent')).toBe(userAgent);
			expect(sent.headers.get('x-app')).toBe('a');
		}
		expect(seen).toEqual([userAgent]);
		const own = request();
		own.headers.set('x-app', 'mine');
		await runTokenRequestHooks(profile, 'accessToken', own);
		expect(own.headers.get('x-app')).toBe('mine');
		expect(Object.isFrozen(profile.tokenRequestHeaders)).toBe(true);
	});

	it('a profile defined again from one replaces them', async () => {
		const first = defineProfile({ name: 'x', tokenRequestHeaders: { 'x-old': '1' } });
		const second = defineProfile({ ...first, tokenRequestHeaders: { 'x-new': '2' } });
		expect(second.hooks?.accessTokenRequest).toHaveLength(1);
		const sent = request();
		await runTokenRequestHooks(second, 'refreshToken', sent);
		expect([sent.headers.get('x-old'), sent.headers.get('x-new')]).toEqual([null, '2']);
	});
});

describe('answerScopeSeparator', () => {
	// LinkedIn: spaces in the authorization URL, commas in its answers.
	const linkedin = defineProfile({ name: 'linkedin', answerScopeSeparator: ',' });

	it.each(['accessToken', 'refreshToken'] as const)(
		'reads the scope of %s answers with it',
		(phase) => {
			const body = { access_token: 'a', scope: 'openid,profile, email' };
			expect(runTokenResponseHooks(linkedin, phase, answer(body)).body).toEqual({
				access_token: 'a',
				scope: ['openid', 'profile', 'email'],
			});
		},
	);

	it('leaves a scope that is not a string, and adds no hook when it is scopeSeparator', () => {
		const body = { access_token: 'a', scope: ['x y'] };
		expect(runTokenResponseHooks(linkedin, 'accessToken', answer(body)).body).toEqual(body);
		const same = defineProfile({ name: 'x', scopeSeparator: ',', answerScopeSeparator: ',' });
		expect(same.hooks).toEqual({});
	});
});
