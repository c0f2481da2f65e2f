/**
 * `session.fetchToken({ deviceAuthorization })`: the loop of `waitForDeviceToken`, each poll a token
 * request of the session's (client authentication, profile, retries), the token saved.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError, OAuth2ResponseError } from '../../src/errors/index.js';
import { defineProfile } from '../../src/protocol/profile.js';
import type { DevicePollProgress } from '../../src/session/device-flow.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { json, rejection, useScriptedServer } from '../helpers/scripted-server.js';

const server = useScriptedServer();

const DEVICE_CODE = 'dc-SECRET-0123456789';
const BODY = `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=${DEVICE_CODE}`;
const pending = json(400, { error: 'authorization_pending' });
const slowDown = json(400, { error: 'slow_down' });
const approved = json(200, {
	access_token: 'at-1',
	token_type: 'Bearer',
	expires_in: 3600,
	refresh_token: 'rt-1',
});

const session = (options: Partial<OAuth2SessionOptions> = {}) =>
	new OAuth2Session({
		clientId: 'cli',
		clientSecret: 's3cret',
		tokenEndpoint: server.url('/token'),
		allowedOrigins: [server.origin],
		retry: { retries: 2, minTimeout: 5, maxTimeout: 10 },
		proactiveRefresh: false,
		...options,
	});
const deviceAuthorization = (expiresIn = 1800) => ({
	deviceCode: DEVICE_CODE,
	interval: 5,
	expiresAt: Date.now() + expiresIn * 1000,
});

afterEach(() => vi.useRealTimers());

describe('session.fetchToken({ deviceAuthorization })', () => {
	it('polls as waitForDeviceToken does (+5 s at slow_down), authenticated, and keeps the token', async () => {
		server.answer('/token', pending, slowDown, pending, approved);
		const store = new MemoryStore();
		const s = session({ store });
		const updates: string[] = [];
		s.on('tokenUpdated', (event) => updates.push(event.source));
		const sleeps: number[] = [];
		const progress: Pick<DevicePollProgress, 'polls' | 'slowDown' | 'interval'>[] = [];
		const token = await s.fetchToken({
			deviceAuthorization: deviceAuthorization(),
			sleep: async (ms) => void sleeps.push(ms),
			onPending: ({ polls, slowDown, interval }) => progress.push({ polls, slowDown, interval }),
		});
		expect(token.accessToken).toBe('at-1');
		expect(sleeps).toEqual([5_000, 5_000, 10_000, 10_000]);
		expect(progress).toEqual([
			{ polls: 1, slowDown: false, interval: 5 },
			{ polls: 2, slowDown: true, interval: 10 },
			{ polls: 3, slowDown: false, interval: 10 },
		]);
		const hits = server.hitsOn('/token');
		expect(hits.map((hit) => hit.body)).toEqual(Array(4).fill(BODY));
		const basic = `Basic ${Buffer.from('cli:s3cret').toString('base64')}`;
		expect(hits.every((hit) => hit.headers.authorization === basic)).toBe(true);
		expect(s.token).toBe(token);
		expect(updates).toEqual(['fetch']);
		expect((await store.get('default'))?.token?.refresh_token).toBe('rt-1');
		// The session holds it: requests carry it.
		server.answer('/api', json(200, { ok: true }));
		await s.fetch(server.url('/api'));
		expect(server.hitsOn('/api')[0]?.headers.authorization).toBe('Bearer at-1');
		s.close();
	});

	it("a poll is retried after a 503 as the session's token requests are, with its profile's headers", async () => {
		server.answer('/token', json(503, {}), pending, approved);
		const profile = defineProfile({ name: 'cli', tokenRequestHeaders: { 'user-agent': 'cli/1' } });
		const s = session({ profile });
		await s.fetchToken({ deviceAuthorization: deviceAuthorization(), sleep: async () => {} });
		const hits = server.hitsOn('/token');
		expect(hits).toHaveLength(3);
		expect(hits.map((hit) => hit.headers['user-agent'])).toEqual(Array(3).fill('cli/1'));
		s.close();
	});

	it('stops at access_denied, keeping no token', async () => {
		server.answer('/token', pending, json(400, { error: 'access_denied' }));
		const s = session();
		const error = await rejection(
			s.fetchToken({ deviceAuthorization: deviceAuthorization(), sleep: async () => {} }),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'access_denied', status: 400 });
		expect(s.token).toBeUndefined();
		s.close();
	});

	it('stops before the device code expires, without a poll it could not send in time', async () => {
		vi.useFakeTimers({ toFake: ['Date'], now: 0 });
		server.answer('/token', pending);
		const s = session();
		const error = await rejection(
			s.fetchToken({
				deviceAuthorization: deviceAuthorization(12),
				sleep: async (ms) => void vi.setSystemTime(Date.now() + ms),
			}),
		);
		expect(error).toMatchObject({ name: 'OAuth2ResponseError', error: 'expired_token' });
		expect((error as Error).message).toContain('no request was sent');
		// At 5 and 10 s; one at 15 s would be past the expiry at 12 s.
		expect(server.hitsOn('/token')).toHaveLength(2);
		s.close();
	});

	it('an abort while sleeping rejects at once with its reason; no further poll', async () => {
		server.answer('/token', pending);
		const s = session();
		const controller = new AbortController();
		// The default sleep: 5 s, which the abort cuts short.
		const outcome = rejection(
			s.fetchToken({ deviceAuthorization: deviceAuthorization(), signal: controller.signal }),
		);
		await new Promise((resolve) => setTimeout(resolve, 50));
		const reason = new Error('Ctrl-C');
		controller.abort(reason);
		expect(await outcome).toBe(reason);
		expect(server.hitsOn('/token')).toHaveLength(0);
		s.close();
	});

	it('refuses a device authorization without an interval, naming fetchToken', async () => {
		const s = session();
		const error = await rejection(
			s.fetchToken({ deviceAuthorization: { deviceCode: 'd', interval: 0, expiresAt: 1e15 } }),
		);
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect((error as Error).message).toMatch(/^fetchToken needs a deviceAuthorization/);
		expect(server.hits).toHaveLength(0);
		s.close();
	});
});
