/**
 * A store's notification can arrive late: a file watcher reads the record, then the process that
 * wrote it moves on (a refresh, a logout) before the listener runs. A late notification carrying a
 * token this context already left behind must not bring it back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { MemoryStore } from '../../src/storage/memory.js';
import {
	encodeStoredRecord,
	type StoredRecord,
	type StoreListener,
} from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterAll(() => server.close());

/** A MemoryStore whose notifications the test delivers itself, whenever it likes. */
class LateStore extends MemoryStore {
	readonly listeners: StoreListener[] = [];
	override subscribe(_key: string, listener: StoreListener): () => void {
		this.listeners.push(listener);
		return () => {};
	}
	deliver(record: StoredRecord | undefined): void {
		for (const listener of this.listeners) listener(record);
	}
}

const record = (accessToken: string) =>
	encodeStoredRecord(new Token({ accessToken, expiresAt: Date.now() + 3_600_000 }));

describe('late store notifications', () => {
	it('the echo of a token replaced since does not replace the newer one', async () => {
		const store = new LateStore();
		const session = sessionOn(server, undefined, { store });
		await session.setToken({ access_token: 'first', expires_in: 3600 });
		const echo = await store.get('default');
		await session.setToken({ access_token: 'second', expires_in: 3600 });
		store.deliver(echo);
		expect(session.token?.accessToken).toBe('second');
		session.close();
	});

	it('the echo of a token logged out since does not bring the session back', async () => {
		const store = new LateStore();
		const session = sessionOn(server, undefined, { store });
		await session.setToken({ access_token: 'signed-in', expires_in: 3600 });
		const echo = await store.get('default');
		await session.logout();
		store.deliver(echo);
		expect(session.token).toBeUndefined();
		expect(await store.get('default')).toBeUndefined();
		session.close();
	});

	it('a token another context wrote is still adopted', async () => {
		const store = new LateStore();
		const session = sessionOn(server, undefined, { store });
		await session.setToken({ access_token: 'mine', expires_in: 3600 });
		store.deliver(record('theirs'));
		expect(session.token?.accessToken).toBe('theirs');
		session.close();
	});
});
