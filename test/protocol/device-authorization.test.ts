import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { noneClientAuthentication } from '../../src/protocol/client-authentication.js';
import {
	DeviceAuthorization,
	type DeviceAuthorizationRequestOptions,
	deviceAuthorizationRequest,
	parseDeviceAuthorizationResponse,
} from '../../src/protocol/device-authorization.js';
import { toFetchArguments } from '../../src/protocol/token-request.js';

const requestedAt = Date.UTC(2026, 0, 1);
const parse = (body: unknown, status = 200) =>
	parseDeviceAuthorizationResponse(body, { requestedAt, status });

// RFC 8628 §3.2's example.
const answer = {
	device_code: 'GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS',
	user_code: 'WDJB-MJHT',
	verification_uri: 'https://example.com/device',
	verification_uri_complete: 'https://example.com/device?user_code=WDJB-MJHT',
	expires_in: 1800,
	interval: 5,
};

describe('deviceAuthorizationRequest', () => {
	it.each<[string, Partial<DeviceAuthorizationRequestOptions>, string]>([
		[
			'a public client with a scope list',
			{ scope: ['openid', 'offline_access'] },
			'scope=openid+offline_access&client_id=cli',
		],
		['a scope string as is', { scope: 'openid profile' }, 'scope=openid+profile&client_id=cli'],
		[
			'commas where told to',
			{ scope: ['repo', 'gist'], scopeSeparator: ',' },
			'scope=repo%2Cgist&client_id=cli',
		],
		['no scope', {}, 'client_id=cli'],
	])('%s', async (_, options, body) => {
		const [url, init] = toFetchArguments(
			await deviceAuthorizationRequest({
				deviceAuthorizationEndpoint: 'https://as.example/device',
				clientAuthentication: noneClientAuthentication('cli'),
				...options,
			}),
		);
		expect(url).toBe('https://as.example/device');
		expect(init).toMatchObject({ method: 'POST', body });
		expect((init.headers as Headers).get('accept')).toBe('application/json');
	});

	it('refuses a relative endpoint', async () => {
		await expect(
			deviceAuthorizationRequest({ deviceAuthorizationEndpoint: 'device' }),
		).rejects.toThrow('deviceAuthorizationEndpoint must be an absolute URL');
	});
});

describe('parseDeviceAuthorizationResponse', () => {
	it('reads the RFC example, expiry counted from the request', () => {
		const authorization = parse({ ...answer, message: 'Go to example.com' });
		expect(authorization).toBeInstanceOf(DeviceAuthorization);
		expect({ ...authorization }).toEqual({
			deviceCode: answer.device_code,
			userCode: 'WDJB-MJHT',
			verificationUri: 'https://example.com/device',
			verificationUriComplete: 'https://example.com/device?user_code=WDJB-MJHT',
			expiresIn: 1800,
			expiresAt: requestedAt + 1_800_000,
			interval: 5,
			extra: { message: 'Go to example.com' },
		});
		expect(Object.isFrozen(authorization)).toBe(true);
	});

	it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
		['no interval as 5 seconds', { interval: undefined }, { interval: 5 }],
		['a null interval as 5 seconds', { interval: null }, { interval: 5 }],
		[
			'numeric strings (a form answer)',
			{ interval: '10', expires_in: '600' },
			{ interval: 10, expiresIn: 600, expiresAt: requestedAt + 600_000 },
		],
		[
			'no verification_uri_complete',
			{ verification_uri_complete: undefined },
			{ verificationUriComplete: undefined },
		],
		[
			"Google's verification_url",
			{ verification_uri: undefined, verification_url: 'https://www.google.com/device' },
			{ verificationUri: 'https://www.google.com/device' },
		],
	])('reads %s', (_, fields, expected) => {
		expect(parse({ ...answer, ...fields })).toMatchObject(expected);
	});

	it.each<[string, Record<string, unknown>, string]>([
		['no device_code', { device_code: undefined }, 'device_code'],
		['an empty user_code', { user_code: '' }, 'user_code'],
		['no verification URI at all', { verification_uri: undefined }, 'verification_uri'],
		[
			'a javascript: verification URI',
			{ verification_uri: 'javascript:alert(1)' },
			'verification_uri',
		],
		['a relative verification URI', { verification_uri: '/device' }, 'verification_uri'],
		[
			'an ftp: complete URI',
			{ verification_uri_complete: 'ftp://example.com/d' },
			'verification_uri_complete',
		],
		['no expires_in', { expires_in: undefined }, 'expires_in'],
		['a zero expires_in', { expires_in: 0 }, 'expires_in'],
		['a negative expires_in', { expires_in: -5 }, 'expires_in'],
		['a word for expires_in', { expires_in: 'soon' }, 'expires_in'],
		['an empty expires_in', { expires_in: ' ' }, 'expires_in'],
		['an infinite expires_in', { expires_in: 'Infinity' }, 'expires_in'],
		['a zero interval', { interval: 0 }, 'interval'],
	])('refuses %s', (_, fields, field) => {
		expect(() => parse({ ...answer, ...fields })).toThrow(
			expect.objectContaining({
				name: 'TokenResponseError',
				problem: 'invalid-field',
				status: 200,
			}),
		);
		expect(() => parse({ ...answer, ...fields })).toThrow(
			`The device authorization endpoint answered with a missing or invalid ${field}`,
		);
	});

	it.each<[number, unknown, Record<string, unknown>]>([
		[400, { error: 'invalid_scope' }, { name: 'OAuth2ResponseError', error: 'invalid_scope' }],
		[401, { error: 'invalid_client' }, { name: 'OAuth2ResponseError', error: 'invalid_client' }],
		[400, { message: 'bad' }, { name: 'TokenResponseError', problem: 'missing-error-code' }],
		[200, 'device_code=x', { name: 'TokenResponseError', problem: 'not-an-object' }],
	])('HTTP %s with %j', (status, body, expected) => {
		expect(() => parse(body, status)).toThrow(expect.objectContaining({ ...expected, status }));
	});

	it('names the device authorization endpoint in an error answer', () => {
		expect(() => parse({ error: 'invalid_client' }, 401)).toThrow(
			'The device authorization endpoint answered invalid_client (HTTP 401)',
		);
	});
});

describe('DeviceAuthorization', () => {
	it('prints everything but the device code', () => {
		const authorization = parse(answer);
		const printed = [
			JSON.stringify(authorization),
			inspect(authorization),
			inspect({ authorization }, { depth: 5 }),
		];
		for (const text of printed) {
			expect(text).not.toContain(answer.device_code);
			expect(text).toContain('WDJB-MJHT');
		}
		expect(authorization.toJSON()).toMatchObject({
			deviceCode: '[redacted]',
			expiresAt: '2026-01-01T00:30:00.000Z',
		});
	});

	it('prints an expiry too far away for a Date as a number', () => {
		const far = parse({ ...answer, expires_in: 1e20 });
		expect(far.toJSON().expiresAt).toBe(requestedAt + 1e23);
		expect(inspect(far)).toContain('expiresAt');
	});

	it.each<[string, Record<string, unknown>]>([
		['no device code', { deviceCode: '' }],
		['a zero interval', { interval: 0 }],
		['a negative interval', { interval: -1 }],
		['an infinite expiry', { expiresAt: Number.POSITIVE_INFINITY }],
		['no expiresIn', { expiresIn: undefined }],
	])('refuses %s', (_, fields) => {
		const init = {
			deviceCode: 'd',
			userCode: 'u',
			verificationUri: 'https://example.com/device',
			expiresIn: 60,
			expiresAt: requestedAt,
			...fields,
		};
		expect(() => new DeviceAuthorization(init as never)).toThrow(InvalidOptionsError);
	});
});
