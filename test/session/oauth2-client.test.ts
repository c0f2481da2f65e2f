import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toToken } from '../../src/protocol/token-record.js';
import { OAuth2Client, type OAuth2ClientOptions } from '../../src/session/oauth2-client.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { encodeStoredRecord, type TokenStore } from '../../src/storage/token-store.js';
import { EveryKeyStore } from '../helpers/every-key-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';

let server: OAuthTestServer;
const clients: OAuth2Client[] = [];

beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 30 });
});
afterEach(() => {
	server.resetStats();
	vi.useRealTimers();
	for (const client of clients.splice(0)) client.close();
});
afterAll(() => server.close());

const clientWith = (options: Partial<OAuth2ClientOptions> = {}) => {
	const client = new OAuth2Client({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: server.tokenEndpoint,
		allowedOrigins: [server.origin],
		...options,
	});
	clients.push(client);
	return client;
};

/** Puts a token for each user in the store, as sign-ins did; `expired` ones need a refresh. */
async function signIn(store: TokenStore, users: number, expired: boolean): Promise<string[]> {
	const keys = Array.from({ length: users }, (_, i) => `user-${i}`);
	await Promise.all(
		keys.map((key) =>
			store.set(
				key,
				encodeStoredRecord(toToken({ ...server.issue(), ...(expired ? { expires_in: -60 } : {}) })),
			),
		),
	);
	server.resetStats();
	return keys;
}

const statusOf = async (response: Promise<Response>) => {
	const answer = await response;
	await answer.arrayBuffer();
	return answer.status;
};

describe('OAuth2Client: one refresh per user', () => {
	it('100 concurrent requests of 100 users whose tokens all expired: exactly 100 token requests, all succeed', async () => {
		const store = new MemoryStore();
		const client = clientWith({ store });
		const keys = await signIn(store, 100, true);
		const statuses = await Promise.all(
			keys.map((key) => statusOf(client.session(key).fetch(`${server.origin}/api/${key}`))),
		);
		expect(statuses.filter((status) => status === 200)).toHaveLength(100);
		expect(server.stats.tokenRequests).toBe(100);
		expect(server.stats.api401).toBe(0);
	});

	it('50 concurrent requests of one user, each through client.session(key): 1 token request', async () => {
		const store = new MemoryStore();
		const client = clientWith({ store });
		const [key = ''] = await signIn(store, 1, true);
		const statuses = await Promise.all(
			Array.from({ length: 50 }, (_, i) =>
				statusOf(client.session(key).fetch(`${server.origin}/api/${i}`)),
			),
		);
		expect(statuses.filter((status) => status === 200)).toHaveLength(50);
		expect(server.stats.tokenRequests).toBe(1);
	});

	it('a user dropped from memory in the middle of a refresh: still 1 token request (the store lock)', async () => {
		const store = new MemoryStore();
		// Room for one user: every other user's request drops the one before.
		const client = clientWith({ store, maxCachedSessions: 1 });
		const keys = await signIn(store, 2, true);
		const statuses = await Promise.all(
			Array.from({ length: 40 }, (_, i) => {
				const key = keys[i % 2] ?? '';
				return statusOf(client.session(key).fetch(`${server.origin}/api/${i}`));
			}),
		);
		expect(statuses.filter((status) => status === 200)).toHaveLength(40);
		expect(server.stats.tokenRequests).toBe(2);
		expect(client.cachedSessions).toBe(1);
	});

	it('two clients on one store (two servers): one refresh per user, the other adopts it', async () => {
		const store = new MemoryStore();
		const one = clientWith({ store });
		const two = clientWith({ store });
		const keys = await signIn(store, 20, true);
		const statuses = await Promise.all(
			keys.flatMap((key) => [
				statusOf(one.session(key).fetch(`${server.origin}/api/one`)),
				statusOf(two.session(key).fetch(`${server.origin}/api/two`)),
			]),
		);
		expect(statuses.filter((status) => status === 200)).toHaveLength(40);
		expect(server.stats.tokenRequests).toBe(20);
	});
});

describe('OAuth2Client: memory', () => {
	it('a user dropped from the cache (size) still works: the token is read again from the store', async () => {
		const store = new MemoryStore();
		const client = clientWith({ store, maxCachedSessions: 2 });
		const first = client.session('alice');
		await first.setToken(server.issue());
		for (const key of ['bob', 'carol']) await client.session(key).ready;
		expect(client.cachedSessions).toBe(2);
		const again = client.session('alice');
		expect(again).not.toBe(first);
		expect(await statusOf(again.fetch(`${server.origin}/api/me`))).toBe(200);
		expect(again.token?.accessToken).toBe(first.token?.accessToken);
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('a user not seen for cacheIdleTimeout is dropped; one seen since is kept', async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		const client = clientWith({ cacheIdleTimeout: 60_000 });
		const idle = client.session('idle');
		const busy = client.session('busy');
		vi.advanceTimersByTime(40_000);
		expect(client.session('busy')).toBe(busy);
		vi.advanceTimersByTime(40_000);
		expect(client.session('busy')).toBe(busy);
		expect(client.cachedSessions).toBe(1);
		expect(client.session('idle')).not.toBe(idle);
	});

	it('the same session while the user is in memory', () => {
		const client = clientWith();
		const session = client.session('alice');
		client.session('bob');
		expect(client.session('alice')).toBe(session);
		expect(session).toBeInstanceOf(OAuth2Session);
	});

	it('users hold no timer, even with tokens that expire and refresh tokens that do', async () => {
		vi.useFakeTimers();
		const client = clientWith();
		for (let i = 0; i < 50; i++) {
			await client
				.session(`user-${i}`)
				.setToken({ ...server.issue(), refresh_token_expires_at: Date.now() / 1000 + 86_400 });
		}
		expect(vi.getTimerCount()).toBe(0);
		// A single-user session on such a token does hold timers: what the count above would see.
		const single = new OAuth2Session({ clientId: 'app', tokenEndpoint: server.tokenEndpoint });
		await single.setToken({
			...server.issue(),
			refresh_token_expires_at: Date.now() / 1000 + 86_400,
		});
		expect(vi.getTimerCount()).toBeGreaterThan(0);
		single.close();
	});

	it('one store subscription for the client, none per user', async () => {
		const store = new EveryKeyStore();
		const client = clientWith({ store });
		await Promise.all(Array.from({ length: 200 }, (_, i) => client.session(`user-${i}`).ready));
		expect(store.subscriptions).toEqual({ subscribe: 0, subscribeAll: 1 });
	});
});

describe('OAuth2Client: store notifications and events', () => {
	it("a user's session in memory adopts a token another client wrote, without a token request", async () => {
		const store = new EveryKeyStore();
		const one = clientWith({ store });
		const two = clientWith({ store });
		const [key = ''] = await signIn(store, 1, true);
		const session = one.session(key);
		await session.ready;
		const updated: { key: string; source: string }[] = [];
		one.on('tokenUpdated', (event) => updated.push({ key: event.key, source: event.source }));
		await two.session(key).refreshToken();
		expect(server.stats.tokenRequests).toBe(1);
		expect(session.token?.accessToken).toBe(two.session(key).token?.accessToken);
		expect(updated).toEqual([{ key, source: 'store' }]);
		expect(await statusOf(session.fetch(`${server.origin}/api/me`))).toBe(200);
		expect(server.stats.tokenRequests).toBe(1);
	});

	it("a logout through another client ends the user's session in memory, with the user's key", async () => {
		const store = new EveryKeyStore();
		const one = clientWith({ store });
		const two = clientWith({ store });
		const [key = ''] = await signIn(store, 1, false);
		await one.session(key).ready;
		const ended: string[] = [];
		one.on('sessionEnded', (event) => ended.push(event.key));
		await two.session(key).logout();
		expect(ended).toEqual([key]);
		expect(one.session(key).token).toBeUndefined();
	});

	it('onTokenUpdated is told whose token it is', async () => {
		const store = new EveryKeyStore();
		const seen: string[] = [];
		const client = clientWith({ store, onTokenUpdated: (_token, key) => void seen.push(key) });
		const [key = ''] = await signIn(store, 1, true);
		await statusOf(client.session(key).fetch(`${server.origin}/api/me`));
		expect(seen).toEqual([key]);
	});
});

describe('OAuth2Client: options and secrets', () => {
	it('refuses a bad cache size, idle time or key with InvalidOptionsError', () => {
		expect(() => clientWith({ maxCachedSessions: 0 })).toThrow(
			expect.objectContaining({ name: 'InvalidOptionsError' }),
		);
		expect(() => clientWith({ cacheIdleTimeout: -1 })).toThrow(
			expect.objectContaining({ name: 'InvalidOptionsError' }),
		);
		expect(() => clientWith({ clientId: '' })).toThrow(
			expect.objectContaining({ name: 'InvalidOptionsError' }),
		);
		expect(() => clientWith().session('')).toThrow(
			expect.objectContaining({
				name: 'InvalidOptionsError',
				message: expect.stringMatching(/key/),
			}),
		);
	});

	it('neither the client nor a session shows a token or the secret in inspect output', async () => {
		const store = new MemoryStore();
		const client = clientWith({ store });
		const [key = ''] = await signIn(store, 1, true);
		const session = client.session(key);
		await statusOf(session.fetch(`${server.origin}/api/me`));
		const token = session.token;
		expect(token).toBeDefined();
		const shown = [
			inspect(client, { depth: Infinity, showHidden: true }),
			inspect(session, { depth: Infinity, showHidden: true }),
			inspect(token, { depth: Infinity, showHidden: true }),
		].join('\n');
		expect(shown).not.toContain(token?.accessToken);
		expect(shown).not.toContain(token?.refreshToken);
		expect(shown).not.toContain('s3cret');
	});
});
