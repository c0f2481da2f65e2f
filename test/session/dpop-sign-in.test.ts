/**
 * A DPoP session's key is in the store before the first token: the code an authorization request
 * binds to it (PAR or plain `dpop_jkt`, RFC 9449 §10) is exchanged by any context sharing the
 * store (a new page after the redirect, another process), against oidc-provider with DPoP and
 * nonces required. Contexts that make a key at once end with one; a record holding only the key
 * is no token to every context.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import {
	type AuthorizationRequest,
	discover,
	MemoryStore,
	type OAuth2Session,
	type OAuth2SessionOptions,
	ReauthenticationRequiredError,
	StorageError,
	type Token,
	type TokenStore,
} from '../../src/index.js';
import { FileStore } from '../../src/storage/file.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { RedisStore } from '../../src/storage/redis.js';
import { decodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import { DPOP_REDIRECT_URI, dpopSession as dpopSessionOn } from '../helpers/dpop-session.js';
import {
	type PostgresTestServer,
	requirePostgres,
	startPostgresServer,
} from '../helpers/postgres-server.js';
import { type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireRedisServer } from '../helpers/requirements.js';
import { eventually } from '../helpers/store-outage.js';

const redisServer = requireRedisServer();
const postgres = requirePostgres();

let server: AuthServer;
let redis: RedisTestServer | undefined;
let database: PostgresTestServer | undefined;
const dirs: string[] = [];
/** Store instances to close after the suite. */
const opened: Array<RedisStore | PostgresStore> = [];
beforeAll(async () => {
	[server, redis, database] = await Promise.all([
		startAuthServer({ redirectUri: DPOP_REDIRECT_URI, dpop: true }),
		redisServer.missing ? undefined : startRedisServer(redisServer.path as string),
		postgres.missing ? undefined : startPostgresServer(postgres.path as string),
	]);
}, 60_000);
afterAll(async () => {
	await Promise.all(opened.map((store) => store.close()));
	await Promise.all([server?.close(), redis?.stop(), database?.stop()]);
	await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Places made, for a fresh Redis prefix or table each. */
let made = 0;

const pushing = (store: TokenStore, options: Partial<OAuth2SessionOptions> = {}) =>
	dpopSessionOn(server, {
		store,
		clientId: server.clients.parPublic.clientId,
		pushedAuthorizationRequestEndpoint: server.pushedAuthorizationRequestEndpoint,
		...options,
	});

/** Store instances on one place: the same MemoryStore, or FileStores on one directory. */
type Place = [string, () => Promise<() => TokenStore>];
const places: Place[] = [
	[
		'MemoryStore',
		async () => {
			const store = new MemoryStore();
			return () => store;
		},
	],
	[
		'FileStore',
		async () => {
			const dir = await mkdtemp(join(tmpdir(), 'dpop-sign-in-'));
			dirs.push(dir);
			// An instance each, as separate processes have.
			return () => new FileStore({ dir });
		},
	],
	// Conditional writes on the server's side: a Lua script, and one SQL statement.
	...(redisServer.missing
		? []
		: ([
				[
					'RedisStore',
					async () => {
						const prefix = `dpop-sign-in-${++made}:`;
						return () => keep(new RedisStore({ url: redis?.url as string, prefix }));
					},
				],
			] satisfies Place[])),
	...(postgres.missing
		? []
		: ([
				[
					'PostgresStore',
					async () => {
						const table = `dpop_sign_in_${++made}`;
						const open = () =>
							keep(new PostgresStore({ connectionString: database?.url as string, table }));
						await open().migrate();
						return open;
					},
				],
			] satisfies Place[])),
];

function keep<T extends RedisStore | PostgresStore>(store: T): T {
	opened.push(store);
	return store;
}

/**
 * Exchanges the code of `request`'s approval (`callback`, else approved now) in `session`, which
 * may not be the one that asked.
 */
async function exchange(
	session: OAuth2Session,
	request: AuthorizationRequest,
	callback?: string,
): Promise<Token> {
	return session.fetchToken({
		authorizationResponse: callback ?? (await server.approve(request.url)),
		issuer: server.issuer,
		state: request.state,
		codeVerifier: request.codeVerifier,
	});
}

/** The API answers with proofs of `session`'s key: the token's binding (cnf.jkt) is that key. */
async function callsWithItsKey(session: OAuth2Session, jkt: string): Promise<void> {
	server.stats.dpop?.thumbprints.clear();
	expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
	expect(server.stats.dpop?.thumbprints).toEqual(new Set([jkt]));
}

describe.each(places)('%s', (_, placeOf) => {
	it('a pushed request is exchanged by a new session on the same store, with the one key', async () => {
		const storeOf = await placeOf();
		const first = pushing(storeOf());
		const pushed = await first.authorizationUrl();
		const jkt = (await first.dpopThumbprint()) as string;
		// Stored before the user left: a record with the key and no token.
		const stored = (await storeOf().get('default')) as StoredRecord;
		expect(stored).toMatchObject({ version: 2, dpop: { jkt } });
		expect(stored.token).toBeUndefined();

		// As on a callback page: the session is made and exchanges the code at once, before it has
		// read its store.
		const callback = await server.approve(pushed.url);
		const second = pushing(storeOf());
		const token = await exchange(second, pushed, callback);
		expect(token.tokenType).toBe('DPoP');
		expect(await second.dpopThumbprint()).toBe(jkt);
		expect(await first.dpopThumbprint()).toBe(jkt);
		// The first token's record keeps the key.
		expect((await storeOf().get('default'))?.dpop?.jkt).toBe(jkt);
		expect(server.stats.dpop?.refused).toEqual([]);

		await callsWithItsKey(second, jkt);
		// The first session takes the token from the store (told, or reading it at the request),
		// and signs with the same key.
		await callsWithItsKey(first, jkt);
		expect(first.token?.accessToken).toBe(token.accessToken);
		expect(server.stats.dpop?.refused).toEqual([]);
		first.close();
		second.close();
	});

	it('a plain authorization URL carries dpop_jkt when the metadata has DPoP: the code goes only with the stored key', async () => {
		const storeOf = await placeOf();
		const metadata = await discover(server.issuer, { cache: false });
		expect(metadata.dpop_signing_alg_values_supported).toContain('ES256');
		// Not pushed: the metadata names a push endpoint.
		const plain = { metadata, pushedAuthorizationRequestEndpoint: false } as const;
		const first = dpopSessionOn(server, { store: storeOf(), ...plain });
		const request = await first.authorizationUrl();
		const jkt = await first.dpopThumbprint();
		expect(new URL(request.url).searchParams.get('dpop_jkt')).toBe(jkt);
		// Without metadata saying the server does DPoP, the code is not bound (see the next suite).
		const unsure = dpopSessionOn(server, { store: new MemoryStore() });
		expect(new URL((await unsure.authorizationUrl()).url).searchParams.has('dpop_jkt')).toBe(false);
		unsure.close();

		// Another store, another key: the server refuses the code to it.
		const stranger = dpopSessionOn(server, { store: new MemoryStore() });
		const refused = await exchange(stranger, request).catch((e: unknown) => e);
		expect(refused).toMatchObject({ name: 'OAuth2ResponseError', error: 'invalid_grant' });

		const again = await first.authorizationUrl();
		const second = dpopSessionOn(server, { store: storeOf(), ...plain });
		const token = await exchange(second, again);
		expect(token.tokenType).toBe('DPoP');
		await callsWithItsKey(second, jkt as string);
		first.close();
		second.close();
		stranger.close();
	});

	it('8 sessions that make a key at once end with one, the one stored', async () => {
		const storeOf = await placeOf();
		const sessions = Array.from({ length: 8 }, () => pushing(storeOf()));
		const seen = await Promise.all(
			sessions.map(async (session, i) => {
				if (i % 2 === 1) await session.authorizationUrl();
				return session.dpopThumbprint();
			}),
		);
		expect(new Set(seen).size).toBe(1);
		expect((await storeOf().get('default'))?.dpop?.jkt).toBe(seen[0]);
		for (const session of sessions) session.close();
	});
});

describe('a record that holds only the key', () => {
	async function keyOnly(): Promise<{ store: MemoryStore; jkt: string }> {
		const store = new MemoryStore();
		const maker = dpopSessionOn(server, { store });
		const jkt = (await maker.dpopThumbprint()) as string;
		maker.close();
		return { store, jkt };
	}

	it('decodes as a key and no token; a record with neither is corrupt', async () => {
		const { store, jkt } = await keyOnly();
		const record = await store.get('default');
		expect(decodeStoredRecord(record, 'default')).toMatchObject({
			token: undefined,
			dpop: { jkt },
		});
		const { dpop: _dpop, ...neither } = record as StoredRecord;
		expect(() => decodeStoredRecord(neither, 'default')).toThrow(StorageError);
		expect(() => decodeStoredRecord({ ...neither, version: 1 }, 'default')).toThrow(
			/holds no valid token/,
		);
		expect(() =>
			decodeStoredRecord({ ...(record as StoredRecord), version: 1 }, 'default'),
		).toThrow(StorageError);
	});

	it('is no token: no Authorization header, ReauthenticationRequiredError; the key is used; logout deletes it', async () => {
		const { store, jkt } = await keyOnly();
		const session = dpopSessionOn(server, { store });
		await session.ready;
		expect(session.token).toBeUndefined();
		const apiRequests = server.stats.apiRequests;
		await expect(session.fetch(`${server.api}/me`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		expect(server.stats.apiRequests).toBe(apiRequests);
		expect(await session.dpopThumbprint()).toBe(jkt);
		await session.logout();
		expect(await store.get('default')).toBeUndefined();
		session.close();
	});

	it('a session made on a callback page exchanges the code at once with the stored key, even when its store is slow to read', async () => {
		const store = new MemoryStore();
		const leaving = pushing(store);
		const pushed = await leaving.authorizationUrl();
		const jkt = await leaving.dpopThumbprint();
		leaving.close();
		const callback = await server.approve(pushed.url);
		// Its reads answer late, as an IndexedDB being opened does.
		const slow: TokenStore = {
			get: async (key) => {
				await new Promise((resolve) => setTimeout(resolve, 100));
				return store.get(key);
			},
			set: (key, record) => store.set(key, record),
			delete: (key) => store.delete(key),
			lock: (key, fn, options) => store.lock(key, fn, options),
			keepsCryptoKeys: true,
		};
		const landing = pushing(slow);
		const token = await exchange(landing, pushed, callback);
		expect(token.tokenType).toBe('DPoP');
		expect(await landing.dpopThumbprint()).toBe(jkt);
		landing.close();
	});

	it('a session that holds only the key and hears of no change takes the token from the store at its next request', async () => {
		const store = new MemoryStore();
		// No subscribe: as a store whose subscription is not up yet, or that has none.
		const deaf: TokenStore = {
			get: (key) => store.get(key),
			set: (key, record) => store.set(key, record),
			delete: (key) => store.delete(key),
			lock: (key, fn, options) => store.lock(key, fn, options),
			keepsCryptoKeys: true,
		};
		const first = pushing(deaf);
		const pushed = await first.authorizationUrl();
		const second = pushing(deaf);
		const token = await exchange(second, pushed);
		expect(first.token).toBeUndefined();
		await callsWithItsKey(first, (await second.dpopThumbprint()) as string);
		expect(first.token?.accessToken).toBe(token.accessToken);
		first.close();
		second.close();
	});

	it('a logout elsewhere deletes the stored key: the next sign-in here stores a new one', async () => {
		const { store, jkt } = await keyOnly();
		const waiting = dpopSessionOn(server, { store });
		expect(await waiting.dpopThumbprint()).toBe(jkt);
		const other = dpopSessionOn(server, { store });
		await other.logout();
		expect(await store.get('default')).toBeUndefined();
		const pushed = await waiting.authorizationUrl();
		const fresh = await waiting.dpopThumbprint();
		expect(fresh).not.toBe(jkt);
		expect((await store.get('default'))?.dpop?.jkt).toBe(fresh);
		// And the code goes to any context sharing the store.
		const landing = dpopSessionOn(server, { store });
		expect((await exchange(landing, pushed)).tokenType).toBe('DPoP');
		await callsWithItsKey(landing, fresh as string);
		for (const session of [waiting, other, landing]) session.close();
	});

	it('a key-only record written elsewhere neither ends a session holding a token nor gives one', async () => {
		const store = new MemoryStore();
		const signedIn = dpopSessionOn(server, { store });
		const { url } = await signedIn.authorizationUrl();
		const token = await signedIn.fetchToken({
			authorizationResponse: await server.approve(url),
			issuer: server.issuer,
		});
		const ended: unknown[] = [];
		signedIn.on('sessionEnded', (event) => ended.push(event));
		const updated: unknown[] = [];
		signedIn.on('tokenUpdated', (event) => updated.push(event));
		const storeErrors: unknown[] = [];
		signedIn.on('storeError', (event) => storeErrors.push(event));
		const { dpop } = (await store.get('default')) as StoredRecord;
		// Another context writes a record with the key only (a store that reports only the latest of
		// a logout and a new sign-in's key).
		await store.set('default', { version: 2, writtenAt: Date.now(), dpop } as StoredRecord);
		// MemoryStore notifies before set() resolves; a turn more for the session to take it.
		await new Promise((resolve) => setTimeout(resolve, 0));
		// Read as a record, not reported as a corrupt one.
		expect(storeErrors).toEqual([]);
		expect(ended).toEqual([]);
		expect(updated).toEqual([]);
		expect(signedIn.token?.accessToken).toBe(token.accessToken);
		signedIn.close();
	});

	it('the first token, not saved while the store was down, replaces the key-only record once it is back', async () => {
		const store = new MemoryStore();
		let down = false;
		const flaky: TokenStore = {
			get: (key) => store.get(key),
			set: async (key, record) => {
				if (down) throw new Error('connection refused');
				await store.set(key, record);
			},
			delete: (key) => store.delete(key),
			lock: (key, fn, options) => store.lock(key, fn, options),
			keepsCryptoKeys: true,
		};
		const session = pushing(flaky);
		const pushed = await session.authorizationUrl();
		const jkt = await session.dpopThumbprint();
		down = true;
		const token = await session.fetchToken({
			authorizationResponse: await server.approve(pushed.url),
			issuer: server.issuer,
		});
		expect((await store.get('default'))?.token).toBeUndefined();
		down = false;
		// A request runs the replay of the save.
		await eventually('the token is saved', async () => {
			await session.fetch(`${server.api}/me`);
			return (await store.get('default'))?.token?.access_token === token.accessToken;
		});
		expect((await store.get('default'))?.dpop?.jkt).toBe(jkt);
		session.close();
	});

	it('a store down when the key must be saved: the key is kept in memory, and storeError says so', async () => {
		const store = new MemoryStore();
		const down: TokenStore = {
			get: (key) => store.get(key),
			set: async () => {
				throw new Error('connection refused');
			},
			delete: (key) => store.delete(key),
			keepsCryptoKeys: true,
		};
		const session = pushing(down);
		const errors: { operation: string; error: StorageError }[] = [];
		session.on('storeError', (event) => errors.push(event));
		const pushed = await session.authorizationUrl();
		expect(errors.map((event) => [event.operation, event.error.problem])).toEqual([
			['set', 'unavailable'],
		]);
		// The same instance still exchanges the code with its key.
		const token = await session.fetchToken({
			authorizationResponse: await server.approve(pushed.url),
			issuer: server.issuer,
		});
		expect(token.tokenType).toBe('DPoP');
		await callsWithItsKey(session, (await session.dpopThumbprint()) as string);
		session.close();
	});
});
