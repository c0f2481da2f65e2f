import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError, StorageError } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import { command, type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireRedisServer } from '../helpers/requirements.js';
import { describeStoreContract } from './contract.js';

const redisServer = requireRedisServer();

const record = (accessToken: string): StoredRecord =>
	encodeStoredRecord(
		new Token({ accessToken, refreshToken: `r-${accessToken}`, expiresAt: Date.now() + 60_000 }),
	);

/** The hash tag Redis Cluster hashes a name by (the Cluster specification's rule). */
function hashTag(name: string): string {
	const open = name.indexOf('{');
	if (open === -1) return name;
	const close = name.indexOf('}', open + 1);
	return close === -1 || close === open + 1 ? name : name.slice(open + 1, close);
}

const trickyKeys = ['default', 'user:42', '}', '}x', 'a}b', '{x}', '%7D', '', 'ünïcode'];

/** A store whose lazy client never connects: naming needs no server. */
const named = (prefix?: string) =>
	new RedisStore({ url: 'redis://127.0.0.1:1', ...(prefix === undefined ? {} : { prefix }) });

describe('RedisStore key names', () => {
	it('uses the {prefix + key} hash tag, with the default prefix', () => {
		expect(named().keysFor('user-1')).toEqual({
			record: '{oauth2-session:user-1}',
			lock: '{oauth2-session:user-1}:lock',
			channel: '{oauth2-session:user-1}:changed',
			ended: '{oauth2-session:user-1}:ended',
		});
	});

	it.each(['oauth2-session:', 'p', 'app:{tokens}:', 'a}b%'])(
		'puts the record, lock, channel and delete mark of any key in one Cluster slot (prefix %j)',
		(prefix) => {
			const store = named(prefix);
			for (const key of trickyKeys) {
				const { record, lock, channel, ended } = store.keysFor(key);
				const tag = hashTag(record);
				expect(tag).not.toBe(record);
				expect(hashTag(lock)).toBe(tag);
				expect(hashTag(channel)).toBe(tag);
				expect(hashTag(ended)).toBe(tag);
				expect(hashTag(`${record}:corrupt:1`)).toBe(tag);
			}
		},
	);

	it('gives different keys different names', () => {
		const store = named('p:');
		const records = trickyKeys.flatMap((key) => Object.values(store.keysFor(key)));
		expect(new Set(records).size).toBe(records.length);
	});

	it('refuses options without exactly one of client and url, or with a bad url', () => {
		expect(() => new RedisStore({})).toThrow(InvalidOptionsError);
		expect(
			() =>
				new RedisStore({ url: 'redis://127.0.0.1:1', client: new Redis({ lazyConnect: true }) }),
		).toThrow(InvalidOptionsError);
		expect(() => new RedisStore({ url: 'http://127.0.0.1:6379' })).toThrow(InvalidOptionsError);
		expect(() => new RedisStore({ url: 'not a url' })).toThrow(InvalidOptionsError);
		expect(() => new RedisStore({ url: 'redis://x', commandTimeout: 0 })).toThrow(
			InvalidOptionsError,
		);
		expect(() => new RedisStore({ url: 'redis://x', prefix: '' })).toThrow(InvalidOptionsError);
	});
});

describe.skipIf(redisServer.missing)(redisServer.title('RedisStore on redis-server'), () => {
	let server: RedisTestServer;
	const clients: Redis[] = [];
	const stores: RedisStore[] = [];
	let prefixes = 0;

	/** A client as a user would make one, with the 'error' listener ioredis asks for. */
	const client = () => {
		const made = new Redis(server.url, { lazyConnect: true });
		made.on('error', () => {});
		clients.push(made);
		return made;
	};
	const storeOn = (made: Redis, prefix: string, commandTimeout?: number) => {
		const store = new RedisStore({
			client: made,
			prefix,
			...(commandTimeout === undefined ? {} : { commandTimeout }),
		});
		stores.push(store);
		return store;
	};
	/** Two stores on their own clients, as two processes would have, sharing a fresh prefix. */
	const pair = () => {
		const prefix = `test-${++prefixes}:`;
		return { store: storeOn(client(), prefix), peer: storeOn(client(), prefix), prefix };
	};

	beforeAll(async () => {
		server = await startRedisServer(redisServer.path as string);
	});
	afterEach(async () => {
		await Promise.all(stores.splice(0).map((store) => store.close()));
		await Promise.all(clients.splice(0).map((made) => made.quit().catch(() => {})));
	});
	afterAll(() => server.stop());

	/**
	 * Redis delivers to a subscription once the server has processed its SUBSCRIBE, and the
	 * contract writes right after subscribe(). So the handles are handed out warm, as a running
	 * session's are: their connections open, the subscriber's too, so a SUBSCRIBE goes out at once
	 * and reaches Redis before a write sent after it.
	 */
	const warm = async (store: RedisStore, peer: RedisStore) => {
		await Promise.all([store.get('warm-up'), peer.get('warm-up')]);
		store.subscribe('warm-up', () => {});
		await subscribed(store, 'warm-up');
	};
	/** Resolves once Redis counts a subscriber on the key's channel. */
	const subscribed = async (store: RedisStore, key: string) => {
		const { channel } = store.keysFor(key);
		const raw = client();
		await expect
			.poll(async () => ((await raw.pubsub('NUMSUB', channel)) as [string, number])[1], {
				timeout: 10_000,
			})
			.toBe(1);
	};

	describeStoreContract('RedisStore', {
		async create() {
			const { store, peer } = pair();
			await warm(store, peer);
			return { store, peer, cleanup: async () => {} };
		},
	});

	it('stores the JSON of the record under the hash-tagged name', async () => {
		const { store, prefix } = pair();
		const value = record('one');
		await store.set('k', value);
		const raw = await client().get(`{${prefix}k}`);
		expect(JSON.parse(raw ?? '')).toEqual(JSON.parse(JSON.stringify(value)));
	});

	it('moves corrupt bytes aside, names them in a typed error, and never loses them', async () => {
		const { store, peer } = pair();
		const { record: name } = store.keysFor('k');
		const raw = client();
		const secretBytes = [
			// Not JSON: a SyntaxError about these would quote them.
			'at-secret-1 and more',
			JSON.stringify({ version: 1, token: { refresh_token: 'rt-secret-2' }, writtenAt: 1 }),
		];
		for (const bytes of secretBytes) {
			await raw.set(name, bytes);
			const error = await store.get('k').catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StorageError);
			expect(error).toMatchObject({ problem: 'corrupt', key: 'k' });
			const aside = (error as Error).message.match(/moved to "([^"]+)"/)?.[1] ?? '';
			expect(aside.startsWith(`${name}:corrupt:`)).toBe(true);
			expect(await raw.get(aside)).toBe(bytes);
			// Neither the message nor the causes repeat what may be a token.
			expect(inspect(error, { depth: 10 })).not.toMatch(/secret/);
			expect(JSON.stringify(error)).not.toMatch(/secret/);
			// Gone from the record's place, so the next login's write overwrites nothing.
			expect(await peer.get('k')).toBeUndefined();
		}
	});

	it('leaves a record of a newer version in place', async () => {
		const { store } = pair();
		const { record: name } = store.keysFor('k');
		const newer = JSON.stringify({ version: 3, token: {}, writtenAt: 1 });
		await client().set(name, newer);
		await expect(store.get('k')).rejects.toMatchObject({
			name: 'StorageError',
			problem: 'unsupported-version',
			key: 'k',
		});
		expect(await client().get(name)).toBe(newer);
	});

	it('caps the size of a record it reads, naming the limit, without fetching it', async () => {
		const { store } = pair();
		const { record: name } = store.keysFor('k');
		// SETRANGE makes a 200 MB string on the server without sending 200 MB.
		await client().setrange(name, 200 * 1024 * 1024 - 1, 'x');
		const error = await store.get('k').catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'StorageError', problem: 'corrupt', key: 'k' });
		expect(String((error as Error).message)).toMatch(/larger than the 1 MiB/);
		expect(await client().strlen(name)).toBe(200 * 1024 * 1024);
		await client().del(name);
	});

	it('a key of another type is corrupt, not unavailable', async () => {
		const { store } = pair();
		await client().hset(store.keysFor('k').record, 'field', 'value');
		await expect(store.get('k')).rejects.toMatchObject({ problem: 'corrupt', key: 'k' });
	});

	it('the lock is SET NX PX with an owner id; only its owner releases it', async () => {
		const { store, peer } = pair();
		const { lock } = store.keysFor('k');
		const raw = client();
		const gate = () => {
			let open!: () => void;
			return { opened: new Promise<void>((r) => (open = r)), open: () => open() };
		};
		const firstDone = gate();
		const peerDone = gate();
		// Signals that each holder is in, where polls with a 1 s deadline raced a loaded machine.
		const firstIn = gate();
		const peerIn = gate();
		let first: { owner: string | null; ttl: number } | undefined;
		const firstHolder = store.lock(
			'k',
			async () => {
				first = { owner: await raw.get(lock), ttl: await raw.pttl(lock) };
				firstIn.open();
				await firstDone.opened;
			},
			{ ttl: 1_000, waitTimeout: 1_000 },
		);
		await firstIn.opened;
		expect(first).toBeDefined();
		// The first holder outlives its ttl: Redis expires its lock and the peer takes it.
		await expect.poll(() => raw.exists(lock), { timeout: 5_000 }).toBe(0);
		let peerOwner: string | null = null;
		const peerHolder = peer.lock(
			'k',
			async () => {
				peerOwner = await raw.get(lock);
				peerIn.open();
				await peerDone.opened;
			},
			{ ttl: 10_000, waitTimeout: 5_000 },
		);
		await peerIn.opened;
		expect(peerOwner).not.toBeNull();
		firstDone.open();
		await firstHolder;
		// The first holder's release has run, and left the peer's lock alone.
		expect(await raw.get(lock)).toBe(peerOwner);
		peerDone.open();
		await peerHolder;
		expect(await raw.exists(lock)).toBe(0);
		expect(first?.owner).toMatch(/^[0-9a-f-]{36}$/);
		expect(first?.ttl).toBeGreaterThan(0);
		expect(first?.ttl).toBeLessThanOrEqual(1_000);
		expect(peerOwner).not.toBe(first?.owner);
	});

	it('falls back to EVAL when the server has lost its script cache', async () => {
		const { store, peer } = pair();
		await store.set('k', record('one'));
		await client().script('FLUSH');
		await store.set('k', record('two'));
		expect((await peer.get('k'))?.token?.access_token).toBe('two');
	});

	it('drops a notification that is not a valid record, and delivers the next one', async () => {
		const { store, peer } = pair();
		const seen: (string | undefined)[] = [];
		store.subscribe('k', (r) => seen.push(r?.token?.access_token));
		await subscribed(store, 'k');
		await client().publish(store.keysFor('k').channel, '{"version":1}');
		await peer.set('k', record('one'));
		await expect.poll(() => seen, { timeout: 5_000 }).toEqual(['one']);
	});

	it('deleting a missing key tells no subscriber', async () => {
		const { store, peer } = pair();
		const seen: unknown[] = [];
		store.subscribe('k', (r) => seen.push(r));
		await subscribed(store, 'k');
		await peer.delete('k');
		await peer.set('k', record('one'));
		await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(1);
	});

	it('close() ends its own connections, not the client it was given', async () => {
		// A server of its own, so the connection count is this test's alone.
		const own = await startRedisServer(redisServer.path as string);
		try {
			const given = new Redis(own.url);
			given.on('error', () => {});
			clients.push(given);
			const borrowed = new RedisStore({ client: given });
			const owned = new RedisStore({ url: own.url });
			for (const store of [borrowed, owned]) {
				store.subscribe('k', () => {});
				await store.get('k');
			}
			// Counted by a connection of its own: the given client, a subscriber, the owned client
			// and its subscriber, and this one.
			const connections = async () =>
				Number((await command(own.port, ['INFO', 'clients'], /connected_clients:(\d+)/))[1]);
			await expect.poll(connections, { timeout: 10_000 }).toBe(5);
			await borrowed.close();
			await owned.close();
			await expect.poll(connections, { timeout: 10_000 }).toBe(2);
			expect(await given.ping()).toBe('PONG');
			await expect(owned.get('k')).rejects.toMatchObject({ problem: 'unavailable' });
		} finally {
			await own.stop();
		}
	});

	it('a Cluster node computes one slot for the record, the lock and the channel', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'oauth2-session-cluster-'));
		const node = await startRedisServer(redisServer.path as string, [
			'--cluster-enabled',
			'yes',
			'--cluster-config-file',
			join(dir, 'nodes.conf'),
		]);
		try {
			const store = named();
			const slot = async (name: string) =>
				Number((await command(node.port, ['CLUSTER', 'KEYSLOT', name], /:(\d+)\r\n/))[1]);
			for (const key of trickyKeys) {
				const names = Object.values(store.keysFor(key));
				const slots = await Promise.all(names.map(slot));
				expect(new Set(slots).size, key).toBe(1);
			}
		} finally {
			await node.stop();
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
