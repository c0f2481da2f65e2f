import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { MemoryStore } from '../../src/storage/memory.js';
import {
	decodeStoredRecord,
	encodeStoredRecord,
	type TokenStore,
} from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 30 });
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

const make = (options: Partial<OAuth2SessionOptions>) => sessionOn(server, undefined, options);

describe('a session and its store', () => {
	it('a record found in the store wins over the token option', async () => {
		const store = new MemoryStore();
		const stored = server.issue();
		await store.set('default', encodeStoredRecord(new Token({ accessToken: stored.access_token })));
		const session = make({ store, token: server.issue() });
		await session.ready;
		expect(session.token?.accessToken).toBe(stored.access_token);
	});

	it('saves the token option when the store is empty, every refresh, and setToken', async () => {
		const store = new MemoryStore();
		const first = server.issue();
		const session = make({ store, token: { ...first, expires_in: -1 }, storeKey: 'user-1' });
		await session.ready;
		expect((await store.get('user-1'))?.token?.access_token).toBe(first.access_token);
		await session.fetch(`${server.origin}/api/me`);
		expect((await store.get('user-1'))?.token?.access_token).toBe(session.token?.accessToken);
		expect((await store.get('user-1'))?.token?.access_token).not.toBe(first.access_token);
		await session.setToken({ access_token: 'set-by-hand' });
		expect((await store.get('user-1'))?.token?.access_token).toBe('set-by-hand');
	});

	it('sessions sharing a store with a lock refresh once: the others adopt the saved token', async () => {
		const store = new MemoryStore();
		const token = { ...server.issue(), expires_in: -1 };
		await store.set(
			'default',
			encodeStoredRecord(
				new Token({
					accessToken: token.access_token,
					refreshToken: token.refresh_token,
					expiresAt: Date.now() - 1000,
				}),
			),
		);
		// Separate sessions, as separate tabs or processes would be, each with its own memory.
		const sessions = Array.from({ length: 4 }, () => make({ store }));
		const statuses = await Promise.all(
			sessions.flatMap((session) =>
				Array.from({ length: 25 }, (_, i) =>
					session.fetch(`${server.origin}/api/${i}`).then((r) => r.status),
				),
			),
		);
		expect(statuses.filter((s) => s === 200)).toHaveLength(100);
		expect(server.stats.tokenRequests).toBe(1);
		const tokens = new Set(sessions.map((s) => s.token?.accessToken));
		expect(tokens.size).toBe(1);
	});

	it('a subscribed session adopts a token written elsewhere without refreshing', async () => {
		const store = new MemoryStore();
		const a = make({ store, token: server.issue() });
		await a.ready;
		const b = make({ store });
		await b.ready;
		const adopted: string[] = [];
		b.on('tokenUpdated', (e) => adopted.push(e.source));
		await a.refreshToken();
		expect(b.token?.accessToken).toBe(a.token?.accessToken);
		expect(adopted).toEqual(['store']);
		expect(server.stats.tokenRequests).toBe(1);
		a.close();
		b.close();
	});

	it('a failing store is reported, and requests keep working with the token in memory', async () => {
		const failing: TokenStore = {
			get: async () => undefined,
			set: async () => {
				throw new Error('ENOSPC: no space left on device');
			},
			delete: async () => {},
		};
		const errors: StorageError[] = [];
		const session = make({ store: failing, token: { ...server.issue(), expires_in: -1 } });
		session.on('storeError', (e) => errors.push(e.error));
		await session.ready;
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(errors.length).toBeGreaterThanOrEqual(1);
		expect(errors[0]).toBeInstanceOf(StorageError);
		expect(errors[0]?.problem).toBe('unavailable');
		expect(errors[0]?.cause).toBeInstanceOf(Error);
	});

	it('a corrupt record is a typed error, not a token, and is not overwritten by the option', async () => {
		const store = new MemoryStore();
		await store.set('default', { version: 1, token: { nope: true }, writtenAt: 1 } as never);
		expect(() =>
			decodeStoredRecord({ version: 1, token: { nope: true }, writtenAt: 1 }, 'default'),
		).toThrow(StorageError);
		expect(() => decodeStoredRecord({ version: 99, token: {}, writtenAt: 1 }, 'default')).toThrow(
			expect.objectContaining({ problem: 'unsupported-version' }),
		);
		const errors: StorageError[] = [];
		const session = make({ store, token: server.issue() });
		session.on('storeError', (e) => errors.push(e.error));
		await session.ready;
		expect(errors[0]?.problem).toBe('corrupt');
		expect(session.token).toBeDefined();
		expect((await store.get('default'))?.token).toEqual({ nope: true });
	});
});

describe('a store whose lock fails', () => {
	const failingLock = (
		problem: 'unavailable' | 'lock-timeout',
		when: 'before' | 'after',
	): TokenStore => {
		const inner = new MemoryStore();
		return {
			get: (key) => inner.get(key),
			set: (key, record) => inner.set(key, record),
			delete: (key) => inner.delete(key),
			async lock(_key, fn) {
				if (when === 'after') await fn();
				throw new StorageError('lock store down', { problem });
			},
		};
	};

	it.each([
		['unavailable', 'before'],
		['lock-timeout', 'before'],
		['unavailable', 'after'],
	] as const)(
		'(%s, %s the work) reports it and refreshes once, without failing requests',
		async (problem, when) => {
			const errors: string[] = [];
			const session = make({
				store: failingLock(problem, when),
				token: { ...server.issue(), expires_in: -1 },
			});
			session.on('storeError', (e) => errors.push(`${e.operation}:${e.error.problem}`));
			const statuses = await Promise.all(
				Array.from({ length: 10 }, (_, i) =>
					session.fetch(`${server.origin}/api/${i}`).then((r) => r.status),
				),
			);
			expect(statuses.every((s) => s === 200)).toBe(true);
			expect(server.stats.tokenRequests).toBe(1);
			expect(errors).toContain(`lock:${problem}`);
		},
	);
});
