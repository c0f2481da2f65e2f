// Turns the figures of `npm run bench:amplification` into the BENCHMARKS.md table and an SVG chart
// (written by hand: no charting dependency).
import { bar as barRect, escapeXml, legend, PALETTE, svgDocument } from './lib/svg.js';

export const SCENARIOS = [
	{
		id: 'expired',
		title: '100 at once, token expired',
		label: 'expired, 100 at once',
		short: 'expired',
	},
	{
		id: 'revoked',
		title: '100 at once, token revoked',
		label: 'revoked, 100 at once',
		short: 'revoked',
	},
	{
		id: 'fleet',
		title: '4 processes × 25, shared expired token',
		label: '4 processes × 25, expired',
		short: 'fleet 4×25',
	},
] as const;

export type ScenarioId = (typeof SCENARIOS)[number]['id'];

export interface RunResult {
	/** Requests the token endpoint received, from the seed to the end of the run. */
	tokenRequests: number;
	/** Requests that ended in 200. */
	succeeded: number;
	total: number;
	/** Requests the API received, retries included. */
	apiRequests: number;
	ms: number;
	/** Lines the client printed with console.warn / console.error (silenced during the run). */
	clientWarnings: number;
	/** Final status of each request, or what the client threw. */
	outcomes: Record<string, number>;
}

export interface AmplificationResults {
	date: string;
	node: string;
	cpu: string;
	cores: number;
	/** 1, 5 and 15 minute load averages when the run ended. */
	loadAverageAtEnd: string;
	server: Record<string, unknown>;
	requests: number;
	processes: number;
	clients: { name: string; how: string; sharing: string }[];
	results: Record<string, Record<ScenarioId, RunResult>>;
}

export function renderMarkdown(report: AmplificationResults): string {
	const head = SCENARIOS.flatMap((s) => [`${s.short}: token requests`, `${s.short}: succeeded`]);
	const lines = [
		`Run ${report.date.slice(0, 10)}, Node ${report.node}, ${report.cores} cores × ${report.cpu}; ` +
			`token endpoint latency ${String(report.server.tokenLatencyMs)} ms, rotating refresh tokens, ` +
			'a reused one refused with `invalid_grant`; load average at the end ' +
			`${report.loadAverageAtEnd} (1 / 5 / 15 min).`,
		'',
		`| client | ${head.join(' | ')} |`,
		`| --- | ${head.map(() => '---:').join(' | ')} |`,
	];
	for (const { name } of report.clients) {
		const row = report.results[name];
		if (row === undefined) continue;
		const cells = SCENARIOS.flatMap((s) => [
			String(row[s.id].tokenRequests),
			`${row[s.id].succeeded}/${row[s.id].total}`,
		]);
		lines.push(`| ${name} | ${cells.join(' | ')} |`);
	}
	lines.push('', 'What the failed requests ended with:', '');
	for (const { name } of report.clients) {
		const row = report.results[name];
		if (row === undefined) continue;
		const failures = SCENARIOS.map((s) => {
			const other = Object.entries(row[s.id].outcomes)
				.filter(([outcome]) => outcome !== '200')
				.map(
					([outcome, count]) =>
						`${count} × ${/^\d+$/.test(outcome) ? `HTTP ${outcome}` : `\`${outcome}\``}`,
				);
			return other.length === 0 ? undefined : `${s.short}: ${other.join(', ')}`;
		}).filter((text) => text !== undefined);
		if (failures.length > 0) lines.push(`- ${name}: ${failures.join('; ')}`);
	}
	lines.push('', '### How each client was driven', '');
	for (const client of report.clients) {
		lines.push(`- **${client.name}**: ${client.how} Fleet: ${client.sharing}`);
	}
	return lines.join('\n');
}

/** Grouped bars: a row of token requests and a row of success rates, a group per scenario. */
export function renderChart(report: AmplificationResults): string {
	const clients = report.clients.map((c) => c.name).filter((name) => name in report.results);
	const bar = 26;
	const gap = 4;
	const groupGap = 56;
	const left = 56;
	const top = 72;
	const plotHeight = 170;
	const rowGap = 90;
	const groupWidth = clients.length * (bar + gap) - gap;
	const width = left + SCENARIOS.length * (groupWidth + groupGap) + 8;
	const legendTop = top + 2 * (plotHeight + rowGap) - 40;
	const height = legendTop + Math.ceil(clients.length / 3) * 20 + 16;
	const maxTokens = Math.max(
		1,
		...clients.flatMap((name) =>
			SCENARIOS.map((s) => report.results[name]?.[s.id].tokenRequests ?? 0),
		),
	);
	const tokenScale = Math.ceil(maxTokens / 20) * 20;
	const rows = [
		{
			title: 'Token requests (goal: 1)',
			max: tokenScale,
			value: (r: RunResult) => r.tokenRequests,
			label: (r: RunResult) => String(r.tokenRequests),
		},
		{
			title: 'Requests that succeeded (%)',
			max: 100,
			value: (r: RunResult) => (100 * r.succeeded) / r.total,
			label: (r: RunResult) => String(Math.round((100 * r.succeeded) / r.total)),
		},
	];
	const parts: string[] = [];
	rows.forEach((row, rowIndex) => {
		const y0 = top + rowIndex * (plotHeight + rowGap);
		const base = y0 + plotHeight;
		parts.push(
			`<text x="${left}" y="${y0 - 22}" font-size="12" font-weight="bold">${row.title}</text>`,
		);
		for (let tick = 0; tick <= 4; tick++) {
			const value = (row.max * tick) / 4;
			const y = base - (plotHeight * tick) / 4;
			parts.push(
				`<line x1="${left - 4}" y1="${y}" x2="${width - 8}" y2="${y}" stroke="#dddddd"/>`,
				`<text x="${left - 8}" y="${y + 4}" text-anchor="end" fill="#555555">${Math.round(value)}</text>`,
			);
		}
		SCENARIOS.forEach((scenario, s) => {
			const x0 = left + 8 + s * (groupWidth + groupGap);
			clients.forEach((name, c) => {
				const result = report.results[name]?.[scenario.id];
				if (result === undefined) return;
				const h = Math.max(1, (plotHeight * Math.min(row.value(result), row.max)) / row.max);
				const x = x0 + c * (bar + gap);
				parts.push(
					barRect(
						{ x, y: base - h, width: bar, height: h },
						PALETTE[c % PALETTE.length] as string,
						`${name}, ${scenario.title}: ${result.tokenRequests} token requests, ${result.succeeded}/${result.total} succeeded`,
					),
					`<text x="${x + bar / 2}" y="${(base - h - 3).toFixed(1)}" text-anchor="middle" font-size="10">${row.label(result)}</text>`,
				);
			});
			parts.push(
				`<text x="${x0 + groupWidth / 2}" y="${base + 16}" text-anchor="middle">${escapeXml(scenario.label)}</text>`,
			);
		});
	});
	parts.push(
		...legend(
			clients.map((name, c) => ({ name, color: PALETTE[c % PALETTE.length] as string })),
			{ left, top: legendTop, width: width - left, columns: 3 },
		),
	);
	return svgDocument(
		{ width, height },
		'Token requests and requests that succeeded, per client and scenario',
		{
			x: left,
			text: `Refresh amplification: ${report.date.slice(0, 10)}, Node ${report.node}, ${report.cores} × ${report.cpu}`,
		},
		parts,
	);
}
