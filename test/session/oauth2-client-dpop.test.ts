/**
 * OAuth2Client with DPoP (RFC 9449), against oidc-provider with nonces required at the token
 * endpoint and an API that checks every proof against its token's binding (demo/dpop-resource.ts):
 * each user's tokens are bound to a key of their own, stored with the user's record; a nonce one
 * user's request learnt is the server's, and every other user's requests carry it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import type { DPoPResourceStats } from '../../demo/dpop-resource.js';
import { OAuth2Client, type OAuth2ClientOptions } from '../../src/session/oauth2-client.js';
import { FileStore } from '../../src/storage/file.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { StoredRecord, TokenStore } from '../../src/storage/token-store.js';
import { DPOP_REDIRECT_URI } from '../helpers/dpop-session.js';

const USERS = 20;
const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);

let server: AuthServer;
const dirs: string[] = [];
beforeAll(async () => {
	server = await startAuthServer({ redirectUri: DPOP_REDIRECT_URI, dpop: true });
});
afterAll(async () => {
	await server.close();
	await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const dpopStats = (): DPoPResourceStats => server.stats.dpop as DPoPResourceStats;

/** A client of the server's public app, as one web server process has. */
function dpopClient(store: TokenStore, options: Partial<OAuth2ClientOptions> = {}): OAuth2Client {
	return new OAuth2Client({
		clientId: server.clients.public.clientId,
		authorizationEndpoint: server.authorizationEndpoint,
		tokenEndpoint: server.tokenEndpoint,
		redirectUri: DPOP_REDIRECT_URI,
		scope: server.scope,
		allowedOrigins: [server.origin],
		store,
		dpop: true,
		...options,
	});
}

/** What `run` cost: token requests, API requests and the API's nonce refusals. */
async function counted<T>(
	run: () => Promise<T>,
): Promise<{ result: T; token: number; api: number; challenges: number }> {
	const before = {
		token: server.stats.tokenRequests,
		api: server.stats.apiRequests,
		challenges: dpopStats().nonceChallenges,
	};
	const result = await run();
	return {
		result,
		token: server.stats.tokenRequests - before.token,
		api: server.stats.apiRequests - before.api,
		challenges: dpopStats().nonceChallenges - before.challenges,
	};
}

/** Every user calls the API at once; resolves with the `sub` each answer names. */
function everyoneCalls(client: OAuth2Client): Promise<unknown[]> {
	return Promise.all(
		users.map(async (user) => {
			const response = await client.session(user).fetch(`${server.api}/me`);
			expect(response.status).toBe(200);
			return ((await response.json()) as { sub: unknown }).sub;
		}),
	);
}

const stores: Array<[string, () => Promise<TokenStore>]> = [
	['MemoryStore', async () => new MemoryStore()],
	[
		'FileStore',
		async () => {
			const dir = await mkdtemp(join(tmpdir(), 'client-dpop-'));
			dirs.push(dir);
			return new FileStore({ dir });
		},
	],
];

describe.each(stores)(`%s: ${USERS} users of one OAuth2Client with dpop`, (_, makeStore) => {
	it('each user has a key of their own; a fresh client refreshes 20 expired tokens with 20 refreshes and one nonce refusal', async () => {
		const store = await makeStore();
		const client = dpopClient(store);
		// 20 sign-ins at once: the first code exchange learns the token endpoint's nonce for all.
		const signIns = await counted(() =>
			Promise.all(
				users.map(async (user) => {
					const session = client.session(user);
					const { url, state, codeVerifier } = await session.authorizationUrl();
					const callback = await server.approve(url, { account: user });
					await session.fetchToken({ authorizationResponse: callback, state, codeVerifier });
				}),
			),
		);
		expect(signIns.token).toBe(USERS + 1);
		const thumbprints = await Promise.all(
			users.map(async (user) => client.session(user).dpopThumbprint()),
		);
		expect(new Set(thumbprints).size).toBe(USERS);
		for (const [i, user] of users.entries()) {
			const record = (await store.get(user)) as StoredRecord;
			expect(record.token?.token_type).toBe('DPoP');
			expect(record.dpop?.jkt).toBe(thumbprints[i]);
		}
		// The API's nonce too is learnt once, by the first request, for every user.
		const calls = await counted(() => everyoneCalls(client));
		expect(calls.result).toEqual(users);
		expect(calls).toMatchObject({ api: USERS + 1, challenges: 1 });
		client.close();

		// Every token expired, as another server process of the app finds them.
		for (const user of users) {
			const record = (await store.get(user)) as StoredRecord;
			await store.set(user, {
				...record,
				token: { ...record.token, expires_at: Date.now() / 1000 - 60 } as StoredRecord['token'],
			});
		}
		const issued = server.stats.refreshesIssued;
		const fresh = dpopClient(store);
		const refreshed = await counted(() => everyoneCalls(fresh));
		expect(refreshed.result).toEqual(users);
		expect(server.stats.refreshesIssued - issued).toBe(USERS);
		// One refusal for the whole client, not one per user.
		expect(refreshed.token).toBe(USERS + 1);
		expect(refreshed).toMatchObject({ api: USERS + 1, challenges: 1 });
		// Each proof named the key of the token it went with: the API refused none, and saw each
		// user's own key (cnf.jkt of the opaque token, looked up at the server).
		expect(dpopStats().refused).toEqual([]);
		for (const thumbprint of thumbprints)
			expect(dpopStats().thumbprints.has(thumbprint as string)).toBe(true);
		for (const [i, user] of users.entries()) {
			expect(await fresh.session(user).dpopThumbprint()).toBe(thumbprints[i]);
			expect(((await store.get(user)) as StoredRecord).dpop?.jkt).toBe(thumbprints[i]);
		}
		fresh.close();
	});
});

describe('pushed authorization requests (RFC 9126) of many users at once', () => {
	it(`${USERS} pushes cost ${USERS + 1}: the first learns the nonce for all; each code is bound to its user's key`, async () => {
		const client = dpopClient(new MemoryStore(), {
			pushedAuthorizationRequestEndpoint: server.pushedAuthorizationRequestEndpoint,
		});
		const pushes = server.stats.parRequests;
		const started = await Promise.all(users.map((user) => client.session(user).authorizationUrl()));
		expect(server.stats.parRequests - pushes).toBe(USERS + 1);
		// Two users' codes, exchanged with each one's own key (dpop_jkt binds the code to it).
		for (const i of [0, USERS - 1]) {
			const user = users[i] as string;
			const { url, state, codeVerifier } = started[i] as (typeof started)[number];
			const session = client.session(user);
			const callback = await server.approve(url, { account: user });
			await session.fetchToken({ authorizationResponse: callback, state, codeVerifier });
			const response = await session.fetch(`${server.api}/me`);
			expect(await response.json()).toMatchObject({ sub: user });
		}
		const thumbprints = await Promise.all(
			users.map((user) => client.session(user).dpopThumbprint()),
		);
		expect(new Set(thumbprints).size).toBe(USERS);
		expect(dpopStats().refused).toEqual([]);
		client.close();
	});
});
