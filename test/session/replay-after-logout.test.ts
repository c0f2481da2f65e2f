// A save the store could not take is replayed once the store is back: never over a logout (or a
// session that ended) that happened in another context meanwhile.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import { toToken } from '../../src/protocol/token-record.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { encodeStoredRecord, type TokenStore } from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';
import { eventually } from '../helpers/store-outage.js';

let server: OAuthTestServer;
const sessions: OAuth2Session[] = [];
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => {
	for (const s of sessions.splice(0)) s.close();
	server.resetStats();
});
afterAll(() => server.close());

/**
 * A context's view of `shared` that loses it on demand: every call fails (`unavailable`) while
 * `down`, and notifications sent meanwhile never arrive, as Redis pub/sub's do not.
 */
function outage(shared: MemoryStore) {
	const state = { down: false };
	const unavailable = (key: string) =>
		Promise.reject(new StorageError('the store is away', { problem: 'unavailable', key }));
	const view: TokenStore = {
		get: (key) => (state.down ? unavailable(key) : shared.get(key)),
		set: (key, record) => (state.down ? unavailable(key) : shared.set(key, record)),
		delete: (key) => (state.down ? unavailable(key) : shared.delete(key)),
		lock: (key, fn, options) => (state.down ? unavailable(key) : shared.lock(key, fn, options)),
		subscribe: (key, listener) =>
			shared.subscribe(key, (record) => {
				if (!state.down) listener(record);
			}),
	};
	return { state, view };
}

const session = (store: TokenStore) => {
	const s = sessionOn(server, undefined, { store });
	sessions.push(s);
	return s;
};

describe('a save replayed after the store came back', () => {
	it.each([
		['logged out', (s: OAuth2Session) => s.logout()],
		// B refreshes with the refresh token A spent: refused, and the store holds no other token.
		['ended by invalid_grant', (s: OAuth2Session) => s.refreshToken().catch(() => {})],
	] as const)(
		'does not bring back a session %s in another context meanwhile',
		async (_, endInB) => {
			const shared = new MemoryStore();
			await shared.set('default', encodeStoredRecord(toToken(server.issue())));
			const { state, view } = outage(shared);
			const a = session(view);
			const b = session(shared);
			await Promise.all([a.ready, b.ready]);
			const events: string[] = [];
			a.on('sessionEnded', () => events.push('ended'));
			a.on('storeError', (e) => events.push(`${e.operation}:${e.error.problem}`));

			state.down = true;
			// A refreshes while it cannot reach the store: its token waits to be saved.
			const refreshed = await a.refreshToken();
			expect(events).toEqual(['lock:unavailable', 'set:unavailable']);
			await endInB(b);
			expect(b.token).toBeUndefined();
			expect(await shared.get('default')).toBeUndefined();

			state.down = false;
			// A request (or the retry timer) replays the save.
			await a.fetch(`${server.origin}/api/back`).catch(() => {});
			await eventually(
				'the replay settled',
				async () => events.length > 2 || (await shared.get('default')) !== undefined,
			);
			expect(await shared.get('default')).toBeUndefined();
			expect(b.token).toBeUndefined();
			// The session ended where it was ended; here too, with the token that could not be saved.
			expect(events).toContain('ended');
			expect(a.token).toBeUndefined();
			expect(refreshed.accessToken).not.toBe(undefined);
		},
	);

	it('still saves a first sign-in made while the store was away (no record to replace)', async () => {
		const shared = new MemoryStore();
		const { state, view } = outage(shared);
		const a = session(view);
		await a.ready;
		state.down = true;
		const token = toToken(server.issue());
		await a.setToken(token);
		state.down = false;
		await a.fetch(`${server.origin}/api/back`);
		await eventually(
			'the token saved',
			async () => (await shared.get('default'))?.token?.access_token === token.accessToken,
		);
	});
});
