// Each bench writes its own section of BENCHMARKS.md, between a pair of markers, and leaves the
// rest of the file (the prose written by hand) as it is.
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';

const file = new URL('../../BENCHMARKS.md', import.meta.url);

export function startMarker(id: string): string {
	return `<!-- ${id}:start (written by npm run bench:${id}) -->`;
}

/** Replaces what stands between the `id` markers. @throws when a marker is missing. */
export async function replaceSection(id: string, markdown: string): Promise<void> {
	const start = startMarker(id);
	const end = `<!-- ${id}:end -->`;
	const text = await readFile(file, 'utf8').catch(() => `# Benchmarks\n\n${start}\n${end}\n`);
	const from = text.indexOf(start);
	const to = text.indexOf(end);
	if (from < 0 || to < from) throw new Error(`BENCHMARKS.md lost its ${id} markers`);
	await writeFile(file, `${text.slice(0, from + start.length)}\n${markdown}\n${text.slice(to)}`);
}

/** What a figure was measured on: it matters as much as the figure on a shared machine. */
export interface Machine {
	date: string;
	node: string;
	cpu: string;
	cores: number;
	/** 1, 5 and 15 minute load averages. */
	loadAverage: string;
}

export function describeMachine(): Machine {
	return {
		date: new Date().toISOString(),
		node: process.version,
		cpu: cpus()[0]?.model ?? 'unknown',
		cores: cpus().length,
		loadAverage: loadavg()
			.map((value) => value.toFixed(2))
			.join(' / '),
	};
}

/** "Run 2026-11-24 00:30 UTC, Node v20…, 2 cores × CPU": the opening of every section. */
export function runLine(machine: Omit<Machine, 'loadAverage'>): string {
	const when = `${machine.date.slice(0, 10)} ${machine.date.slice(11, 16)} UTC`;
	return `Run ${when}, Node ${machine.node}, ${machine.cores} cores × ${machine.cpu}`;
}
