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
