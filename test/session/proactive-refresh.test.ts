import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { MAX_TIMER_DELAY } from '../../src/session/timer.js';

const DAY = 86_400_000;

/** A token endpoint in a function: counts refreshes, answers with the given lifetime. */
function tokenEndpoint(lifetimeSeconds: number, failures: number[] = []) {
	const calls: string[] = [];
	const fetch = async (_input: RequestInfo | URL, init?: RequestInit) => {
		const body = new URLSearchParams(String(init?.body));
		calls.push(body.get('grant_type') ?? '');
		const status = failures.shift();
		if (status !== undefined) return new Response('down', { status });
		return Response.json({
			access_token: `at-${calls.length}`,
			refresh_token: `rt-${calls.length}`,
			token_type: 'bearer',
			expires_in: lifetimeSeconds,
		});
	};
	return { calls, fetch: fetch as typeof globalThis.fetch };
}

const make = (endpoint: ReturnType<typeof tokenEndpoint>, expiresIn: number) =>
	new OAuth2Session({
		clientId: 'app',
		tokenEndpoint: 'https://auth.example.com/token',
		fetch: endpoint.fetch,
		token: { access_token: 'at-0', refresh_token: 'rt-0', expires_in: expiresIn },
		retry: false,
		refreshBackoff: 5_000,
	});

beforeEach(() => {
	vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
	vi.useRealTimers();
	vi.restoreAllMocks();
});

describe('proactive refresh', () => {
	it('refreshes in the background before expiry, within the leeway and its jitter', async () => {
		const endpoint = tokenEndpoint(3600);
		const session = make(endpoint, 3600);
		await session.ready;
		// Leeway 30 s, jitter up to half of it: nothing before expiry - 45 s.
		await vi.advanceTimersByTimeAsync(3600_000 - 45_001);
		expect(endpoint.calls).toEqual([]);
		await vi.advanceTimersByTimeAsync(15_001);
		expect(endpoint.calls).toEqual(['refresh_token']);
		expect(session.token?.accessToken).toBe('at-1');
		// And again for the next token, which carries its lifetime.
		await vi.advanceTimersByTimeAsync(3600_000);
		expect(endpoint.calls).toEqual(['refresh_token', 'refresh_token']);
		session.close();
	});

	it('waits out a 30-day lifetime by re-arming timers longer than 2^31-1 ms', async () => {
		expect(30 * DAY).toBeGreaterThan(MAX_TIMER_DELAY);
		const endpoint = tokenEndpoint(30 * 86_400);
		const session = make(endpoint, 30 * 86_400);
		await session.ready;
		await vi.advanceTimersByTimeAsync(29 * DAY);
		expect(endpoint.calls).toEqual([]);
		await vi.advanceTimersByTimeAsync(DAY);
		expect(endpoint.calls).toEqual(['refresh_token']);
		session.close();
	});

	it('a short-lived token is refreshed at about three quarters of its life, not continually', async () => {
		const endpoint = tokenEndpoint(8);
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: 'https://auth.example.com/token',
			fetch: endpoint.fetch,
			grant: undefined,
			token: {
				access_token: 'at-0',
				refresh_token: 'rt-0',
				expires_in: 8,
				issued_at: Date.now() / 1000,
			},
			retry: false,
		});
		await session.ready;
		await vi.advanceTimersByTimeAsync(40_000);
		// 8 s tokens, leeway capped at 2 s (+ up to 1 s jitter): one refresh every 5-6 s.
		expect(endpoint.calls.length).toBeGreaterThanOrEqual(6);
		expect(endpoint.calls.length).toBeLessThanOrEqual(8);
		session.close();
	});

	it('after a failed background refresh, tries again after the backoff while the token is valid', async () => {
		vi.spyOn(Math, 'random').mockReturnValue(0); // no jitter: the refresh is due at expiry - 30 s
		const endpoint = tokenEndpoint(3600, [503]);
		const session = make(endpoint, 3600);
		const failures: number[] = [];
		session.on('refreshFailed', (e) => failures.push(e.retryAt));
		await session.ready;
		await vi.advanceTimersByTimeAsync(3600_000 - 30_000);
		expect(endpoint.calls).toHaveLength(1);
		expect(failures).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(5_000);
		expect(endpoint.calls).toHaveLength(2);
		expect(session.token?.accessToken).toBe('at-2');
		session.close();
	});

	it('close() stops the background refresh', async () => {
		const endpoint = tokenEndpoint(3600);
		const session = make(endpoint, 3600);
		await session.ready;
		session.close();
		await vi.advanceTimersByTimeAsync(2 * 3600_000);
		expect(endpoint.calls).toEqual([]);
	});

	it("'manual' mode never refreshes in the background", async () => {
		const endpoint = tokenEndpoint(3600);
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: 'https://auth.example.com/token',
			fetch: endpoint.fetch,
			token: { access_token: 'at-0', refresh_token: 'rt-0', expires_in: 60 },
			refresh: 'manual',
		});
		await session.ready;
		await vi.advanceTimersByTimeAsync(120_000);
		expect(endpoint.calls).toEqual([]);
	});
});

describe('the timer never keeps a Node process alive', () => {
	it('a process with a session waiting to refresh in an hour exits at once', () => {
		vi.useRealTimers();
		const script = fileURLToPath(new URL('../fixtures/idle-session.ts', import.meta.url));
		const started = Date.now();
		const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
			encoding: 'utf8',
			timeout: 20_000,
		});
		expect(result.stderr).toBe('');
		expect(result.stdout.trim()).toBe('scheduled');
		expect(result.status).toBe(0);
		expect(Date.now() - started).toBeLessThan(15_000);
	});
});

describe('refresh token expiry', () => {
	it('warns a quarter of its lifetime (at most a day) before the refresh token dies', async () => {
		const endpoint = tokenEndpoint(3600);
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: 'https://auth.example.com/token',
			fetch: endpoint.fetch,
			refresh: 'manual',
			token: {
				access_token: 'at-0',
				refresh_token: 'rt-0',
				expires_in: 300,
				issued_at: Date.now() / 1000,
				refresh_token_expires_at: Date.now() / 1000 + 1800,
			},
		});
		const warnings: number[] = [];
		session.on('refreshTokenExpiring', (e) => warnings.push(e.expiresAt));
		await session.ready;
		await vi.advanceTimersByTimeAsync(1800_000 - 450_000 - 1);
		expect(warnings).toEqual([]);
		await vi.advanceTimersByTimeAsync(2);
		expect(warnings).toHaveLength(1);
		session.close();
	});
});
