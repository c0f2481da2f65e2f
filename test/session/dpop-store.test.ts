/**
 * A DPoP session's key lives with its token in the store: every context sharing the record signs
 * with the same key; a record whose key is missing or not the token's is a DPoPError, never a new
 * key; logout forgets the key; nothing prints the key, a proof or a nonce.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import {
	clientCredentialsGrant,
	DPoPError,
	MemoryStore,
	OAuth2Session,
	type OAuth2SessionOptions,
	type TokenStore,
} from '../../src/index.js';
import { FileStore } from '../../src/storage/file.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import type { StoredRecord } from '../../src/storage/token-store.js';
import {
	DPOP_REDIRECT_URI,
	dpopSession as dpopSessionOn,
	signIn as signInOn,
} from '../helpers/dpop-session.js';
import {
	type PostgresTestServer,
	requirePostgres,
	startPostgresServer,
} from '../helpers/postgres-server.js';

const postgres = requirePostgres();

const redirectUri = DPOP_REDIRECT_URI;
let server: AuthServer;
const dirs: string[] = [];
beforeAll(async () => {
	server = await startAuthServer({ redirectUri, dpop: true });
});
afterAll(async () => {
	await server.close();
	await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const dpopSession = (options: Partial<OAuth2SessionOptions> = {}) => dpopSessionOn(server, options);
const signIn = (session: OAuth2Session) => signInOn(session, server);

async function fileStore(): Promise<{ store: FileStore; dir: string }> {
	const dir = await mkdtemp(join(tmpdir(), 'dpop-store-'));
	dirs.push(dir);
	return { store: new FileStore({ dir }), dir };
}

const stores: Array<[string, () => Promise<TokenStore>]> = [
	['MemoryStore', async () => new MemoryStore()],
	['FileStore', async () => (await fileStore()).store],
];

describe.each(stores)('%s', (_, makeStore) => {
	it('a second context sharing the store signs with the key stored with the token', async () => {
		const store = await makeStore();
		const first = dpopSession({ store });
		await signIn(first);
		const thumbprint = await first.dpopThumbprint();
		const second = dpopSession({ store });
		expect((await second.fetch(`${server.api}/me`)).status).toBe(200);
		expect(await second.dpopThumbprint()).toBe(thumbprint);
		// And refreshes the DPoP-bound refresh token with it: the server checks.
		const issued = server.stats.refreshesIssued;
		await second.refreshToken();
		expect(server.stats.refreshesIssued - issued).toBe(1);
		expect((await first.fetch(`${server.api}/me`)).status).toBe(200);
		expect(server.stats.dpop?.refused).toEqual([]);
		first.close();
		second.close();
	});

	it('a record whose key does not match its thumbprint is a DPoPError, not a new key', async () => {
		const store = await makeStore();
		const first = dpopSession({ store });
		await signIn(first);
		first.close();
		const record = (await store.get('default')) as StoredRecord;
		expect(record.version).toBe(2);
		await store.set('default', { ...record, dpop: { ...record.dpop, jkt: 'not-the-key' } });
		const second = dpopSession({ store });
		const error = await second.fetch(`${server.api}/me`).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(DPoPError);
		expect(error).toMatchObject({ problem: 'key-mismatch' });
		second.close();
	});

	it('a DPoP token stored without its key is a DPoPError (key-missing)', async () => {
		const store = await makeStore();
		const first = dpopSession({ store });
		await signIn(first);
		first.close();
		const { dpop: _key, ...record } = (await store.get('default')) as StoredRecord;
		await store.set('default', { ...record, version: 1 });
		const second = dpopSession({ store });
		await expect(second.fetch(`${server.api}/me`)).rejects.toMatchObject({
			name: 'DPoPError',
			problem: 'key-missing',
		});
		await expect(second.refreshToken()).rejects.toMatchObject({ problem: 'key-missing' });
		second.close();
	});

	it('logout forgets the key: the next sign-in makes another', async () => {
		const store = await makeStore();
		const session = dpopSession({ store });
		await signIn(session);
		const before = await session.dpopThumbprint();
		await session.logout();
		expect(await store.get('default')).toBeUndefined();
		await signIn(session);
		expect(await session.dpopThumbprint()).not.toBe(before);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		session.close();
	});
});

describe('a daemon with a grant and no token yet', () => {
	it('contexts sharing a FileStore make one key under the lock, and one token with it', async () => {
		const { dir } = await fileStore();
		const { clientId, clientSecret } = server.clients.service;
		const daemons = Array.from(
			{ length: 4 },
			() =>
				new OAuth2Session({
					clientId,
					clientSecret,
					tokenEndpoint: server.tokenEndpoint,
					grant: clientCredentialsGrant({ scope: 'api:read' }),
					allowedOrigins: [server.origin],
					proactiveRefresh: false,
					// A store instance each, as separate processes would have.
					store: new FileStore({ dir }),
					dpop: true,
				}),
		);
		const before = server.stats.tokenRequests;
		const statuses = await Promise.all(
			daemons.map(async (daemon) => (await daemon.fetch(`${server.api}/me`)).status),
		);
		expect(statuses).toEqual([200, 200, 200, 200]);
		// One token request, sent twice: its first proof had no nonce yet.
		expect(server.stats.tokenRequests - before).toBe(2);
		const thumbprints = new Set(await Promise.all(daemons.map((d) => d.dpopThumbprint())));
		expect(thumbprints.size).toBe(1);
		for (const daemon of daemons) daemon.close();
	});
});

describe('where the key is kept', () => {
	it('MemoryStore keeps a non-extractable CryptoKeyPair', async () => {
		const store = new MemoryStore();
		const session = dpopSession({ store });
		await signIn(session);
		const record = (await store.get('default')) as StoredRecord;
		expect(record.dpop?.keyPair?.privateKey).toBeInstanceOf(CryptoKey);
		expect(record.dpop?.keyPair?.privateKey.extractable).toBe(false);
		expect(record.dpop?.privateJwk).toBeUndefined();
		expect(record.dpop?.jkt).toBe(await session.dpopThumbprint());
		session.close();
	});

	it('FileStore keeps the private JWK in the record, in a file only its owner reads', async () => {
		const { store, dir } = await fileStore();
		const session = dpopSession({ store });
		await signIn(session);
		const record = (await store.get('default')) as StoredRecord;
		expect(record.dpop?.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
		expect(typeof record.dpop?.privateJwk?.d).toBe('string');
		const files = (await import('node:fs/promises')).readdir(dir);
		for (const name of await files) {
			if (!name.endsWith('.json')) continue;
			expect((await stat(join(dir, name))).mode & 0o077).toBe(0);
			expect(await readFile(join(dir, name), 'utf8')).toContain('"dpop"');
		}
		session.close();
	});

	it('a given key pair (EdDSA) is used as it is; the store keeps only its thumbprint', async () => {
		const keyPair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
			'sign',
			'verify',
		])) as CryptoKeyPair;
		const { store } = await fileStore();
		const session = dpopSession({ store, dpop: { keyPair } });
		await signIn(session);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		const record = (await store.get('default')) as StoredRecord;
		expect(record.dpop).toEqual({ jkt: await session.dpopThumbprint() });
		session.close();

		// Another key given for the same record is refused.
		const other = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
			'sign',
			'verify',
		])) as CryptoKeyPair;
		const wrong = dpopSession({ store, dpop: { keyPair: other } });
		await expect(wrong.fetch(`${server.api}/me`)).rejects.toMatchObject({
			problem: 'key-mismatch',
		});
		wrong.close();
	});

	it('a key DPoP cannot use is refused with a DPoPError', async () => {
		const keyPair = (await crypto.subtle.generateKey(
			{ name: 'ECDSA', namedCurve: 'P-384' },
			false,
			['sign', 'verify'],
		)) as CryptoKeyPair;
		const session = dpopSession({ dpop: { keyPair } });
		await expect(session.dpopThumbprint()).rejects.toMatchObject({ problem: 'unsupported-key' });
		session.close();
	});
});

describe('no secret in any printout', () => {
	it('the session, its token, its events and its errors print no key, proof, nonce or token', async () => {
		const store = new MemoryStore();
		const seen: unknown[] = [];
		const headers: string[] = [];
		const session = dpopSession({
			store,
			fetch: async (input, init) => {
				const sent = new Headers(init?.headers);
				for (const name of ['dpop', 'authorization']) {
					const value = sent.get(name);
					if (value !== null) headers.push(value.replace(/^DPoP /, ''));
				}
				const response = await fetch(input, init);
				const nonce = response.headers.get('dpop-nonce');
				if (nonce !== null) headers.push(nonce);
				return response;
			},
		});
		session.on('tokenUpdated', (event) => seen.push(event));
		await signIn(session);
		await session.fetch(`${server.api}/me`);
		const record = (await store.get('default')) as StoredRecord;
		const privateKey = record.dpop?.keyPair?.privateKey as CryptoKey;
		// Not extractable: no context can read the key out, which is the point.
		const exported = await crypto.subtle.exportKey('jwk', privateKey).catch(() => undefined);
		expect(exported).toBeUndefined();
		const secrets = [
			...headers,
			session.token?.accessToken as string,
			session.token?.refreshToken as string,
		];
		expect(secrets.length).toBeGreaterThan(4);
		server.dpopResource?.rotateNonce();
		const stream = new ReadableStream({ start: (c) => c.close() });
		const error = await session
			.fetch(`${server.api}/x`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(DPoPError);
		for (const value of [session, session.token, error, ...seen]) {
			const printed = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value)].join(
				'\n',
			);
			for (const secret of secrets) expect(printed).not.toContain(secret);
		}
		session.close();
	});

	it('a FileStore key JWK appears in no printout of the session', async () => {
		const { store } = await fileStore();
		const session = dpopSession({ store });
		await signIn(session);
		const jwk = ((await store.get('default')) as StoredRecord).dpop?.privateJwk as JsonWebKey;
		const printed = [
			inspect(session, { depth: 10, showHidden: true }),
			JSON.stringify(session),
		].join('\n');
		expect(printed).not.toContain(jwk.d as string);
		session.close();
	});
});

describe.skipIf(postgres.missing)(postgres.title('PostgresStore'), () => {
	let database: PostgresTestServer;
	const opened: PostgresStore[] = [];
	const storeOn = () => {
		const store = new PostgresStore({ connectionString: database.url, table: 'dpop_tokens' });
		opened.push(store);
		return store;
	};
	beforeAll(async () => {
		database = await startPostgresServer(postgres.path as string);
		await storeOn().migrate();
	}, 60_000);
	afterAll(async () => {
		await Promise.all(opened.map((store) => store.close()));
		await database?.stop();
	});

	it('keeps the private JWK in the record; another connection signs and refreshes with it', async () => {
		const first = dpopSession({ store: storeOn() });
		await signIn(first);
		const thumbprint = await first.dpopThumbprint();
		first.close();
		const store = storeOn();
		const record = (await store.get('default')) as StoredRecord;
		expect(record.version).toBe(2);
		expect(record.dpop?.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
		const second = dpopSession({ store });
		expect((await second.fetch(`${server.api}/me`)).status).toBe(200);
		expect(await second.dpopThumbprint()).toBe(thumbprint);
		await second.refreshToken();
		expect((await second.fetch(`${server.api}/me`)).status).toBe(200);
		expect(server.stats.dpop?.refused).toEqual([]);
		second.close();
	});
});
