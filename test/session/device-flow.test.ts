import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError, OAuth2ResponseError } from '../../src/errors/index.js';
import { noneClientAuthentication } from '../../src/protocol/client-authentication.js';
import { DeviceAuthorization } from '../../src/protocol/device-authorization.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { microsoft } from '../../src/protocol/profiles/index.js';
import {
	type DevicePollProgress,
	pollDeviceToken,
	startDeviceAuthorization,
	type WaitForDeviceTokenOptions,
	waitForDeviceToken,
} from '../../src/session/device-flow.js';
import type { Handler } from '../helpers/http-server.js';
import { json, rejection, useScriptedServer } from '../helpers/scripted-server.js';

const server = useScriptedServer();

// A virtual clock: `sleep` moves it at once, so polls minutes apart take no real time.
let clock = 0;
let sleeps: number[] = [];
let pollTimes: number[] = [];
const now = () => clock;
const sleep = async (ms: number, signal?: AbortSignal) => {
	signal?.throwIfAborted();
	sleeps.push(ms);
	clock += ms;
};
beforeEach(() => {
	clock = 0;
	sleeps = [];
	pollTimes = [];
});

const DEVICE_CODE = 'dc-SECRET-0123456789';
const timed =
	(handler: Handler): Handler =>
	(request, response) => {
		pollTimes.push(clock);
		return handler(request, response);
	};
const pending = timed(json(400, { error: 'authorization_pending' }));
const slowDown = timed(json(400, { error: 'slow_down' }));
const denied = timed(json(400, { error: 'access_denied', error_description: 'The user said no' }));
const expired = timed(json(400, { error: 'expired_token' }));
const approved = timed(json(200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 }));

const authorization = (expiresIn = 1800, interval = 5) =>
	new DeviceAuthorization({
		deviceCode: DEVICE_CODE,
		userCode: 'WDJB-MJHT',
		verificationUri: 'https://example.com/device',
		expiresIn,
		expiresAt: clock + expiresIn * 1000,
		interval,
	});
const wait = (options: Partial<WaitForDeviceTokenOptions> = {}) =>
	waitForDeviceToken({
		tokenEndpoint: server.url('/token'),
		deviceAuthorization: authorization(),
		clientAuthentication: noneClientAuthentication('cli'),
		retry: { retries: 2, minTimeout: 5, maxTimeout: 10 },
		now,
		sleep,
		...options,
	});

describe('startDeviceAuthorization', () => {
	it('POSTs the scope and client id, and counts expiry from the request', async () => {
		clock = 1_000_000;
		server.answer(
			'/device',
			json(200, {
				device_code: DEVICE_CODE,
				user_code: 'WDJB-MJHT',
				verification_uri: 'https://example.com/device',
				expires_in: 1800,
			}),
		);
		const started = await startDeviceAuthorization({
			deviceAuthorizationEndpoint: server.url('/device'),
			clientAuthentication: noneClientAuthentication('cli'),
			scope: ['openid', 'offline_access'],
			now,
		});
		expect(started).toMatchObject({
			deviceCode: DEVICE_CODE,
			userCode: 'WDJB-MJHT',
			interval: 5,
			expiresAt: 1_000_000 + 1_800_000,
		});
		expect(server.hits).toEqual([
			expect.objectContaining({
				method: 'POST',
				url: '/device',
				body: 'scope=openid+offline_access&client_id=cli',
				headers: expect.objectContaining({ accept: 'application/json' }),
			}),
		]);
	});

	it("with a profile: its authorization scopes and token request headers, and the poll's too", async () => {
		const profile = defineProfile({
			...microsoft,
			name: 'microsoft-cli',
			tokenRequestHeaders: { 'user-agent': 'my-cli/1.0' },
		});
		server.answer(
			'/device',
			json(200, {
				device_code: DEVICE_CODE,
				user_code: 'WDJB-MJHT',
				verification_uri: 'https://microsoft.com/devicelogin',
				expires_in: 900,
			}),
		);
		server.answer('/token', approved);
		const started = await startDeviceAuthorization({
			deviceAuthorizationEndpoint: server.url('/device'),
			clientAuthentication: noneClientAuthentication('cli'),
			scope: 'User.Read',
			profile,
			now,
		});
		await wait({ deviceAuthorization: started, profile });
		expect(server.hits.map((hit) => [hit.url, hit.headers['user-agent']])).toEqual([
			['/device', 'my-cli/1.0'],
			['/token', 'my-cli/1.0'],
		]);
		expect(server.hits[0]?.body).toBe('scope=User.Read+offline_access&client_id=cli');
	});

	it("a header the caller gives wins over the profile's", async () => {
		const profile = defineProfile({ name: 'x', tokenRequestHeaders: { 'User-Agent': 'profile' } });
		server.answer('/device', json(400, { error: 'invalid_client' }));
		await startDeviceAuthorization({
			deviceAuthorizationEndpoint: server.url('/device'),
			headers: { 'user-agent': 'caller' },
			profile,
		}).catch(() => undefined);
		expect(server.hits.map((hit) => hit.headers['user-agent'])).toEqual(['caller']);
	});

	it('throws an error answer', async () => {
		server.answer('/device', json(400, { error: 'invalid_scope' }));
		await expect(
			startDeviceAuthorization({ deviceAuthorizationEndpoint: server.url('/device') }),
		).rejects.toMatchObject({ name: 'OAuth2ResponseError', error: 'invalid_scope', status: 400 });
	});
});

describe('pollDeviceToken', () => {
	it.each<[string, Handler, unknown]>([
		['authorization_pending', pending, { status: 'pending', slowDown: false }],
		['slow_down', slowDown, { status: 'pending', slowDown: true }],
		[
			"GitHub's 200 with authorization_pending",
			json(200, { error: 'authorization_pending' }),
			{ status: 'pending', slowDown: false },
		],
		[
			'a token',
			approved,
			{ status: 'approved', token: expect.objectContaining({ accessToken: 'at-1' }) },
		],
	])('reads %s', async (_, handler, expected) => {
		server.answer('/token', handler);
		const poll = await pollDeviceToken({
			tokenEndpoint: server.url('/token'),
			deviceCode: DEVICE_CODE,
		});
		expect(poll).toEqual(expected);
		expect(server.hits[0]?.body).toBe(
			`grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=${DEVICE_CODE}`,
		);
	});

	it.each(['access_denied', 'expired_token', 'invalid_grant'])('throws %s', async (code) => {
		server.answer('/token', json(400, { error: code }));
		await expect(
			pollDeviceToken({ tokenEndpoint: server.url('/token'), deviceCode: DEVICE_CODE }),
		).rejects.toMatchObject({ name: 'OAuth2ResponseError', error: code });
	});
});

describe('waitForDeviceToken', () => {
	it.each<[string, Handler[], number[]]>([
		['pending twice, then a token', [pending, pending, approved], [5_000, 10_000, 15_000]],
		[
			'slow_down once: +5 s for that poll and every later one',
			[pending, slowDown, pending, approved],
			[5_000, 10_000, 20_000, 30_000],
		],
		['slow_down twice: +5 s each time', [slowDown, slowDown, approved], [5_000, 15_000, 30_000]],
		['a token at the first poll', [approved], [5_000]],
	])('%s', async (_, script, times) => {
		server.answer('/token', ...script);
		const token = await wait();
		expect(token.accessToken).toBe('at-1');
		expect(pollTimes).toEqual(times);
		expect(sleeps).toEqual(times.map((time, i) => time - (times[i - 1] ?? 0)));
		expect(new Set(server.hits.map((hit) => hit.body))).toEqual(
			new Set([
				`grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=${DEVICE_CODE}&client_id=cli`,
			]),
		);
	});

	it('reports progress after each answer that is not a token', async () => {
		server.answer('/token', pending, slowDown, approved);
		const progress: DevicePollProgress[] = [];
		await wait({ onPending: (p) => progress.push(p) });
		expect(progress).toEqual([
			{ polls: 1, slowDown: false, interval: 5, nextPollAt: 10_000, expiresAt: 1_800_000 },
			{ polls: 2, slowDown: true, interval: 10, nextPollAt: 20_000, expiresAt: 1_800_000 },
		]);
	});

	it.each<[string, Handler, string, number]>([
		['access_denied', denied, 'access_denied', 400],
		['expired_token from the server', expired, 'expired_token', 400],
	])('stops at %s', async (_, refusal, code, status) => {
		server.answer('/token', pending, refusal, approved);
		const error = await rejection(wait());
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: code, status });
		expect(pollTimes).toEqual([5_000, 10_000]);
	});

	it.each<[string, Handler[], number, number[]]>([
		['expires_in 12: polls at 5 and 10 s, not at 15', [pending], 12, [5_000, 10_000]],
		['expires_in 10: a poll at the very deadline is not sent', [pending], 10, [5_000]],
		['slow_down pushes the next poll past expires_in 20', [slowDown, pending], 20, [5_000, 15_000]],
	])('stops before the device code expires: %s', async (_, script, expiresIn, times) => {
		server.answer('/token', ...script);
		const error = await rejection(wait({ deviceAuthorization: authorization(expiresIn) }));
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'expired_token', status: undefined });
		expect((error as Error).message).toContain('no request was sent');
		expect(pollTimes).toEqual(times);
	});

	it('stops when aborted between polls, with the reason', async () => {
		server.answer('/token', pending);
		const controller = new AbortController();
		const reason = new Error('Ctrl-C');
		const error = await rejection(
			wait({ signal: controller.signal, onPending: () => controller.abort(reason) }),
		);
		expect(error).toBe(reason);
		expect(server.hits).toHaveLength(1);
	});

	it('stops when aborted while a poll is in flight', async () => {
		server.answer('/token', () => {});
		const controller = new AbortController();
		const reason = new Error('Ctrl-C');
		const pendingWait = rejection(wait({ signal: controller.signal }));
		await server.arrived('/token', 1);
		expect(server.hits).toHaveLength(1);
		controller.abort(reason);
		expect(await pendingWait).toBe(reason);
	});

	it('stops when onPending throws', async () => {
		server.answer('/token', pending);
		const stop = new Error('enough');
		const error = await rejection(
			wait({
				onPending: () => {
					throw stop;
				},
			}),
		);
		expect(error).toBe(stop);
		expect(server.hits).toHaveLength(1);
	});

	it.each([
		['no interval', { deviceCode: 'd', interval: 0, expiresAt: 60_000 }],
		['no expiry', { deviceCode: 'd', interval: 5, expiresAt: Number.NaN }],
	])('refuses a device authorization with %s', async (_, deviceAuthorization) => {
		await expect(wait({ deviceAuthorization })).rejects.toThrow(InvalidOptionsError);
		expect(server.hits).toHaveLength(0);
	});
});

describe('waitForDeviceToken with its own sleep, under fake timers', () => {
	afterEach(() => vi.useRealTimers());

	const answers = (...bodies: [number, unknown][]) => {
		const times: number[] = [];
		const fetch = vi.fn<typeof globalThis.fetch>(async () => {
			times.push(Date.now());
			const [status, body] = bodies[Math.min(times.length, bodies.length) - 1] ?? [500, {}];
			return new Response(JSON.stringify(body), {
				status,
				headers: { 'content-type': 'application/json' },
			});
		});
		return { fetch, times };
	};
	const start = (fetch: typeof globalThis.fetch, signal?: AbortSignal) =>
		waitForDeviceToken({
			tokenEndpoint: 'https://as.example/token',
			deviceAuthorization: { deviceCode: DEVICE_CODE, interval: 5, expiresAt: 120_000 },
			fetch,
			retry: false,
			signal,
		});

	it('polls at 5 s, then 10 s, then 20 s after a slow_down', async () => {
		vi.useFakeTimers({ now: 0 });
		const { fetch, times } = answers(
			[400, { error: 'authorization_pending' }],
			[400, { error: 'slow_down' }],
			[200, { access_token: 'at-1' }],
		);
		const token = start(fetch);
		await vi.advanceTimersByTimeAsync(4_999);
		expect(times).toEqual([]);
		await vi.advanceTimersByTimeAsync(1);
		expect(times).toEqual([5_000]);
		await vi.advanceTimersByTimeAsync(5_000);
		expect(times).toEqual([5_000, 10_000]);
		await vi.advanceTimersByTimeAsync(9_999);
		expect(times).toEqual([5_000, 10_000]);
		await vi.advanceTimersByTimeAsync(1);
		expect(times).toEqual([5_000, 10_000, 20_000]);
		expect((await token).accessToken).toBe('at-1');
	});

	it('an abort during the wait rejects at once and clears the timer', async () => {
		vi.useFakeTimers({ now: 0 });
		const { fetch } = answers([400, { error: 'authorization_pending' }]);
		const controller = new AbortController();
		const outcome = rejection(start(fetch, controller.signal));
		await vi.advanceTimersByTimeAsync(2_000);
		const reason = new Error('Ctrl-C');
		controller.abort(reason);
		expect(await outcome).toBe(reason);
		expect(vi.getTimerCount()).toBe(0);
		expect(fetch).not.toHaveBeenCalled();
	});
});
