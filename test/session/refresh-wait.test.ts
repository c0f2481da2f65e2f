import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => {
	server.resetStats();
	Object.assign(server.settings, { tokenLatency: 0, tokenFailures: [], tokenHold: undefined });
});

/** A gate the token endpoint waits on: open() lets its held answer go. */
function gate() {
	let open = () => {};
	const opened = new Promise<void>((resolve) => (open = resolve));
	return { open, opened };
}
afterAll(() => server.close());

// Due (inside the 30 s leeway) but still valid for 20 s: what the issue measured.
const dueButValid = (options: Partial<OAuth2SessionOptions> = {}) =>
	sessionOn(server, { ...server.issue(), expires_in: 20 }, { leeway: 30_000, ...options });

const fireAll = (session: ReturnType<typeof sessionOn>, count: number) =>
	Promise.all(
		Array.from({ length: count }, (_, i) =>
			session.fetch(`${server.origin}/api/${i}`).then((r) => r.status),
		),
	);

describe('requests whose token still works are not held behind a slow refresh', () => {
	it('a hanging token endpoint: 50 concurrent requests go with the current token, one refresh goes on', async () => {
		// Held until the 50 have their answers: a fixed 3 s latency was a race a loaded machine could
		// lose, the hold is not.
		const hung = gate();
		server.settings.tokenHold = () => hung.opened;
		const session = dueButValid({ refreshWait: 50 });
		await session.ready;
		const before = session.token?.accessToken;
		const updates: unknown[] = [];
		session.on('tokenUpdated', (e) => updates.push(e.token));
		expect(await fireAll(session, 50)).toEqual(Array(50).fill(200));
		// Answered while the refresh was still waiting for the server.
		expect(updates).toEqual([]);
		expect(session.token?.accessToken).toBe(before);
		expect(server.stats.tokenRequests).toBe(1);
		expect(server.stats.apiRequests).toBe(50);
		hung.open();
		session.close();
	});

	it('a token endpoint answering 500 (and retried): the requests do not wait out the retries', async () => {
		server.settings.tokenFailures = [500, 500, 500];
		// The retry is held until the 50 have their answers: timed by the 500 ms back-offs alone, a
		// loaded machine could still be sending them at the third try.
		const retrying = gate();
		server.settings.tokenHold = (nth) => (nth === 2 ? retrying.opened : undefined);
		const session = dueButValid({
			refreshWait: 50,
			retry: { retries: 2, minTimeout: 500, maxTimeout: 500 },
		});
		const failures: unknown[] = [];
		session.on('refreshFailed', (e) => failures.push(e.error));
		expect(await fireAll(session, 50)).toEqual(Array(50).fill(200));
		// The refresh was still retrying when every request had its answer.
		expect(failures).toEqual([]);
		expect(server.stats.tokenRequests).toBeLessThanOrEqual(2);
		// Its retries must not land in the next test's counts.
		const failed = new Promise((resolve) => session.on('refreshFailed', resolve));
		retrying.open();
		await failed;
		expect(server.stats.tokenRequests).toBe(3);
		session.close();
	});

	it('a refresh that answers within refreshWait is waited for: requests go with the new token', async () => {
		const session = dueButValid({ refreshWait: 5_000 });
		await session.ready;
		const before = session.token?.accessToken;
		expect(await fireAll(session, 20)).toEqual(Array(20).fill(200));
		expect(session.token?.accessToken).not.toBe(before);
		expect(server.stats.tokenRequests).toBe(1);
		session.close();
	});
});
