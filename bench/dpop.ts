// µs per request of a DPoP session (an ES256 proof signed for every request) beside a Bearer
// session and oauth4webapi's DPoP, on loopback. Run with `npm run bench:dpop`; the figures go to
// bench/results/dpop.json and BENCHMARKS.md's "DPoP" section.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { OAuth2Session } from '../src/session/oauth2-session.js';
import { describeMachine } from './lib/benchmarks-md.js';
import { startChildServer } from './lib/child-server.js';

/** Requests per contender, sent one contender at a time in a new random order each round. */
const REQUESTS = Number(process.env.REQUESTS ?? 5_000);
const WARMUP = Number(process.env.WARMUP ?? 500);
/** The goal: a DPoP session within 1.10x of a Bearer session. */
const GOAL = 1.1;
const TOKEN = 'bench-access-token';

interface Contender {
	name: string;
	send: () => Promise<unknown>;
}

const api = await startChildServer(
	fileURLToPath(new URL('./dpop-api-server.ts', import.meta.url)),
	[TOKEN],
);
const { origin } = api;
const url = `${origin}/api/item`;
try {
	const keyPair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
		'sign',
		'verify',
	])) as CryptoKeyPair;
	const common = { clientId: 'bench', allowedOrigins: [origin], proactiveRefresh: false };
	const bearer = new OAuth2Session({ ...common, token: { accessToken: TOKEN } });
	const dpop = new OAuth2Session({
		...common,
		token: { accessToken: TOKEN, tokenType: 'DPoP' },
		dpop: { keyPair },
	});
	await Promise.all([bearer.ready, dpop.ready]);
	const handle = oauth.DPoP({}, keyPair);
	const contenders: Contender[] = [
		{ name: 'Bearer session.fetch', send: async () => (await bearer.fetch(url)).json() },
		// The same code again: how far two identical contenders drift apart is this run's noise.
		{ name: 'Bearer session.fetch (control)', send: async () => (await bearer.fetch(url)).json() },
		{ name: 'DPoP session.fetch', send: async () => (await dpop.fetch(url)).json() },
		{
			name: 'oauth4webapi DPoP protectedResourceRequest',
			send: async () =>
				(
					await oauth.protectedResourceRequest(TOKEN, 'GET', new URL(url), undefined, undefined, {
						DPoP: handle,
						[oauth.allowInsecureRequests]: true,
					})
				).json(),
		},
	];
	for (const contender of contenders) {
		const body = (await contender.send()) as { ok?: unknown };
		if (body.ok !== true) throw new Error(`${contender.name} was not let in by the API`);
		for (let i = 0; i < WARMUP; i++) await contender.send();
	}
	const wall = new Map(contenders.map((c) => [c.name, [] as number[]]));
	const cpu = new Map(contenders.map((c) => [c.name, 0]));
	const order = [...contenders];
	for (let i = 0; i < REQUESTS; i++) {
		for (let j = order.length - 1; j > 0; j--) {
			const k = Math.floor(Math.random() * (j + 1));
			[order[j], order[k]] = [order[k] as Contender, order[j] as Contender];
		}
		for (const contender of order) {
			const cpuStart = process.cpuUsage();
			const start = process.hrtime.bigint();
			await contender.send();
			wall.get(contender.name)?.push(Number(process.hrtime.bigint() - start) / 1_000);
			const used = process.cpuUsage(cpuStart);
			cpu.set(contender.name, (cpu.get(contender.name) ?? 0) + used.user + used.system);
		}
	}
	bearer.close();
	dpop.close();
	const median = (values: readonly number[]) =>
		[...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
	const medians = Object.fromEntries([...wall].map(([name, values]) => [name, median(values)]));
	const cpuMeans = Object.fromEntries([...cpu].map(([name, total]) => [name, total / REQUESTS]));
	const ratio = (m: Record<string, number>, a: string, b: string) =>
		Number(((m[a] as number) / (m[b] as number)).toFixed(3));
	const results = {
		...describeMachine(),
		requests: REQUESTS,
		goal: GOAL,
		medianMicroseconds: Object.fromEntries(
			Object.entries(medians).map(([name, value]) => [name, Number(value.toFixed(1))]),
		),
		clientCpuMicroseconds: Object.fromEntries(
			Object.entries(cpuMeans).map(([name, value]) => [name, Number(value.toFixed(1))]),
		),
		ratios: {
			'DPoP session / Bearer session': {
				elapsed: ratio(medians, 'DPoP session.fetch', 'Bearer session.fetch'),
				clientCpu: ratio(cpuMeans, 'DPoP session.fetch', 'Bearer session.fetch'),
			},
			'Bearer control / Bearer session': {
				elapsed: ratio(medians, 'Bearer session.fetch (control)', 'Bearer session.fetch'),
				clientCpu: ratio(cpuMeans, 'Bearer session.fetch (control)', 'Bearer session.fetch'),
			},
			'DPoP session / oauth4webapi DPoP': {
				elapsed: ratio(medians, 'DPoP session.fetch', 'oauth4webapi DPoP protectedResourceRequest'),
				clientCpu: ratio(
					cpuMeans,
					'DPoP session.fetch',
					'oauth4webapi DPoP protectedResourceRequest',
				),
			},
		},
	};
	const dir = fileURLToPath(new URL('./results/', import.meta.url));
	await mkdir(dir, { recursive: true });
	await writeFile(`${dir}dpop.json`, `${JSON.stringify(results, null, '\t')}\n`);
	console.log(JSON.stringify(results, null, 2));
} finally {
	api.stop();
}
