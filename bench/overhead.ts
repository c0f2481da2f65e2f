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
import { type OverheadResults, RATIOS, renderMarkdown, writeReport } from './overhead-report.js';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const PER_ROUND = Number(process.env.PER_ROUND ?? 500);
const WARMUP = Number(process.env.WARMUP ?? 1_000);
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

function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 === 1
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The session's own work per request, apart from the network: `session.fetch` over a fetch that
 * answers at once, minus that fetch called directly, in µs. Loopback ratios move by a few percent
 * from run to run on a shared machine; this difference does not depend on the network at all.
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
	const count = PER_ROUND * 10;
	await timeRound(direct, count);
	await timeRound(wrapped, count);
	const differences: number[] = [];
	for (let round = 0; round < ROUNDS; round++) {
		const a = await timeRound(direct, count);
		const b = await timeRound(wrapped, count);
		differences.push(b.cpu - a.cpu);
	}
	session.close();
	return median(differences);
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

	const wall = new Map(all.map((c) => [c.name, [] as number[]]));
	const cpu = new Map(all.map((c) => [c.name, [] as number[]]));
	for (let round = 0; round < ROUNDS; round++) {
		// Rotating the order spreads drift (GC, other load on the machine) over every contender.
		for (let i = 0; i < all.length; i++) {
			const contender = all[(round + i) % all.length] as Contender;
			const timing = await timeRound(contender, PER_ROUND);
			wall.get(contender.name)?.push(timing.wall);
			cpu.get(contender.name)?.push(timing.cpu);
		}
	}
	session.close();
	await others.close();
	const ownCost = await sessionOwnCost(origin);

	const medians = (samples: Map<string, number[]>) =>
		Object.fromEntries([...samples].map(([name, values]) => [name, median(values)]));
	const wallMedians = medians(wall);
	const cpuMedians = medians(cpu);
	const ratioOf = (m: Record<string, number>, a: string, b: string) =>
		(m[a] as number) / (m[b] as number);
	// Per round, contender over baseline: both ran within the same few seconds, so drift in the
	// machine's load cancels out better than in a ratio of medians.
	const paired = (a: string, b: string) => {
		const base = wall.get(b) ?? [];
		return median((wall.get(a) ?? []).map((value, i) => value / (base[i] as number)));
	};
	const ratios = Object.fromEntries(
		RATIOS.map(({ contender: a, baseline: b }) => [
			`${a} / ${b}`,
			{
				wall: ratioOf(wallMedians, a, b),
				paired: paired(a, b),
				cpu: ratioOf(cpuMedians, a, b),
			},
		]),
	);

	const { loadAverage, ...machine } = describeMachine();
	const results: OverheadResults = {
		...machine,
		loadAverageAtStart,
		loadAverageAtEnd: loadAverage,
		rounds: ROUNDS,
		requestsPerRound: PER_ROUND,
		warmup: WARMUP,
		goal: GOAL,
		sessionOwnMicroseconds: round(ownCost),
		microsecondsPerRequest: Object.fromEntries(
			[...wall].map(([name, values]) => [
				name,
				{
					median: round(wallMedians[name]),
					min: round(Math.min(...values)),
					max: round(Math.max(...values)),
					clientCpuMedian: round(cpuMedians[name]),
				},
			]),
		),
		ratios: Object.fromEntries(
			Object.entries(ratios).map(([name, value]) => [
				name,
				{
					elapsed: round(value.wall, 3),
					elapsedPaired: round(value.paired, 3),
					clientCpu: round(value.cpu, 3),
				},
			]),
		),
	};
	const dir = new URL('./results/', import.meta.url);
	await mkdir(dir, { recursive: true });
	await writeFile(new URL('overhead.json', dir), `${JSON.stringify(results, null, '\t')}\n`);
	console.log(`\n${renderMarkdown(results)}`);
	await writeReport(results);
} finally {
	api.stop();
}
