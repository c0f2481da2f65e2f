/**
 * The retry after a 401 goes with a token that can still work: a token another context saved
 * while the request was in flight is taken only if it is not due itself (adopted late, it may be
 * about to expire, as on a loaded machine with short-lived tokens).
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/storage/memory.js';
import { recordOf } from '../helpers/kill-scenario.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterAll(() => server.close());

describe('the retry after a 401', () => {
	it('refreshes a token adopted from the store during the request when that token is due too', async () => {
		const store = new MemoryStore();
		const first = server.issue({ expiresIn: 1 });
		// Good for a minute as far as the session knows, so it is sent however late the request
		// starts on a loaded machine (it was due itself 750 ms after the save).
		await store.set('default', recordOf(first, Date.now() + 60_000));
		const session = sessionOn(server, undefined, { store, minRefreshInterval: 0 });
		await session.ready;
		const refreshes = server.stats.refreshRequests;
		let arrive = (_at: number) => {};
		const arrived = new Promise<number>((resolve) => (arrive = resolve));
		const onRequest = (request: IncomingMessage) => {
			if (request.url?.startsWith('/api/slow')) arrive(Date.now());
		};
		server.server.on('request', onRequest);
		// The API checks the token after 1.5 s, when it has expired: 401.
		const answer = session.fetch(`${server.origin}/api/slow?delay=1500`);
		// Meanwhile another context saves a token that expires before that answer comes back: timed
		// from the request's arrival, not from a 100 ms sleep a loaded machine could overrun.
		const arrivedAt = await arrived;
		await store.set('default', recordOf(server.issue({ expiresIn: 1 }), arrivedAt + 1_000));
		const response = await answer;
		server.server.off('request', onRequest);
		expect(response.status).toBe(200);
		// The adopted token was due: refreshed once, not sent to meet another 401.
		expect(server.stats.refreshRequests - refreshes).toBe(1);
		session.close();
	});
});
