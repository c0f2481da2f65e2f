// A fleet of processes sharing a RedisStore and an expired token, all firing at once, with the
// CPU kept busy by processes that only burn it: what test/storage/redis-fleet.test.ts asserts and
// bench/faults.ts measures.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Token } from '../../src/protocol/token.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import type { WorkerResult } from '../fixtures/redis-worker.js';
import type { OAuthTestServer } from './oauth-server.js';

const WORKER = fileURLToPath(new URL('../fixtures/redis-worker.ts', import.meta.url));

export interface FleetSettings {
	redisUrl: string;
	/** Rotates refresh tokens and refuses a reused one. */
	server: OAuthTestServer;
	processes: number;
	/** Requests each process sends at once. */
	requests: number;
	/** Processes that do nothing but burn CPU while the fleet runs. */
	burners: number;
}

/** What one run saw. */
export interface FleetRun {
	tokenRequests: number;
	/** Requests that did not end in a 200. */
	failedRequests: number;
	storeErrors: string[];
	errors: string[];
}

let runs = 0;

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

export async function runRedisFleet(settings: FleetSettings): Promise<FleetRun> {
	const { server, redisUrl } = settings;
	const key = `fleet-${process.pid}-${++runs}`;
	const setup = new RedisStore({ url: redisUrl });
	await setup.set(key, expiredRecord(server));
	await setup.close();
	const before = server.stats.tokenRequests;
	const children: ChildProcess[] = [];
	try {
		for (let i = 0; i < settings.burners; i++) {
			children.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
		}
		const workers = Array.from({ length: settings.processes }, () => {
			const child = spawn(process.execPath, ['--import', 'tsx', WORKER, 'session'], {
				env: {
					...process.env,
					REDIS_URL: redisUrl,
					STORE_KEY: key,
					TOKEN_ENDPOINT: server.tokenEndpoint,
					API_ORIGIN: server.origin,
					REQUESTS: String(settings.requests),
				},
				stdio: ['pipe', 'pipe', 'inherit'],
			});
			children.push(child);
			return { child, messages: messagesOf(child) };
		});
		await Promise.all(workers.map((w) => w.messages.next('ready')));
		const results = workers.map((w) => w.messages.next('result') as Promise<WorkerResult>);
		for (const { child } of workers) child.stdin?.write('go\n');
		const outcomes = await Promise.all(results);
		return {
			tokenRequests: server.stats.tokenRequests - before,
			failedRequests: outcomes.flatMap((o) => o.statuses).filter((s) => s !== 200).length,
			storeErrors: outcomes.flatMap((o) => o.storeErrors),
			errors: outcomes.flatMap((o) => o.errors),
		};
	} finally {
		for (const child of children) {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill('SIGKILL');
				await once(child, 'exit');
			}
		}
	}
}

/** The JSON lines of a worker, by the property they carry. */
function messagesOf(child: ChildProcess) {
	const seen = new Map<string, unknown>();
	const waiting = new Map<string, (value: unknown) => void>();
	createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
		let message: Record<string, unknown>;
		try {
			message = JSON.parse(line);
		} catch {
			return;
		}
		for (const [name, value] of Object.entries(message)) {
			seen.set(name, value);
			waiting.get(name)?.(value);
		}
	});
	return {
		next: (name: string) =>
			new Promise<unknown>((resolve, reject) => {
				if (seen.has(name)) return resolve(seen.get(name));
				waiting.set(name, resolve);
				child.once('exit', (code, signal) => {
					if (!seen.has(name))
						reject(new Error(`worker exited (${code ?? signal}) before "${name}"`));
				});
			}),
	};
}
