// invalid_grant met by a context that refreshed while another context's refresh was on its way
// into the store (a Redis failover: the lock could not be taken, the holder's save is queued): the
// rotated token is the other context's, the session goes on with it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { encodeStoredRecord, type TokenStore } from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { expiredIssuedToken, sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer({ tokenLatency: 200 });
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

/** A gate a test opens once: what waits on it goes on. */
function gate() {
	let open!: () => void;
	const opened = new Promise<void>((resolve) => {
		open = resolve;
	});
	return { open, opened };
}

/**
 * Two views of one MemoryStore: the holder's saves wait for `saves.opened`; the other context's
 * first lock fails (`unavailable`, as a Cluster failing over answers) and its next call to the
 * store after that, whatever it is, is answered first and then opens the holder's saves: the
 * holder's token lands only after the other context has looked.
 */
function failingOver(shared: MemoryStore, { staysDown = false } = {}) {
	const saves = gate();
	let lockFailed = false;
	/** With `staysDown`, every call of the other context fails from its first lock until `back()`. */
	let down = false;
	const unavailable = (key: string) =>
		Promise.reject(
			new StorageError('Redis could not reach the slot', { problem: 'unavailable', key }),
		);
	const holder: TokenStore = {
		get: (key) => shared.get(key),
		set: async (key, record) => {
			await saves.opened;
			return shared.set(key, record);
		},
		delete: (key) => shared.delete(key),
		lock: (key, fn, options) => shared.lock(key, fn, options),
		subscribe: (key, listener) => shared.subscribe(key, listener),
	};
	const answeredThenOpen = <T>(key: string, call: () => Promise<T>): Promise<T> => {
		const answer = down ? unavailable(key) : call();
		if (lockFailed) void answer.finally(saves.open).catch(() => {});
		return answer;
	};
	const other: TokenStore = {
		get: (key) => answeredThenOpen(key, () => shared.get(key)),
		set: (key, record) => answeredThenOpen(key, () => shared.set(key, record)),
		delete: (key) => answeredThenOpen(key, () => shared.delete(key)),
		lock: (key, fn, options) => {
			if (!lockFailed || down) {
				// The first failure keeps the holder's save back: it lands after B has looked.
				if (lockFailed) saves.open();
				lockFailed = true;
				down = staysDown;
				return unavailable(key);
			}
			// The lock is asked for: the holder's save may go on (it holds the lock until then).
			saves.open();
			return shared.lock(key, fn, options);
		},
		subscribe: (key, listener) => shared.subscribe(key, listener),
	};
	return {
		holder,
		other,
		back: () => {
			down = false;
		},
	};
}

const sessions: OAuth2Session[] = [];
afterEach(() => {
	for (const s of sessions.splice(0)) s.close();
});

/**
 * A holds the lock and refreshes; B, whose lock fails, refreshes with the same refresh token once
 * A's token request is under way: the server answers A first and refuses B. Resolves with B's
 * answer (its status, or what it threw) and A's.
 */
async function raceTheHolder(options: { staysDown?: boolean } = {}) {
	const shared = new MemoryStore();
	await shared.set('default', encodeStoredRecord(expiredIssuedToken(server)));
	const { holder, other, back } = failingOver(shared, options);
	const a = sessionOn(server, undefined, { store: holder });
	const b = sessionOn(server, undefined, { store: other });
	sessions.push(a, b);
	const ended: unknown[] = [];
	for (const s of [a, b]) s.on('sessionEnded', (e) => ended.push(e));
	await Promise.all([a.ready, b.ready]);
	const first = a.fetch(`${server.origin}/api/a`);
	await server.tokenRequestsReach(1);
	expect(server.stats.tokenRequests).toBe(1);
	const second = b.fetch(`${server.origin}/api/b`).then(
		(r) => r.status,
		(error: unknown) => error,
	);
	return { shared, a, b, ended, back, holderStatus: (await first).status, other: await second };
}

describe('invalid_grant after a refresh without the lock (the store was failing over)', () => {
	it('waits for the lock holder and adopts the token it saves: the session goes on', async () => {
		const { shared, a, b, ended, holderStatus, other } = await raceTheHolder();
		expect(holderStatus).toBe(200);
		expect(other).toBe(200);
		expect(server.stats.tokenRequests).toBe(2);
		expect(ended).toEqual([]);
		expect(b.token?.accessToken).toBe(a.token?.accessToken);
		expect((await shared.get('default'))?.token?.access_token).toBe(a.token?.accessToken);
	});

	it('the store still down when the server refuses: the request fails with StorageError, the session is kept and goes on with the holder’s token', async () => {
		const { a, b, ended, back, holderStatus, other } = await raceTheHolder({ staysDown: true });
		expect(holderStatus).toBe(200);
		expect(other).toBeInstanceOf(StorageError);
		expect(other).toMatchObject({ problem: 'unavailable' });
		expect(ended).toEqual([]);
		expect(b.token).toBeDefined();
		back();
		expect((await b.fetch(`${server.origin}/api/b`)).status).toBe(200);
		expect(server.stats.tokenRequests).toBe(2);
		expect(b.token?.accessToken).toBe(a.token?.accessToken);
		expect(ended).toEqual([]);
	});
});
