// Soak: a long run of requests through one OAuth2Session with short-lived tokens. It checks that
// the session refreshes once per token lifetime and never more, that no request fails, and that
// its heap does not grow. Run with `npm run bench:soak` (node --expose-gc); see bench/README.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { clientCredentialsGrant, OAuth2Session } from '../src/index.js';
import { describeMachine, replaceSection, runLine } from './lib/benchmarks-md.js';
import { startChildServer } from './lib/child-server.js';

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32);
const TOKEN_SECONDS = 2;
const HEAP_GOAL_MB = 5;
/** Heap samples after the warm-up one; the requests between them run without pause. */
const SAMPLES = 10;
/**
 * A refresh is "early" when the token it replaced had more left than the session's proactive
 * margin: a quarter of the lifetime (its leeway for short tokens) plus up to half that again of
 * jitter. The server sees a token live a little longer than the client, which counts from when
 * it sent the token request, so a token request's trip is allowed on top.
 */
const MARGIN_MS = ((TOKEN_SECONDS * 1000) / 4) * 1.5;
const TRIP_ALLOWANCE_MS = 250;

interface ServerStats {
	tokenRequests: number;
	logins: number;
	refreshes: number;
	refused: number;
	apiRequests: number;
	apiOk: number;
	apiExpired: number;
	apiUnknown: number;
	accessTokensIssued: number;
	expiries: number;
	expiredUnreplaced: number;
	replacedBeforeExpiry: number;
	leftAtRefreshMs: { min: number; max: number; mean: number };
	meanTokenUseMs: number;
}

interface HeapSample {
	requests: number;
	seconds: number;
	heapUsedMB: number;
	rssMB: number;
}

const gc = globalThis.gc;
if (gc === undefined) throw new Error('soak.ts measures the heap: run it with node --expose-gc');

const MB = 1_000_000;
/** heapUsed once garbage is gone: collections separated by a turn, so finalizers run between. */
async function sampleHeap(requests: number, started: number): Promise<HeapSample> {
	for (let i = 0; i < 3; i++) {
		gc?.();
		await delay(20);
	}
	const { heapUsed, rss } = process.memoryUsage();
	return {
		requests,
		seconds: (performance.now() - started) / 1000,
		heapUsedMB: heapUsed / MB,
		rssMB: rss / MB,
	};
}

const startMachine = describeMachine();
const server = await startChildServer(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), [
	String(TOKEN_SECONDS),
]);
const url = `${server.origin}/api/item`;
/** Failed requests by what they ended with: a status or an error's name, never its message. */
const failures = new Map<string, number>();
const fail = (outcome: string) => failures.set(outcome, (failures.get(outcome) ?? 0) + 1);
const events = { refreshed: 0, refreshFailed: 0, sessionEnded: 0, storeError: 0 };
let stats: ServerStats;
const samples: HeapSample[] = [];
let elapsed: number;
try {
	const session = new OAuth2Session({
		clientId: 'soak',
		clientSecret: 'soak-secret',
		tokenEndpoint: `${server.origin}/token`,
		allowedOrigins: [server.origin],
	});
	session.on('tokenUpdated', ({ source }) => {
		if (source === 'refresh') events.refreshed++;
	});
	session.on('refreshFailed', () => events.refreshFailed++);
	session.on('sessionEnded', () => events.sessionEnded++);
	session.on('storeError', () => events.storeError++);
	// The login, as a daemon's first start would do: the one token request that is not a refresh.
	await session.fetchToken({ grant: clientCredentialsGrant() });

	let sent = 0;
	/** Sends `count` more requests, `CONCURRENCY` at a time, and reads each JSON body. */
	const drive = async (count: number) => {
		const until = sent + count;
		const worker = async () => {
			while (sent < until) {
				sent++;
				try {
					const response = await session.fetch(url);
					await response.json();
					if (response.status !== 200) fail(`HTTP ${response.status}`);
				} catch (error) {
					fail(error instanceof Error ? error.name : typeof error);
				}
			}
		};
		await Promise.all(Array.from({ length: CONCURRENCY }, worker));
	};

	const started = performance.now();
	const warmup = Math.min(50_000, Math.ceil(REQUESTS / 20));
	await drive(warmup);
	samples.push(await sampleHeap(sent, started));
	console.log(
		`${REQUESTS} requests, ${CONCURRENCY} at a time, ${TOKEN_SECONDS} s access tokens; heap after ${warmup} warm-up requests: ${samples[0]?.heapUsedMB.toFixed(2)} MB`,
	);
	for (let i = 1; i <= SAMPLES; i++) {
		await drive(Math.round(((REQUESTS - warmup) * i) / SAMPLES) - (sent - warmup));
		const sample = await sampleHeap(sent, started);
		samples.push(sample);
		console.log(
			`  ${String(sent).padStart(8)} requests  ${sample.seconds.toFixed(1).padStart(6)} s  ${Math.round(sent / sample.seconds)} req/s  heap ${sample.heapUsedMB.toFixed(2)} MB  refreshes ${events.refreshed}`,
		);
	}
	session.close();
	elapsed = (performance.now() - started) / 1000;
	stats = (await (await fetch(`${server.origin}/stats`)).json()) as ServerStats;
} finally {
	server.stop();
}

const failed = [...failures.values()].reduce((a, b) => a + b, 0);
const first = samples[0] as HeapSample;
const last = samples[samples.length - 1] as HeapSample;
const heapGrowthMB = last.heapUsedMB - first.heapUsedMB;
// Each goal as judged in BENCHMARKS.md's soak section.
const goals = {
	noFailure: failed === 0 && events.sessionEnded === 0,
	refreshPerExpiry: stats.expiredUnreplaced === 0 && stats.replacedBeforeExpiry <= 1,
	noRefused: stats.refused === 0,
	noEarlyRefresh:
		stats.refreshes === 0 || stats.leftAtRefreshMs.max <= MARGIN_MS + TRIP_ALLOWANCE_MS,
	noExpiredUse: stats.apiExpired === 0 && stats.apiUnknown === 0,
	heap: heapGrowthMB < HEAP_GOAL_MB,
};

const results = {
	...startMachine,
	loadAverageAtStart: startMachine.loadAverage,
	loadAverageAtEnd: describeMachine().loadAverage,
	requests: REQUESTS,
	concurrency: CONCURRENCY,
	tokenLifetimeSeconds: TOKEN_SECONDS,
	seconds: elapsed,
	requestsPerSecond: REQUESTS / elapsed,
	server: stats,
	client: { failed, failures: Object.fromEntries(failures), events },
	marginMs: MARGIN_MS,
	tripAllowanceMs: TRIP_ALLOWANCE_MS,
	heap: { samples, growthMB: heapGrowthMB, goalMB: HEAP_GOAL_MB },
	goals,
};

function renderMarkdown(r: typeof results): string {
	const s = r.server;
	const yes = (met: boolean) => (met ? 'met' : '**missed**');
	const peak = Math.max(...r.heap.samples.map((h) => h.heapUsedMB));
	return [
		`${runLine(r)}; load average ${r.loadAverageAtStart} at the start, ${r.loadAverageAtEnd} at the end (1 / 5 / 15 min). Figures: [\`bench/results/soak.json\`](bench/results/soak.json).`,
		'',
		`${r.requests.toLocaleString('en')} requests, ${r.concurrency} at a time, through one \`OAuth2Session\` (defaults: proactive refresh, \`MemoryStore\`) in ${r.seconds.toFixed(0)} s (${Math.round(r.requestsPerSecond)} requests/s); access tokens live ${r.tokenLifetimeSeconds} s.`,
		'',
		'| measure | figure | goal | |',
		'| --- | ---: | --- | --- |',
		`| requests that failed (not 200, or thrown) | ${r.client.failed} | 0 | ${yes(r.goals.noFailure)} |`,
		`| token requests at the server | ${s.tokenRequests} (1 login + ${s.refreshes} refreshes) | | |`,
		`| access tokens that expired during the run | ${s.expiries} | | |`,
		`| … of them never replaced by a refresh | ${s.expiredUnreplaced} | 0 | ${yes(r.goals.refreshPerExpiry)} |`,
		`| refreshes whose token had not yet expired at the end | ${s.replacedBeforeExpiry} | at most 1 (the last) | |`,
		`| refreshes refused (refresh token reused) | ${s.refused} | 0 | ${yes(r.goals.noRefused)} |`,
		`| time left on the replaced token at each refresh, min / mean / max | ${s.leftAtRefreshMs.min} / ${s.leftAtRefreshMs.mean.toFixed(0)} / ${s.leftAtRefreshMs.max} ms | max ≤ ${r.marginMs} + ${r.tripAllowanceMs} ms | ${yes(r.goals.noEarlyRefresh)} |`,
		`| mean time a token served before its refresh | ${(s.meanTokenUseMs / 1000).toFixed(2)} s | | |`,
		`| API answers 401 (token expired / unknown) | ${s.apiExpired} / ${s.apiUnknown} | 0 / 0 | ${yes(r.goals.noExpiredUse)} |`,
		`| heap used after warm-up → at the end (after GC; highest sample) | ${r.heap.samples[0]?.heapUsedMB.toFixed(2)} → ${r.heap.samples.at(-1)?.heapUsedMB.toFixed(2)} MB (${peak.toFixed(2)}) | | |`,
		`| heap growth (1 MB = 10⁶ bytes) | ${r.heap.growthMB.toFixed(2)} MB | < ${r.heap.goalMB} MB | ${yes(r.goals.heap)} |`,
	].join('\n');
}

const markdown = renderMarkdown(results);
console.log(`\n${markdown}`);
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(new URL('soak.json', dir), `${JSON.stringify(results, null, '\t')}\n`);
await replaceSection('soak', markdown);
if (Object.values(goals).includes(false)) process.exitCode = 1;
