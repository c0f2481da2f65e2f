// Fleets of processes (test/fixtures/redis-worker.ts, on RedisStore, a Redis Cluster or
// PostgresStore) sharing one store key and an expired token, all released at once: what the
// *-sessions tests, test/storage/redis-fleet.test.ts and bench/faults.ts run.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Token } from '../../src/protocol/token.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import type { WorkerResult } from '../fixtures/redis-worker.js';
import { type FixtureProcess, killAll, startFixture } from './child-process.js';
import type { OAuthTestServer } from './oauth-server.js';

/** A record of a token the server issued, whose access token has expired. */
export function expiredRecord(server: OAuthTestServer): StoredRecord {
	const issued = server.issue();
	return encodeStoredRecord(
		new Token({
			accessToken: issued.access_token,
			refreshToken: issued.refresh_token,
			expiresAt: Date.now() - 1_000,
		}),
	);
}

/** What the processes of one fleet saw. */
export interface Fleet {
	readonly workers: FixtureProcess[];
	readonly outcomes: WorkerResult[];
}

/**
 * Starts `processes` session workers with `env` (the store's, `STORE_KEY`, `TOKEN_ENDPOINT`,
 * `API_ORIGIN`, `REQUESTS`), waits until each has read the expired token, releases them together,
 * runs `during` while they work, and resolves with what each saw. The workers are the caller's to
 * kill (`killFixtureProcesses`).
 */
export async function runFleet(
	processes: number,
	env: Record<string, string>,
	during?: () => Promise<void>,
): Promise<Fleet> {
	const workers = Array.from({ length: processes }, () =>
		startFixture('redis-worker.ts', ['session'], { env }),
	);
	await Promise.all(workers.map((w) => w.message((m: { ready?: true }) => m.ready === true)));
	const results = workers.map((w) =>
		w.message((m: { result?: WorkerResult }) => m.result !== undefined),
	);
	// Released together: every process has read the expired token and fires at once.
	for (const { child } of workers) child.stdin?.write('go\n');
	await during?.();
	const outcomes = (await Promise.all(results)).map((m) => m.result as WorkerResult);
	return { workers, outcomes };
}

/** What a fleet's processes saw, summed: tests compare it whole with what the promise says. */
export interface FleetRun {
	/** Token requests the server saw (since `before`). */
	tokenRequests: number;
	/** Processes that took their token from a refresh of their own. */
	refreshes: number;
	/** Requests sent, over every process. */
	requests: number;
	/** Requests that did not end in a 200. */
	failedRequests: number;
	/** How many access tokens the processes ended on. */
	accessTokens: number;
	storeErrors: string[];
	/** The processes' errors, then what any wrote to stderr. */
	errors: string[];
}

/** Sums up `fleet`; `before` is the server's token request count before it started. */
export function fleetRun(
	{ workers, outcomes }: Fleet,
	server: OAuthTestServer,
	before = 0,
): FleetRun {
	const statuses = outcomes.flatMap((o) => o.statuses);
	return {
		tokenRequests: server.stats.tokenRequests - before,
		refreshes: outcomes.flatMap((o) => o.sources).filter((s) => s === 'refresh').length,
		requests: statuses.length,
		failedRequests: statuses.filter((s) => s !== 200).length,
		accessTokens: new Set(outcomes.map((o) => o.accessToken)).size,
		storeErrors: outcomes.flatMap((o) => o.storeErrors),
		errors: [
			...outcomes.flatMap((o) => o.errors),
			...workers.map((w) => w.stderr()).filter((stderr) => stderr !== ''),
		],
	};
}

/**
 * The promise, for `fleetRun` to equal: one token request, which one process made; every request
 * of every process answered 200; all on the same token; no error anywhere.
 */
export function oneRefresh(requests: number): FleetRun {
	return {
		tokenRequests: 1,
		refreshes: 1,
		requests,
		failedRequests: 0,
		accessTokens: 1,
		storeErrors: [],
		errors: [],
	};
}

export interface RedisFleetSettings {
	redisUrl: string;
	/** Rotates refresh tokens and refuses a reused one. */
	server: OAuthTestServer;
	processes: number;
	/** Requests each process sends at once. */
	requests: number;
	/** Processes that do nothing but burn CPU while the fleet runs. */
	burners: number;
}

let runs = 0;

/** A fleet on RedisStore with the CPU kept busy by processes that only burn it. */
export async function runRedisFleet(settings: RedisFleetSettings): Promise<FleetRun> {
	const { server, redisUrl } = settings;
	const key = `fleet-${process.pid}-${++runs}`;
	const setup = new RedisStore({ url: redisUrl });
	await setup.set(key, expiredRecord(server));
	await setup.close();
	const before = server.stats.tokenRequests;
	const children: ChildProcess[] = [];
	let fleet: Fleet | undefined;
	try {
		for (let i = 0; i < settings.burners; i++) {
			children.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
		}
		fleet = await runFleet(settings.processes, {
			REDIS_URL: redisUrl,
			STORE_KEY: key,
			TOKEN_ENDPOINT: server.tokenEndpoint,
			API_ORIGIN: server.origin,
			REQUESTS: String(settings.requests),
		});
		return fleetRun(fleet, server, before);
	} finally {
		for (const child of children) {
			child.kill('SIGKILL');
			if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
		}
		await killAll((fleet?.workers ?? []).map((w) => w.child).filter((c) => c.exitCode === null));
	}
}
