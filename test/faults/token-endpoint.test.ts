// Faults of the token endpoint, on a real server on 127.0.0.1: while the token is still valid the
// session serves every request with it, reports each failed refresh as refreshFailed with a typed
// error, never ends the session, and refreshes as soon as the fault clears.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isOAuth2Error, type OAuth2Error } from '../../src/errors/index.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { sendJson, startServer, type TestServer } from '../helpers/http-server.js';
import { type Fault, tokenEndpointFaults } from '../helpers/token-faults.js';

const cases = tokenEndpointFaults;

let server: TestServer;
let fault: Fault | undefined;
const seen = { token: [] as number[], api: 0 };
let issued = 0;

beforeAll(async () => {
	server = await startServer((request, response) => {
		if (request.url === '/token') {
			seen.token.push(Date.now());
			if (fault !== undefined) return fault(response);
			issued++;
			return sendJson(response, 200, {
				access_token: `at-${issued}`,
				refresh_token: `rt-${issued}`,
				token_type: 'Bearer',
				expires_in: 3600,
			});
		}
		seen.api++;
		sendJson(response, 200, { authorization: request.headers.authorization });
	});
});
afterEach(() => {
	fault = undefined;
	seen.token = [];
	seen.api = 0;
});
afterAll(() => server.close());

const BACKOFF = 800;

/**
 * A session whose token is valid for a minute but due at once (the leeway is two minutes).
 * `refreshTimeout` is the hang case's; the others keep the default (60 s): a 3 s one left the 429
 * case (two Retry-After waits of 1 s) a second that a loaded machine could run out.
 */
function sessionUnderTest(proactiveRefresh: boolean, refreshTimeout?: number) {
	const store = new MemoryStore();
	const session = new OAuth2Session({
		clientId: 'app',
		tokenEndpoint: `${server.origin}/token`,
		allowedOrigins: [server.origin],
		token: { accessToken: 'at-0', refreshToken: 'rt-0', expiresAt: Date.now() + 60_000 },
		store,
		leeway: 120_000,
		proactiveRefresh,
		// Long enough that the second request below lands inside it even on a loaded machine.
		refreshBackoff: BACKOFF,
		refreshTimeout,
		// These cases look at how each refresh fails, so the first request waits for it to end.
		refreshWait: 60_000,
		retry: { retries: 2, minTimeout: 10, maxTimeout: 50, maxRetryAfter: 2_000 },
	});
	const events = { failed: [] as OAuth2Error[], retryAt: 0, ended: 0, updated: [] as string[] };
	session.on('refreshFailed', ({ error, retryAt }) => {
		events.failed.push(error);
		events.retryAt = retryAt;
	});
	session.on('sessionEnded', () => events.ended++);
	session.on('tokenUpdated', ({ token, source }) =>
		events.updated.push(`${source}:${token.accessToken}`),
	);
	// Signals, not polls with a deadline: a loaded machine takes longer, the verdict stays the same.
	const failedOnce = new Promise<void>((resolve) => session.on('refreshFailed', () => resolve()));
	const updatedOnce = new Promise<void>((resolve) => session.on('tokenUpdated', () => resolve()));
	const sent = async () => {
		const response = await session.fetch(`${server.origin}/api/me`);
		return ((await response.json()) as { authorization: string }).authorization;
	};
	return { session, store, events, sent, failedOnce, updatedOnce };
}

const storedAccessToken = async (store: MemoryStore) =>
	(await store.get('default'))?.token?.access_token;

describe('token endpoint faults, refresh on request (leeway)', () => {
	it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
		fault = c.fault;
		const { session, store, events, sent } = sessionUnderTest(false, c.refreshTimeout);

		// The due refresh fails; the request still goes out with the valid token.
		expect(await sent()).toBe('Bearer at-0');
		expect(seen.token).toHaveLength(c.requests);
		expect(events.failed).toHaveLength(1);
		expect(isOAuth2Error(events.failed[0])).toBe(true);
		expect(events.failed[0]).toMatchObject(c.error);
		// Within the backoff: served without another refresh. The session's clock reads the back-off's
		// last millisecond, which a loaded machine could otherwise be past by the time it gets here.
		const clock = vi.spyOn(Date, 'now').mockReturnValue(events.retryAt - 1);
		try {
			expect(await sent()).toBe('Bearer at-0');
		} finally {
			clock.mockRestore();
		}
		expect(seen.token).toHaveLength(c.requests);
		if (c.name.startsWith('429')) {
			// The retries waited what the server asked.
			expect(seen.token[1]! - seen.token[0]!).toBeGreaterThanOrEqual(950);
		}
		expect(await storedAccessToken(store)).toBe('at-0');

		// The fault clears: the next request after the backoff refreshes and uses the new token.
		fault = undefined;
		await new Promise((resolve) => setTimeout(resolve, BACKOFF + 20));
		expect(await sent()).toBe(`Bearer at-${issued}`);
		expect(seen.token).toHaveLength(c.requests + 1);
		expect(await storedAccessToken(store)).toBe(`at-${issued}`);
		expect(events.updated).toEqual([`refresh:at-${issued}`]);
		expect(events.ended).toBe(0);
		expect(seen.api).toBe(3);
		session.close();
	});
});

describe('token endpoint faults, proactive refresh in the background', () => {
	it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
		fault = c.fault;
		const { session, store, events, sent, failedOnce, updatedOnce } = sessionUnderTest(
			true,
			c.refreshTimeout,
		);
		await failedOnce;
		expect(events.failed.every(isOAuth2Error)).toBe(true);
		expect(events.failed[0]).toMatchObject(c.error);
		expect(await sent()).toBe('Bearer at-0');
		expect(await storedAccessToken(store)).toBe('at-0');

		// The fault clears: the background retry after the backoff refreshes with no request.
		fault = undefined;
		const api = seen.api;
		await updatedOnce;
		expect(events.updated).toEqual([`refresh:at-${issued}`]);
		expect(seen.api).toBe(api);
		expect(await storedAccessToken(store)).toBe(`at-${issued}`);
		expect(await sent()).toBe(`Bearer at-${issued}`);
		expect(events.ended).toBe(0);
		session.close();
	});
});
