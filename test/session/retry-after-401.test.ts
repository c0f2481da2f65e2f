/**
 * The retry after a 401 goes with a token that can still work: a token another context saved
 * while the request was in flight is taken only if it is not due itself (adopted late, it may be
 * about to expire, as on a loaded machine with short-lived tokens).
 */
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
		await store.set('default', recordOf(first, Date.now() + 1_000));
		const session = sessionOn(server, undefined, { store, minRefreshInterval: 0 });
		await session.ready;
		const refreshes = server.stats.refreshRequests;
		// The API checks the token after 1.5 s, when it has expired: 401.
		const answer = session.fetch(`${server.origin}/api/slow?delay=1500`);
		// Meanwhile another context saves a token that expires before that answer comes back.
		await new Promise((resolve) => setTimeout(resolve, 100));
		await store.set('default', recordOf(server.issue({ expiresIn: 1 }), Date.now() + 1_000));
		const response = await answer;
		expect(response.status).toBe(200);
		// The adopted token was due: refreshed once, not sent to meet another 401.
		expect(server.stats.refreshRequests - refreshes).toBe(1);
		session.close();
	});
});
