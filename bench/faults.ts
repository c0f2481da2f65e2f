// Token endpoint faults, measured: for each fault of test/helpers/token-faults.ts a session serves a
// steady stream of requests against a real server on 127.0.0.1 while its token endpoint fails,
// then the fault clears. Also gathers the SIGKILL figures the long kill tests wrote. Run with
// `npm run bench:faults`; see BENCHMARKS.md. Exits 1 if a session ended or a request failed while
// its token was valid.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { OAuth2Session } from '../src/index.js';
import { type FleetRun, runRedisFleet } from '../test/helpers/fleet.js';
import { sendJson, startServer } from '../test/helpers/http-server.js';
import type { KillFigures } from '../test/helpers/kill-scenario.js';
import { startOAuthServer } from '../test/helpers/oauth-server.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { requireRedisServer } from '../test/helpers/requirements.js';
import { type TokenEndpointFault, tokenEndpointFaults } from '../test/helpers/token-faults.js';

/** How long each fault lasts: longer than one failed refresh (3 attempts) and its backoff. */
const FAULT_MS = Number(process.env.FAULT_MS ?? 10_000);
/** The starting token's remaining life; the default leeway (30 s) makes it due at once. */
const TOKEN_MS = 25_000;
/** One request every STREAM_MS, whether or not the previous one has answered. */
const STREAM_MS = 50;
/** The hang's refresh timeout; the default (60 s) would only make the run longer. */
const HANG_TIMEOUT = 2_000;
/** Runs of the Redis fleet: 8 processes × 20 requests on an expired token, 2 CPU burners. */
const FLEET_RUNS = Number(process.env.FLEET_RUNS ?? 12);
const FLEET = { processes: 8, requests: 20, burners: 2 } as const;

/** A session not refreshed this long after its fault cleared counts as not recovered. */
const RECOVERY_LIMIT = 30_000;

export interface FaultFigures {
	fault: string;
	faultMs: number;
	refreshTimeoutMs: number | 'default';
	/** Requests sent while the starting token was valid, by outcome. */
	servedWhileValid: number;
	failedWhileValid: number;
	/** Requests sent after it expired (none unless recovery outlasted it). */
	servedAfterExpiry: number;
	failedAfterExpiry: number;
	/** Token requests the endpoint received during the fault, and in all. */
	tokenRequestsDuringFault: number;
	tokenRequests: number;
	refreshFailedEvents: number;
	/** From the fault clearing to the session holding a new token; null if it never did. */
	recoveryMs: number | null;
	sessionEnded: boolean;
}

async function measure(fault: TokenEndpointFault): Promise<FaultFigures> {
	let faulty = true;
	let tokenRequests = 0;
	let issued = 0;
	const valid = new Map<string, number>([['at-0', Date.now() + TOKEN_MS]]);
	const server = await startServer((request, response) => {
		if (request.url === '/token') {
			tokenRequests++;
			if (faulty) return fault.fault(response);
			issued++;
			valid.set(`at-${issued}`, Date.now() + 3_600_000);
			return sendJson(response, 200, {
				access_token: `at-${issued}`,
				refresh_token: `rt-${issued}`,
				token_type: 'Bearer',
				expires_in: 3600,
			});
		}
		const expiresAt = valid.get(request.headers.authorization?.replace(/^Bearer /, '') ?? '');
		if (expiresAt === undefined || expiresAt <= Date.now()) return sendJson(response, 401, {});
		sendJson(response, 200, { ok: true });
	});
	const expiresAt = Date.now() + TOKEN_MS;
	const session = new OAuth2Session({
		clientId: 'app',
		tokenEndpoint: `${server.origin}/token`,
		allowedOrigins: [server.origin],
		token: { accessToken: 'at-0', refreshToken: 'rt-0', expiresAt },
		...(fault.refreshTimeout === undefined ? {} : { refreshTimeout: HANG_TIMEOUT }),
	});
	let refreshFailed = 0;
	let ended = false;
	let renewedAt: number | undefined;
	session.on('refreshFailed', () => refreshFailed++);
	session.on('sessionEnded', () => {
		ended = true;
	});
	session.on('tokenUpdated', ({ source }) => {
		if (source === 'refresh') renewedAt ??= Date.now();
	});

	const outcomes = { servedWhileValid: 0, failedWhileValid: 0, served: 0, failed: 0 };
	const send = async () => {
		const whileValid = Date.now() < expiresAt;
		let ok = false;
		try {
			const response = await session.fetch(`${server.origin}/api/me`);
			await response.arrayBuffer();
			ok = response.status === 200;
		} catch {
			ok = false;
		}
		if (whileValid) outcomes[ok ? 'servedWhileValid' : 'failedWhileValid']++;
		else outcomes[ok ? 'served' : 'failed']++;
	};
	const inFlight = new Set<Promise<void>>();
	let streaming = true;
	const stream = (async () => {
		while (streaming) {
			const request = send().finally(() => inFlight.delete(request));
			inFlight.add(request);
			await delay(STREAM_MS);
		}
	})();

	await delay(FAULT_MS);
	faulty = false;
	const clearedAt = Date.now();
	const tokenRequestsDuringFault = tokenRequests;
	while (renewedAt === undefined && !ended && Date.now() - clearedAt < RECOVERY_LIMIT) {
		await delay(20);
	}
	// A little of the stream on the new token, to see it served too.
	await delay(500);
	streaming = false;
	await stream;
	await Promise.all(inFlight);
	session.close();
	await server.close();
	return {
		fault: fault.name,
		faultMs: FAULT_MS,
		refreshTimeoutMs: fault.refreshTimeout === undefined ? 'default' : HANG_TIMEOUT,
		servedWhileValid: outcomes.servedWhileValid,
		failedWhileValid: outcomes.failedWhileValid,
		servedAfterExpiry: outcomes.served,
		failedAfterExpiry: outcomes.failed,
		tokenRequestsDuringFault,
		tokenRequests,
		refreshFailedEvents: refreshFailed,
		recoveryMs: renewedAt === undefined ? null : Math.max(0, renewedAt - clearedAt),
		sessionEnded: ended,
	};
}

/** The figures a long kill test wrote, or null when it has not been run here. */
async function killFigures(store: 'file' | 'redis'): Promise<KillFigures | null> {
	const name = store === 'file' ? 'kill.json' : 'kill-redis.json';
	try {
		const figures = JSON.parse(
			await readFile(new URL(`results/${name}`, import.meta.url), 'utf8'),
		) as KillFigures;
		return figures.version === 'long' ? figures : null;
	} catch {
		return null;
	}
}

const ms = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value)} ms`);

function renderMarkdown(
	faults: readonly FaultFigures[],
	kill: Record<'file' | 'redis', KillFigures | null>,
	run: { date: string; node: string; cpu: string; loadAverage: string },
	fleet: readonly FleetRun[] | null,
): string {
	const lines = [
		`Run ${run.date}, Node ${run.node}, ${run.cpu}; each fault on for ${FAULT_MS / 1000} s, a request every ${STREAM_MS} ms, the starting token valid for ${TOKEN_MS / 1000} s; load average at the end ${run.loadAverage}. Figures: [\`bench/results/faults.json\`](bench/results/faults.json).`,
		'',
		'| fault | requests served / failed while the token was valid | token requests (during the fault / in all) | failed refreshes reported | recovery after the fault cleared | session ended |',
		'| --- | ---: | ---: | ---: | ---: | --- |',
		...faults.map(
			(f) =>
				`| ${f.fault} | ${f.servedWhileValid} / ${f.failedWhileValid} | ${f.tokenRequestsDuringFault} / ${f.tokenRequests} | ${f.refreshFailedEvents} | ${ms(f.recoveryMs)} | ${f.sessionEnded ? '**yes**' : 'no'} |`,
		),
		...faults
			.filter((f) => f.servedAfterExpiry + f.failedAfterExpiry > 0)
			.map(
				(f) =>
					`- ${f.fault}: recovery outlasted the starting token; after it expired ${f.servedAfterExpiry} requests were served, ${f.failedAfterExpiry} failed.`,
			),
		'',
		'SIGKILL, from the last `npm run test:long` (3 processes sharing the store, 1-s tokens, rotating refresh tokens, a reused one revoking the grant):',
		'',
		'| store | refreshes | kills | kills inside the save window | sessions lost | save window p50 / p99 / max | requests over 1 s (longest) | measured |',
		'| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
		...(['file', 'redis'] as const).map((store) => {
			const k = kill[store];
			if (k === null) return `| ${store} | not measured: run \`npm run test:long\` | | | | | | |`;
			const w = k.saveWindowMs;
			return `| ${store} | ${k.refreshes} | ${k.kills} | ${k.killsInSaveWindow} | ${k.sessionsLost} | ${ms(w.p50)} / ${ms(w.p99)} / ${ms(w.max)} | ${k.slowRequests} (${ms(k.longestSlowRequestMs)}) | ${k.measuredAt.slice(0, 16).replace('T', ' ')} UTC |`;
		}),
		...renderFleet(fleet),
	];
	return lines.join('\n');
}

/** The fleet of test/storage/redis-fleet.test.ts, FLEET_RUNS times; null without redis-server. */
async function measureFleet(): Promise<FleetRun[] | null> {
	const binary = requireRedisServer();
	if (binary.missing) return null;
	const redis = await startRedisServer(binary.path as string);
	const server = await startOAuthServer({ tokenLatency: 30 });
	try {
		const runs: FleetRun[] = [];
		for (let i = 0; i < FLEET_RUNS; i++) {
			runs.push(await runRedisFleet({ redisUrl: redis.url, server, ...FLEET }));
			process.stdout.write(`fleet run ${i + 1}: ${runs.at(-1)?.tokenRequests} token requests\n`);
		}
		return runs;
	} finally {
		await Promise.all([redis.stop(), server.close()]);
	}
}

function renderFleet(fleet: readonly FleetRun[] | null): string[] {
	if (fleet === null) return ['Redis fleet: not measured (no redis-server).'];
	const perRun = fleet.map((r) => r.tokenRequests);
	const exact = perRun.filter((n) => n === 1).length;
	return [
		'',
		`Redis fleet, CPU saturated (${FLEET.processes} processes sharing a RedisStore and an expired token, ${FLEET.processes * FLEET.requests} requests at once, ${FLEET.burners} processes burning the cores, rotating refresh tokens, a reused one refused):`,
		'',
		'| runs | runs with exactly 1 token request | token requests per run | failed requests | store errors |',
		'| ---: | ---: | --- | ---: | ---: |',
		`| ${fleet.length} | ${exact} | ${perRun.join(', ')} | ${fleet.reduce((n, r) => n + r.failedRequests, 0)} | ${fleet.reduce((n, r) => n + r.storeErrors.length, 0)} |`,
	];
}

/** Puts `section` between the faults markers of BENCHMARKS.md, keeping the rest as it is. */
async function writeSection(section: string): Promise<void> {
	const file = new URL('../BENCHMARKS.md', import.meta.url);
	const text = await readFile(file, 'utf8');
	const markers = /(<!-- faults:start -->\n)[\s\S]*?(<!-- faults:end -->)/;
	if (!markers.test(text))
		throw new Error('BENCHMARKS.md has no faults:start / faults:end markers');
	await writeFile(
		file,
		text.replace(markers, (_, open: string, close: string) => `${open}${section}\n${close}`),
	);
}

const faults: FaultFigures[] = [];
for (const fault of tokenEndpointFaults) {
	// One at a time, so a fault's timings are its own.
	faults.push(await measure(fault));
	process.stdout.write(`${fault.name}: ${JSON.stringify(faults.at(-1))}\n`);
}
const kill = { file: await killFigures('file'), redis: await killFigures('redis') };
const fleet = await measureFleet();
const cpu = cpus();
const run = {
	date: new Date().toISOString().slice(0, 16).replace('T', ' ').concat(' UTC'),
	node: process.version,
	cpu: `${cpu.length} cores × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
	// One string, as BENCHMARKS.md shows it (and as the JSON formatter keeps it).
	loadAverage: `${loadavg()
		.map((l) => l.toFixed(2))
		.join(' / ')} (1 / 5 / 15 min)`,
};
const results = new URL('results/', import.meta.url);
await mkdir(results, { recursive: true });
await writeFile(
	new URL('faults.json', results),
	`${JSON.stringify({ ...run, faultMs: FAULT_MS, streamMs: STREAM_MS, tokenMs: TOKEN_MS, faults, kill, fleet }, null, '\t')}\n`,
);
await writeSection(renderMarkdown(faults, kill, run, fleet));

const broken = faults.filter(
	(f) => f.sessionEnded || f.failedWhileValid > 0 || f.recoveryMs === null,
);
if (fleet?.some((r) => r.tokenRequests !== 1)) {
	process.stderr.write('The Redis fleet made more than 1 token request in a run\n');
	process.exitCode = 1;
}
if (broken.length > 0) {
	process.stderr.write(`Not kept up or not recovered: ${broken.map((f) => f.fault).join(', ')}\n`);
	process.exitCode = 1;
}
