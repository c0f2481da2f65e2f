import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import type { OAuth2SessionEvents } from '../../src/session/events.js';
import { OAuth2Client } from '../../src/session/oauth2-client.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { printouts } from '../fuzz/runs.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { type ResourceServers, startResourceServers } from '../helpers/resource-servers.js';
import { sessionOn } from '../helpers/session.js';

// Each refresh and each wait for the store's lock is reported: through the session's events, and
// through node:diagnostics_channel for subscribers that hold no session (OpenTelemetry, a logger).
let server: OAuthTestServer;
/** What the next token request is answered with instead of the server's answer, once. */
let nextTokenAnswer: { status: number; body: object } | undefined;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => {
	server.resetStats();
	nextTokenAnswer = undefined;
});
afterAll(() => server.close());

type Reported = { [E in keyof OAuth2SessionEvents]?: OAuth2SessionEvents[E][] };
const TELEMETRY = ['refreshStarted', 'refreshFinished', 'lockWaited'] as const;

function recorded(session: OAuth2Session): Reported {
	const seen: Reported = {};
	for (const name of TELEMETRY) {
		seen[name] = [];
		session.on(name, (event) => (seen[name] as unknown[]).push(event));
	}
	return seen;
}

const expired = () => ({ ...server.issue(), expires_in: -60 });
/** The real server behind, but the token endpoint answers `nextTokenAnswer` when one is set. */
const scripted: typeof fetch = async (input, init) => {
	const answer = nextTokenAnswer;
	if (answer === undefined || !String(input).includes('/token')) return fetch(input, init);
	nextTokenAnswer = undefined;
	return Response.json(answer.body, { status: answer.status });
};
const make = (token: object, options: Partial<OAuth2SessionOptions> = {}) =>
	sessionOn(server, token, { retry: false, fetch: scripted, ...options });

/** Runs `work` and says how long it took, in ms: the bound any reported duration must keep. */
async function timed(work: () => Promise<unknown>): Promise<number> {
	const started = performance.now();
	await work().catch(() => {});
	return performance.now() - started;
}

describe('refresh telemetry through the session events', () => {
	it('a refresh for expiry: started, then finished with success and its duration', async () => {
		const session = make(expired());
		const seen = recorded(session);
		const elapsed = await timed(() => session.fetch(`${server.origin}/api/me`));
		expect(seen.refreshStarted).toEqual([{ reason: 'expired', resource: undefined }]);
		expect(seen.refreshFinished).toHaveLength(1);
		const finished = seen.refreshFinished?.[0];
		expect(finished).toMatchObject({ reason: 'expired', outcome: 'success', error: undefined });
		expect(finished?.durationMs).toBeGreaterThanOrEqual(0);
		expect(finished?.durationMs).toBeLessThanOrEqual(elapsed);
	});

	it('names the reason: unauthorized after a 401, manual for refreshToken()', async () => {
		const session = make(server.issue());
		const seen = recorded(session);
		await session.ready;
		server.revokeAccessTokens();
		await session.fetch(`${server.origin}/api/me`);
		await session.refreshToken();
		expect(seen.refreshFinished?.map((e) => [e.reason, e.outcome])).toEqual([
			['unauthorized', 'success'],
			['manual', 'success'],
		]);
	});

	it('50 concurrent requests on an expired token report one refresh', async () => {
		const session = make(expired());
		const seen = recorded(session);
		await Promise.all(Array.from({ length: 50 }, () => session.fetch(`${server.origin}/api/me`)));
		expect(seen.refreshStarted).toHaveLength(1);
		expect(seen.refreshFinished).toHaveLength(1);
	});

	it('a refused refresh is failed, with the error; a spent grant is ended', async () => {
		const failing = make(expired());
		const seen = recorded(failing);
		nextTokenAnswer = { status: 401, body: { error: 'invalid_client' } };
		await failing.fetch(`${server.origin}/api/me`).catch(() => {});
		expect(seen.refreshFinished?.[0]).toMatchObject({ outcome: 'failed' });
		expect(seen.refreshFinished?.[0]?.error).toMatchObject({ name: 'OAuth2ResponseError' });

		const ending = make(expired());
		const ended = recorded(ending);
		nextTokenAnswer = { status: 400, body: { error: 'invalid_grant' } };
		await ending.fetch(`${server.origin}/api/me`).catch(() => {});
		expect(ended.refreshFinished?.[0]).toMatchObject({ outcome: 'ended' });
		expect(ended.refreshFinished?.[0]?.error).toMatchObject({
			name: 'ReauthenticationRequiredError',
		});
	});

	it('20 sessions sharing a store: one success, the others adopt it, each waited for the lock', async () => {
		const store = new MemoryStore();
		const token = expired();
		const sessions = Array.from({ length: 20 }, () => make(token, { store }));
		const seen = sessions.map(recorded);
		await Promise.all(sessions.map((s) => s.ready));
		const elapsed = await timed(() =>
			Promise.all(sessions.map((s) => s.fetch(`${server.origin}/api/me`))),
		);
		expect(server.stats.tokenRequests).toBe(1);
		const outcomes = seen.flatMap((s) => s.refreshFinished ?? []).map((e) => e.outcome);
		// A session the store notified of the new token before it asked needs no refresh at all.
		expect(outcomes.filter((o) => o === 'success')).toHaveLength(1);
		expect(outcomes.every((o) => o === 'success' || o === 'adopted')).toBe(true);
		const waits = seen.flatMap((s) => s.lockWaited ?? []);
		expect(waits).toHaveLength(outcomes.length);
		for (const wait of waits) {
			expect(wait.outcome).toBe('acquired');
			expect(wait.durationMs).toBeGreaterThanOrEqual(0);
			expect(wait.durationMs).toBeLessThanOrEqual(elapsed);
		}
	});

	it('a lock that cannot be had is reported with its outcome, and the refresh goes on', async () => {
		const store = new MemoryStore();
		store.lock = async () => {
			throw new StorageError('Timed out waiting for the lock', { problem: 'lock-timeout' });
		};
		const session = make(expired(), { store });
		const seen = recorded(session);
		expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
		expect(seen.lockWaited?.map((e) => e.outcome)).toEqual(['timeout']);
		expect(seen.refreshFinished?.map((e) => e.outcome)).toEqual(['success']);
	});
});

describe('refresh telemetry through node:diagnostics_channel', () => {
	const refresh = diagnostics.tracingChannel('oauth2-session:refresh');
	const lock = diagnostics.channel('oauth2-session:lock');

	it('traces each refresh (start, asyncEnd, error) and publishes each lock wait', async () => {
		const events: [string, Record<string, unknown>][] = [];
		const handlers = {
			start: (context: unknown) => events.push(['start', { ...(context as object) }]),
			end: () => {},
			asyncStart: () => {},
			asyncEnd: (context: unknown) => events.push(['asyncEnd', { ...(context as object) }]),
			error: (context: unknown) => events.push(['error', { ...(context as object) }]),
		};
		const onLock = (message: unknown) => events.push(['lock', message as Record<string, unknown>]);
		refresh.subscribe(handlers);
		lock.subscribe(onLock);
		try {
			const session = make(expired(), { store: new MemoryStore(), storeKey: 'user-7' });
			await session.fetch(`${server.origin}/api/me`);
			nextTokenAnswer = { status: 401, body: { error: 'invalid_client' } };
			await session.refreshToken().catch(() => {});
		} finally {
			refresh.unsubscribe(handlers);
			lock.unsubscribe(onLock);
		}
		expect(events.map(([name]) => name)).toEqual([
			'start',
			'lock',
			'asyncEnd',
			'start',
			'lock',
			'error',
			'asyncEnd',
		]);
		expect(events[0]?.[1]).toEqual({ reason: 'expired', resource: undefined, storeKey: 'user-7' });
		expect(events[1]?.[1]).toMatchObject({ storeKey: 'user-7', outcome: 'acquired' });
		expect(events[2]?.[1]).toMatchObject({ reason: 'expired', outcome: 'success' });
		expect(events[2]?.[1].result).toBeUndefined();
		expect(events[6]?.[1]).toMatchObject({ reason: 'manual', outcome: 'failed' });
		expect(events[6]?.[1]?.error).toMatchObject({ name: 'OAuth2ResponseError' });
	});

	it("runs the token request inside the start channel's bound store, so a tracer's span is its parent", async () => {
		const storage = new AsyncLocalStorage<string>();
		refresh.start.bindStore(
			storage,
			(context) => `span for ${(context as { reason: string }).reason}`,
		);
		const seenInside: (string | undefined)[] = [];
		try {
			const session = make(expired(), {
				fetch: (input, init) => {
					if (String(input).endsWith('/token')) seenInside.push(storage.getStore());
					return scripted(input, init);
				},
			});
			await session.fetch(`${server.origin}/api/me`);
		} finally {
			refresh.start.unbindStore(storage);
		}
		expect(seenInside).toEqual(['span for expired']);
	});
});

describe('telemetry payloads', () => {
	it('never carry a token, the client secret or a URL query', async () => {
		const payloads: unknown[] = [];
		const collect = (message: unknown) => payloads.push(message);
		const handlers = {
			start: collect,
			end: collect,
			asyncStart: collect,
			asyncEnd: collect,
			error: collect,
		};
		const refresh = diagnostics.tracingChannel('oauth2-session:refresh');
		const lock = diagnostics.channel('oauth2-session:lock');
		refresh.subscribe(handlers);
		lock.subscribe(collect);
		const tokens: string[] = [];
		try {
			const token = expired();
			tokens.push(token.access_token, token.refresh_token);
			const session = make(token, {
				store: new MemoryStore(),
				tokenEndpoint: `${server.tokenEndpoint}?tenant=QUERYSECRET`,
			});
			for (const name of TELEMETRY) session.on(name, collect);
			session.on('tokenUpdated', ({ token: t }) =>
				tokens.push(t.accessToken, t.refreshToken ?? ''),
			);
			await session.fetch(`${server.origin}/api/me?q=QUERYSECRET`);
			nextTokenAnswer = {
				status: 400,
				// An answer echoing what it was sent: the refresh token and the client secret.
				body: {
					error: 'invalid_client',
					error_description: `bad s3cret ${session.token?.refreshToken}`,
				},
			};
			await session.refreshToken().catch(() => {});
			nextTokenAnswer = { status: 400, body: { error: 'invalid_grant' } };
			await session.refreshToken().catch(() => {});
		} finally {
			refresh.unsubscribe(handlers);
			lock.unsubscribe(collect);
		}
		expect(payloads.length).toBeGreaterThanOrEqual(10);
		const printed = payloads.map(printouts).join('\n');
		for (const secret of [...tokens.filter((t) => t !== ''), 's3cret', 'QUERYSECRET']) {
			expect(printed).not.toContain(secret);
		}
	});
});

describe('refresh telemetry of a token per resource', () => {
	let apis: ResourceServers;
	beforeAll(async () => {
		apis = await startResourceServers();
	});
	afterAll(() => apis.close());

	it("names the API whose token it got, and tells each API's refresh from the others' at once", async () => {
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: apis.auth.tokenEndpoint,
			resources: { [apis.a.origin]: {}, [apis.b.origin]: {} },
			token: apis.auth.signIn(),
			proactiveRefresh: false,
			minRefreshInterval: 0,
		});
		const seen = recorded(session);
		await Promise.all([session.fetch(`${apis.a.origin}/me`), session.fetch(`${apis.b.origin}/me`)]);
		const finished = (seen.refreshFinished ?? []).map(({ resource, outcome }) => ({
			resource,
			outcome,
		}));
		expect(finished).toEqual(
			expect.arrayContaining([
				{ resource: apis.a.origin, outcome: 'success' },
				{ resource: apis.b.origin, outcome: 'success' },
			]),
		);
		expect(finished).toHaveLength(2);
		expect(seen.refreshStarted?.map((e) => e.resource).sort()).toEqual(
			[apis.a.origin, apis.b.origin].sort(),
		);
		session.close();
	});
});

describe('refresh telemetry of an OAuth2Client', () => {
	it("reports each user's refresh with the user's key, on the client and on the channel", async () => {
		const client = new OAuth2Client({
			clientId: 'app',
			clientSecret: 's3cret',
			tokenEndpoint: server.tokenEndpoint,
			allowedOrigins: [server.origin],
			store: new MemoryStore(),
			retry: false,
		});
		const finished: { key: string; outcome: string }[] = [];
		client.on('refreshFinished', ({ key, outcome }) => finished.push({ key, outcome }));
		const traced: string[] = [];
		const refresh = diagnostics.tracingChannel('oauth2-session:refresh');
		const handlers = {
			start: (context: unknown) => traced.push((context as { storeKey: string }).storeKey),
		};
		refresh.subscribe(handlers as never);
		try {
			for (const key of ['alice', 'bob']) {
				const session = client.session(key);
				await session.setToken(expired());
				expect((await session.fetch(`${server.origin}/api/me`)).status).toBe(200);
			}
		} finally {
			refresh.unsubscribe(handlers as never);
			client.close();
		}
		expect(finished).toEqual([
			{ key: 'alice', outcome: 'success' },
			{ key: 'bob', outcome: 'success' },
		]);
		expect(traced).toEqual(['alice', 'bob']);
	});
});
