// Turns the figures of `npm run bench:overhead` into its BENCHMARKS.md section and an SVG chart.
import { writeFile } from 'node:fs/promises';
import { replaceSection, runLine } from './lib/benchmarks-md.js';
import { bar, escapeXml, PALETTE, svgDocument } from './lib/svg.js';

/** A second raw fetch contender, the same code: its ratio to the first is the run's noise. */
export const CONTROL = 'raw fetch (control)';

/** Each contender over its baseline; only the first two carry the issue's 1.05x goal. */
export const RATIOS = [
	{ contender: 'session.fetch', baseline: 'raw fetch', goal: true },
	{ contender: 'createKy', baseline: 'plain ky', goal: true },
	{ contender: 'ky + oauth2Hooks', baseline: 'plain ky', goal: false },
	{ contender: 'plain ky + no-op afterResponse', baseline: 'plain ky', goal: false },
	// The other clients (bench/overhead-clients.ts), each over the fetch or HTTP call it makes.
	{ contender: '@badgateway/oauth2-client', baseline: 'raw fetch', goal: false },
	{ contender: 'google-auth-library', baseline: 'raw fetch', goal: false },
	{ contender: 'axios-auth-refresh', baseline: 'raw fetch', goal: false },
	{ contender: 'simple-oauth2', baseline: 'raw fetch', goal: false },
	{ contender: 'ky (README refresh hook)', baseline: 'raw fetch', goal: false },
	{ contender: CONTROL, baseline: 'raw fetch', goal: false },
] as const;

export interface OverheadResults {
	date: string;
	node: string;
	cpu: string;
	cores: number;
	/** 1, 5 and 15 minute load averages; absent from runs made before they were recorded. */
	loadAverageAtStart?: string;
	loadAverageAtEnd?: string;
	/** Requests per contender, sent one contender at a time in turn. */
	requests: number;
	warmup: number;
	goal: number;
	/** `session.fetch` over a fetch that answers at once, minus that fetch alone: µs per request. */
	sessionOwnMicroseconds: number;
	ownBlocks: number;
	ownRequestsPerBlock: number;
	/** Elapsed µs of single requests (quartiles), and the client's CPU µs per request (mean). */
	microsecondsPerRequest: Record<
		string,
		{ median: number; lowerQuartile: number; upperQuartile: number; clientCpuMean: number }
	>;
	/** Contender over baseline: of the medians, of the lower quartiles, of the CPU means. */
	ratios: Record<string, { elapsed: number; elapsedLowerQuartile: number; clientCpu: number }>;
}

function ratioName(ratio: (typeof RATIOS)[number]): string {
	return `${ratio.contender} / ${ratio.baseline}`;
}

export function renderMarkdown(results: OverheadResults): string {
	const load =
		results.loadAverageAtStart === undefined
			? 'load average not recorded in this run (see the caveat below)'
			: `load average ${results.loadAverageAtStart} at the start, ${results.loadAverageAtEnd} at the end (1 / 5 / 15 min)`;
	const lines = [
		`${runLine(results)}; ${load}; ${results.requests} requests per contender after ${results.warmup} warm-up requests, sent one contender at a time in turn (in a new random order each time) and timed one by one. Figures: [\`bench/results/overhead.json\`](bench/results/overhead.json).`,
		'',
		'![µs per request, per contender](bench/results/overhead.svg)',
		'',
		'| contender | median µs/request | lower quartile | upper quartile | client CPU µs/request (mean) |',
		'| --- | ---: | ---: | ---: | ---: |',
	];
	for (const [name, t] of Object.entries(results.microsecondsPerRequest)) {
		const cells = [t.median, t.lowerQuartile, t.upperQuartile, t.clientCpuMean].map((v) =>
			v.toFixed(1),
		);
		lines.push(`| ${name} | ${cells.join(' | ')} |`);
	}
	lines.push(
		'',
		`| ratio | elapsed, of medians | elapsed, of lower quartiles | client CPU, of means | goal ≤ ${results.goal}x (elapsed, of medians) |`,
		'| --- | ---: | ---: | ---: | --- |',
	);
	for (const ratio of RATIOS) {
		const value = results.ratios[ratioName(ratio)];
		if (value === undefined) continue;
		const cells = [value.elapsed, value.elapsedLowerQuartile, value.clientCpu].map(
			(v) => `${v.toFixed(3)}x`,
		);
		const verdict = value.elapsed <= results.goal ? 'met' : 'missed';
		const judged =
			ratio.contender === CONTROL
				? "(control: the same code twice, this run's noise)"
				: ratio.goal
					? verdict
					: `(${verdict}; not a goal)`;
		lines.push(`| ${ratioName(ratio)} | ${cells.join(' | ')} | ${judged} |`);
	}
	lines.push(
		'',
		`The session's own work, apart from the network: over a \`fetch\` that answers at once, \`session.fetch\` takes **${results.sessionOwnMicroseconds.toFixed(1)} µs** per request more than that \`fetch\` called directly (medians of ${results.ownBlocks} blocks of ${results.ownRequestsPerBlock} requests each, the two alternating): the origin check, the token, the header and the redirect handling.`,
	);
	return lines.join('\n');
}

/**
 * One horizontal bar per contender (median µs per request, min–max as a whisker), grouped under
 * the baseline it wraps, each labelled with its ratio; a dashed line marks the goal.
 */
export function renderChart(results: OverheadResults): string {
	const groups = [...new Set(RATIOS.map((r) => r.baseline))].map((baseline) => ({
		baseline,
		members: [baseline, ...RATIOS.filter((r) => r.baseline === baseline).map((r) => r.contender)],
	}));
	const left = 210;
	const top = 52;
	const barHeight = 18;
	const rowGap = 8;
	const groupGap = 22;
	const plotWidth = 430;
	const width = left + plotWidth + 120;
	const rows = groups.reduce((n, g) => n + g.members.length, 0);
	const plotHeight = rows * (barHeight + rowGap) + (groups.length - 1) * groupGap;
	const height = top + plotHeight + 44;
	const timings = results.microsecondsPerRequest;
	const max = Math.max(1, ...Object.values(timings).map((t) => t.upperQuartile));
	const scale = Math.ceil(max / 100) * 100;
	const xOf = (us: number) => Math.round(10 * (left + (plotWidth * us) / scale)) / 10;
	const parts: string[] = [];
	for (let tick = 0; tick <= 4; tick++) {
		const us = (scale * tick) / 4;
		parts.push(
			`<line x1="${xOf(us)}" y1="${top - 6}" x2="${xOf(us)}" y2="${top + plotHeight}" stroke="#dddddd"/>`,
			`<text x="${xOf(us)}" y="${top + plotHeight + 16}" text-anchor="middle" fill="#555555">${Math.round(us)}</text>`,
		);
	}
	parts.push(
		`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 34}" text-anchor="middle">µs per request, median (whisker: lower to upper quartile)</text>`,
	);
	let y = top;
	groups.forEach((group, g) => {
		const base = timings[group.baseline]?.median;
		const groupTop = y;
		for (const name of group.members) {
			const t = timings[name];
			if (t === undefined) continue;
			const isBaseline = name === group.baseline;
			const ratio =
				base === undefined || isBaseline ? 'baseline' : `${(t.median / base).toFixed(2)}x`;
			const mid = y + barHeight / 2;
			parts.push(
				`<text x="${left - 8}" y="${mid + 4}" text-anchor="end"${isBaseline ? ' font-weight="bold"' : ''}>${escapeXml(name)}</text>`,
				bar(
					{ x: left, y, width: Math.round(xOf(t.median) - left), height: barHeight },
					isBaseline ? '#7f8c8d' : (PALETTE[g] as string),
					`${name}: median ${t.median.toFixed(1)} µs, quartiles ${t.lowerQuartile.toFixed(1)} to ${t.upperQuartile.toFixed(1)}, client CPU ${t.clientCpuMean.toFixed(1)} µs`,
				),
				`<line x1="${xOf(t.lowerQuartile)}" y1="${mid}" x2="${xOf(t.upperQuartile)}" y2="${mid}" stroke="#333333"/>`,
				`<text x="${xOf(t.upperQuartile) + 6}" y="${mid + 4}">${t.median.toFixed(0)} µs · ${ratio}</text>`,
			);
			y += barHeight + rowGap;
		}
		// Drawn over the bars, so that a bar past the goal shows where the goal was.
		if (base !== undefined) {
			const goalX = xOf(base * results.goal);
			parts.push(
				`<line x1="${goalX}" y1="${groupTop - 4}" x2="${goalX}" y2="${y - rowGap + 4}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="4 3"><title>${escapeXml(`goal: ${results.goal}x ${group.baseline}`)}</title></line>`,
			);
		}
		y += groupGap;
	});
	return svgDocument(
		{ width, height },
		'Microseconds per request, per contender, against raw fetch and plain ky',
		{
			x: 12,
			text: `Per-request overhead (goal ≤ ${results.goal}x, dashed): ${results.date.slice(0, 10)}, Node ${results.node}, ${results.cores} × ${results.cpu}`,
		},
		parts,
	);
}

/** Writes the chart next to the JSON and the section into BENCHMARKS.md. */
export async function writeReport(results: OverheadResults): Promise<void> {
	await writeFile(new URL('./results/overhead.svg', import.meta.url), renderChart(results));
	await replaceSection('overhead', renderMarkdown(results));
}
