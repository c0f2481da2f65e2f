import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { authorizationUrl } from '../../src/protocol/authorization-url.js';
import { buildEndpointRequest } from '../../src/protocol/endpoint-request.js';
import { refreshTokenGrant } from '../../src/protocol/grants.js';
import { setParams } from '../../src/protocol/params.js';
import { buildTokenRequest } from '../../src/protocol/token-request.js';

const apiA = 'https://api-a.example/';
const apiB = 'https://api-b.example/';

describe('several values of one parameter (RFC 8707 resource, Auth0 audience)', () => {
	it('setParams sends a list as repeated parameters in order, replacing what was there', () => {
		const target = new URLSearchParams('resource=old&keep=1');
		setParams(target, { resource: [apiA, apiB], audience: 'aud', skipped: undefined });
		expect(target.getAll('resource')).toEqual([apiA, apiB]);
		expect(target.get('keep')).toBe('1');
		expect(target.toString()).not.toContain('%2C');
	});

	it('setParams refuses a value that is neither a string nor a list of strings', () => {
		const target = new URLSearchParams();
		expect(() => setParams(target, { resource: [apiA, 7] as unknown as string[] })).toThrow(
			InvalidOptionsError,
		);
		expect(() => setParams(target, { resource: 7 as unknown as string })).toThrow(
			'The resource parameter must be a string or a list of strings',
		);
	});

	it('the token request sends each resource as its own parameter', async () => {
		const request = await buildTokenRequest({
			tokenEndpoint: 'https://as.example/token',
			grant: refreshTokenGrant({ refreshToken: 'rt-1' }),
			params: { resource: [apiA, apiB], audience: ['x', 'y'] },
		});
		expect(request.params.getAll('resource')).toEqual([apiA, apiB]);
		expect(request.params.getAll('audience')).toEqual(['x', 'y']);
	});

	it('the authorization request sends each resource as its own parameter', async () => {
		const { url } = await authorizationUrl({
			authorizationEndpoint: 'https://as.example/authorize',
			clientId: 'app',
			params: { resource: [apiA, apiB] },
		});
		expect(new URL(url).searchParams.getAll('resource')).toEqual([apiA, apiB]);
	});

	it('revocation, introspection and device requests take lists too', async () => {
		const request = await buildEndpointRequest(
			'https://as.example/revoke',
			'revocationEndpoint',
			new URLSearchParams({ token: 't' }),
			{ params: { resource: [apiA, apiB] } },
		);
		expect(request.params.getAll('resource')).toEqual([apiA, apiB]);
	});
});
