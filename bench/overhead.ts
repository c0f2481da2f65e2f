// µs per request of the session and the ky integration over what they wrap, on loopback.
// Run with `npm run bench:overhead`; see bench/README.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ky from 'ky';
import { createKy, oauth2Hooks } from '../src/ky.js';
import { OAuth2Session } from '../src/session/oauth2-session.js';
import { describeMachine } from './lib/benchmarks-md.js';
import { startChildServer } from './lib/child-server.js';
import { clientContenders } from './overhead-clients.js';
import {
	CONTROL,
	type OverheadResults,
	RATIOS,
	renderMarkdown,
	writeReport,
} from './overhead-report.js';

/** Requests per contender, sent one contender at a time in turn (see the main loop). */
const REQUESTS = Number(process.env.REQUESTS ?? 15_000);
const WARMUP = Number(process.env.WARMUP ?? 1_000);
/** Blocks, and requests per block, of the session's own cost over a fetch that answers at once. */
const OWN_BLOCKS = 500;
const OWN_BLOCK = 200;
const GOAL = 1.05;
const TOKEN = 'bench-access-token';

interface Contender {
	name: string;
	/** Sends one request and reads its JSON body, as an application would. */
	send: () => Promise<unknown>;
}

function contenders(origin: string, session: OAuth2Session): Contender[] {
	const url = `${origin}/api/item`;
	const headers = { authorization: `Bearer ${TOKEN}` };
	const plainKy = ky.create({ headers });
	// What any afterResponse hook costs: ky clones every response for each one.
	const noopAfterResponse = plainKy.extend({ hooks: { afterResponse: [() => {}] } });
	const integrated = createKy(session);
	const hooked = ky.create({}).extend({ hooks: oauth2Hooks(session) });
	return [
		{ name: 'raw fetch', send: async () => (await fetch(url, { headers })).json() },
		// The same code again: how far two identical contenders drift apart is this run's noise.
		{ name: CONTROL, send: async () => (await fetch(url, { headers })).json() },
		{ name: 'session.fetch', send: async () => (await session.fetch(url)).json() },
		{ name: 'plain ky', send: () => plainKy.get(url).json() },
		{ name: 'createKy', send: () => integrated.get(url).json() },
		{ name: 'ky + oauth2Hooks', send: () => hooked.get(url).json() },
		{ name: 'plain ky + no-op afterResponse', send: () => noopAfterResponse.get(url).json() },
	];
}

/** µs per request over `count` sequential requests: elapsed, and CPU time of this process. */
async function timeRound(
	contender: Contender,
	count: number,
): Promise<{ wall: number; cpu: number }> {
	const cpuStart = process.cpuUsage();
	const start = process.hrtime.bigint();
	for (let i = 0; i < count; i++) await contender.send();
	const wall = Number(process.hrtime.bigint() - start) / 1_000 / count;
	const cpu = process.cpuUsage(cpuStart);
	return { wall, cpu: (cpu.user + cpu.system) / count };
}

function round(value: number | undefined, digits = 1): number {
	return Number((value ?? Number.NaN).toFixed(digits));
}

/** The value below which `fraction` of the values lie (nearest rank). */
function quantile(values: readonly number[], fraction: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number;
}

const median = (values: readonly number[]) => quantile(values, 0.5);

/** Fisher-Yates, in place. */
function shuffle<T>(items: T[]): void {
	for (let i = items.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[items[i], items[j]] = [items[j] as T, items[i] as T];
	}
}

/**
 * The session's own work per request, apart from the network: `session.fetch` over a fetch that
 * answers at once, minus that fetch called directly, in µs. Blocks of each alternate, timed by
 * the clock: CPU time is counted in scheduler ticks, too coarse for blocks this short.
 */
async function sessionOwnCost(origin: string): Promise<number> {
	const url = `${origin}/api/item`;
	const body = JSON.stringify({ ok: true });
	const instant: typeof fetch = async () =>
		new Response(body, { headers: { 'content-type': 'application/json' } });
	const session = new OAuth2Session({
		clientId: 'bench',
		token: { accessToken: TOKEN },
		allowedOrigins: [origin],
		proactiveRefresh: false,
		fetch: instant,
	});
	await session.ready;
	const direct: Contender = {
		name: 'instant fetch',
		send: async () =>
			(await instant(url, { headers: { authorization: `Bearer ${TOKEN}` } })).json(),
	};
	const wrapped: Contender = {
		name: 'session over it',
		send: async () => (await session.fetch(url)).json(),
	};
	await timeRound(direct, OWN_BLOCK * 20);
	await timeRound(wrapped, OWN_BLOCK * 20);
	const directTimes: number[] = [];
	const wrappedTimes: number[] = [];
	for (let block = 0; block < OWN_BLOCKS; block++) {
		directTimes.push((await timeRound(direct, OWN_BLOCK)).wall);
		wrappedTimes.push((await timeRound(wrapped, OWN_BLOCK)).wall);
	}
	session.close();
	return median(wrappedTimes) - median(directTimes);
}

const api = await startChildServer(fileURLToPath(new URL('./api-server.ts', import.meta.url)), [
	TOKEN,
]);
const { origin } = api;
const loadAverageAtStart = describeMachine().loadAverage;
try {
	const session = new OAuth2Session({
		clientId: 'bench',
		token: { accessToken: TOKEN },
		allowedOrigins: [origin],
		proactiveRefresh: false,
	});
	await session.ready;
	const others = await clientContenders(origin, TOKEN);
	const all = [...contenders(origin, session), ...others.contenders];
	for (const contender of all) {
		// A contender the API refuses would time its error path: check it is let in first.
		const body = (await contender.send()) as { ok?: unknown };
		if (body.ok !== true) throw new Error(`${contender.name} was not let in by the API`);
		await timeRound(contender, WARMUP);
	}

	// One request per contender in turn, in a new random order each time, each request timed
	// alone. Timing rounds of hundreds of requests per contender instead let the machine's drift
	// between rounds (GC, other load) show as differences of several percent between identical
	// contenders; taken one request apart, every contender samples the same moments. The order is
	// shuffled, not rotated: rotated, each contender always follows the same one and pays for its
	// garbage. The control row shows what remains.
	const wall = new Map(all.map((c) => [c.name, [] as number[]]));
	const cpu = new Map(all.map((c) => [c.name, 0]));
	const order = [...all];
	for (let i = 0; i < REQUESTS; i++) {
		shuffle(order);
		for (const contender of order) {
			const cpuStart = process.cpuUsage();
			const start = process.hrtime.bigint();
			await contender.send();
			const elapsed = Number(process.hrtime.bigint() - start) / 1_000;
			const used = process.cpuUsage(cpuStart);
			wall.get(contender.name)?.push(elapsed);
			cpu.set(contender.name, (cpu.get(contender.name) ?? 0) + used.user + used.system);
		}
	}
	session.close();
	await others.close();
	const ownCost = await sessionOwnCost(origin);

	const quantiles = (fraction: number) =>
		Object.fromEntries([...wall].map(([name, values]) => [name, quantile(values, fraction)]));
	const medians = quantiles(0.5);
	const lowerQuartiles = quantiles(0.25);
	const cpuMeans = Object.fromEntries([...cpu].map(([name, total]) => [name, total / REQUESTS]));
	const ratioOf = (m: Record<string, number>, a: string, b: string) =>
		(m[a] as number) / (m[b] as number);
	const ratios = Object.fromEntries(
		RATIOS.map(({ contender: a, baseline: b }) => [
			`${a} / ${b}`,
			{
				elapsed: round(ratioOf(medians, a, b), 3),
				elapsedLowerQuartile: round(ratioOf(lowerQuartiles, a, b), 3),
				clientCpu: round(ratioOf(cpuMeans, a, b), 3),
			},
		]),
	);

	const { loadAverage, ...machine } = describeMachine();
	const results: OverheadResults = {
		...machine,
		loadAverageAtStart,
		loadAverageAtEnd: loadAverage,
		requests: REQUESTS,
		warmup: WARMUP,
		goal: GOAL,
		sessionOwnMicroseconds: round(ownCost),
		ownBlocks: OWN_BLOCKS,
		ownRequestsPerBlock: OWN_BLOCK,
		microsecondsPerRequest: Object.fromEntries(
			[...wall].map(([name, values]) => [
				name,
				{
					median: round(medians[name]),
					lowerQuartile: round(lowerQuartiles[name]),
					upperQuartile: round(quantile(values, 0.75)),
					clientCpuMean: round(cpuMeans[name]),
				},
			]),
		),
		ratios,
	};
	const dir = new URL('./results/', import.meta.url);
	await mkdir(dir, { recursive: true });
	await writeFile(new URL('overhead.json', dir), `${JSON.stringify(results, null, '\t')}\n`);
	console.log(`\n${renderMarkdown(results)}`);
	await writeReport(results);
	const missed = RATIOS.filter(
		({ contender, baseline, goal }) =>
			goal && (ratios[`${contender} / ${baseline}`]?.elapsed ?? Number.POSITIVE_INFINITY) > GOAL,
	);
	if (missed.length > 0) {
		console.error(`Goal ≤ ${GOAL}x missed: ${missed.map((r) => r.contender).join(', ')}`);
		process.exitCode = 1;
	}
} finally {
	api.stop();
}
