// Refresh amplification, side by side: how many token requests each OAuth 2 client makes, and how
// many of its requests succeed, when many requests (or processes) find the token expired or revoked
// at once. Run with `npm run bench:amplification`; see BENCHMARKS.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type OAuthTestServer, startOAuthServer } from '../test/helpers/oauth-server.js';
import {
	type AmplificationResults,
	type RunResult,
	renderChart,
	renderMarkdown,
	SCENARIOS,
	type ScenarioId,
} from './amplification-report.js';
import type { WorkerConfig, WorkerMessage } from './amplification-worker.js';
import { adapters } from './clients/index.js';
import { describeError, tally } from './clients/outcome.js';
import type { BenchSetup, ClientAdapter, SeedToken } from './clients/types.js';
import { describeMachine, replaceSection } from './lib/benchmarks-md.js';

const TOKEN_LATENCY = 30;
const REQUESTS = 100;
const PROCESSES = 4;
/** A run that has not ended by then is stopped; its unfinished requests count as failed. */
const RUN_TIMEOUT = 60_000;
const root = fileURLToPath(new URL('..', import.meta.url));

/** A fresh grant for one run: the server's side, and the token the client starts from. */
function seedFor(server: OAuthTestServer, scenario: ScenarioId): SeedToken {
	if (scenario === 'revoked') {
		const answer = server.issue({ expiresIn: 3_600 });
		// Valid for an hour by the client's clock; the API refuses it from now on.
		server.revokeAccessTokens();
		return {
			accessToken: answer.access_token,
			refreshToken: answer.refresh_token,
			expiresAt: Date.now() + 3_600_000,
		};
	}
	const answer = server.issue({ expiresIn: 0 });
	return {
		accessToken: answer.access_token,
		refreshToken: answer.refresh_token,
		expiresAt: Date.now() - 60_000,
	};
}

/** Runs `work`, silencing the clients' console output (counted), and stops waiting after `ms`. */
async function withinLimits<T>(
	work: Promise<T>,
	ms: number,
): Promise<{ value: T | undefined; warnings: number }> {
	const { warn, error } = console;
	let warnings = 0;
	console.warn = () => {
		warnings++;
	};
	console.error = console.warn;
	const done = new AbortController();
	try {
		const value = await Promise.race([
			work,
			delay(ms, undefined, { signal: done.signal }).catch(() => undefined),
		]);
		return { value, warnings };
	} finally {
		done.abort();
		console.warn = warn;
		console.error = error;
	}
}

async function runInProcess(
	adapter: ClientAdapter,
	setup: BenchSetup,
	server: OAuthTestServer,
	scenario: ScenarioId,
): Promise<RunResult> {
	server.resetStats();
	const token = seedFor(server, scenario);
	const started = performance.now();
	const client = await adapter.create(setup, { token });
	const outcomes: Record<string, number> = {};
	let settled = 0;
	const { warnings } = await withinLimits(
		Promise.all(
			Array.from({ length: REQUESTS }, async () => {
				let outcome: string;
				try {
					outcome = String(await client.get(`${setup.origin}/api/item`));
				} catch (error) {
					outcome = describeError(error);
				}
				tally(outcomes, outcome);
				settled++;
			}),
		),
		RUN_TIMEOUT,
	);
	const ms = performance.now() - started;
	if (settled < REQUESTS) outcomes['not finished in time'] = REQUESTS - settled;
	await client.close();
	return resultOf(server, outcomes, REQUESTS, ms, warnings);
}

interface Worker {
	child: ChildProcess;
	messages: AsyncIterator<WorkerMessage>;
}

function startWorker(config: WorkerConfig): Worker {
	const script = fileURLToPath(new URL('./amplification-worker.ts', import.meta.url));
	const child = spawn(process.execPath, ['--import', 'tsx', script], {
		cwd: root,
		env: { ...process.env, AMPLIFICATION_WORKER: JSON.stringify(config) },
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
	async function* parse(): AsyncGenerator<WorkerMessage> {
		for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as WorkerMessage;
	}
	return { child, messages: parse() };
}

async function next(worker: Worker, type: WorkerMessage['type']): Promise<WorkerMessage> {
	const { value, done } = await worker.messages.next();
	if (done === true || value.type !== type) throw new Error(`worker ended before "${type}"`);
	return value;
}

async function runFleet(
	adapter: ClientAdapter,
	setup: BenchSetup,
	server: OAuthTestServer,
): Promise<RunResult> {
	const perProcess = REQUESTS / PROCESSES;
	const dir = await mkdtemp(join(tmpdir(), 'oauth2-session-amplification-'));
	const sharedPath = join(dir, adapter.name === 'oauth2-session' ? 'store' : 'token.json');
	const workers: Worker[] = [];
	try {
		server.resetStats();
		await adapter.seed(sharedPath, seedFor(server, 'expired'));
		const started = performance.now();
		for (let i = 0; i < PROCESSES; i++) {
			workers.push(
				startWorker({
					adapter: adapter.name,
					setup,
					sharedPath,
					url: `${setup.origin}/api/item`,
					requests: perProcess,
				}),
			);
		}
		const outcomes: Record<string, number> = {};
		let warnings = 0;
		let reported = 0;
		await withinLimits(
			(async () => {
				// Every process has loaded the shared token before any sends a request.
				await Promise.all(workers.map((worker) => next(worker, 'ready')));
				for (const worker of workers) worker.child.stdin?.write('go\n');
				await Promise.all(
					workers.map(async (worker) => {
						const done = await next(worker, 'done');
						if (done.type !== 'done') return;
						for (const [outcome, count] of Object.entries(done.outcomes)) {
							outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
						}
						warnings += done.clientWarnings;
						reported++;
					}),
				);
			})(),
			RUN_TIMEOUT,
		);
		const ms = performance.now() - started;
		if (reported < PROCESSES) {
			outcomes['process did not report in time'] = (PROCESSES - reported) * perProcess;
		}
		return resultOf(server, outcomes, REQUESTS, ms, warnings);
	} finally {
		for (const worker of workers) {
			worker.child.stdin?.end();
			if (worker.child.exitCode === null) worker.child.kill();
		}
		await rm(dir, { recursive: true, force: true });
	}
}

function resultOf(
	server: OAuthTestServer,
	outcomes: Record<string, number>,
	total: number,
	ms: number,
	clientWarnings: number,
): RunResult {
	return {
		tokenRequests: server.stats.tokenRequests,
		succeeded: outcomes['200'] ?? 0,
		total,
		apiRequests: server.stats.apiRequests,
		ms: Math.round(ms),
		clientWarnings,
		outcomes,
	};
}

const server = await startOAuthServer({
	tokenLatency: TOKEN_LATENCY,
	rotateRefreshTokens: true,
	revokeGrantOnReuse: false,
});
const setup: BenchSetup = {
	origin: server.origin,
	tokenEndpoint: server.tokenEndpoint,
	clientId: server.settings.clientId,
	clientSecret: server.settings.clientSecret,
};
const results: AmplificationResults['results'] = {};
try {
	for (const adapter of adapters) {
		const row: Partial<Record<ScenarioId, RunResult>> = {};
		row.expired = await runInProcess(adapter, setup, server, 'expired');
		row.revoked = await runInProcess(adapter, setup, server, 'revoked');
		row.fleet = await runFleet(adapter, setup, server);
		results[adapter.name] = row as Record<ScenarioId, RunResult>;
		const cells = SCENARIOS.map(
			(s) => `${s.id}: ${row[s.id]?.tokenRequests} token requests, ${row[s.id]?.succeeded}/100 ok`,
		);
		console.log(`${adapter.name.padEnd(28)} ${cells.join(' | ')}`);
	}
} finally {
	await server.close();
}

const { loadAverage, ...machine } = describeMachine();
const report: AmplificationResults = {
	...machine,
	loadAverageAtEnd: loadAverage,
	server: {
		where: 'in the bench process (test/helpers/oauth-server.ts), on 127.0.0.1',
		tokenLatencyMs: TOKEN_LATENCY,
		rotateRefreshTokens: true,
		reusedRefreshToken: 'invalid_grant',
		revokeGrantOnReuse: false,
	},
	requests: REQUESTS,
	processes: PROCESSES,
	clients: adapters.map(({ name, how, sharing }) => ({ name, how, sharing })),
	results,
};

const markdown = renderMarkdown(report);
console.log(`\n${markdown}`);
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('amplification.json', dir), `${JSON.stringify(report, null, '\t')}\n`);
await writeFile(new URL('amplification.svg', dir), renderChart(report));
await replaceSection('amplification', markdown);
