// Turns bench/results/bundle.json (written by bundle-size.ts) into its BENCHMARKS.md section.
// It reads the JSON back rather than taking figures from the measuring script, so the measurement
// and how it is shown can change apart.
import { readFile } from 'node:fs/promises';
import type { ClientBundle } from './bundle-clients.js';
import { replaceSection } from './lib/benchmarks-md.js';

interface FirstLoad {
	bytes: number;
	gzipBytes: number;
	lazyChunks: number;
	lazyGzipBytes: number;
	/** What a DPoP session loads before its first request (absent from older runs). */
	dpopSession?: { bytes: number; gzipBytes: number } | undefined;
}

interface BundleResults {
	date: string;
	esbuild: string;
	minifiedBytes: number;
	gzipBytes: number;
	ownCode: { minifiedBytes: number; gzipBytes: number };
	firstLoad: FirstLoad;
	/** esbuild's split first load from the session's own modules, not the index (absent from older runs). */
	firstLoadWithoutIndex?: FirstLoad & { entry: string };
	/** The rolldown version that measured `viteFirstLoad` (absent from older runs). */
	rolldown?: string;
	/** The first load as Vite 8 (rolldown) builds it: the figure the limit applies to. */
	viteFirstLoad?: FirstLoad;
	/** The decided budget for the first load (absent from older runs). */
	budgetGzipBytes?: number;
	goalGzipBytes: number;
	limitGzipBytes: number;
	withinLimit: boolean;
	breakdown: { module: string; minifiedBytes: number; gzipBytes?: number }[];
	/** The whole bundle, gzipped, with one part of the package left out (absent from older runs). */
	levers?: { lever: string; gzipBytes: number }[];
	clients: ClientBundle[];
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

export function renderMarkdown(results: BundleResults): string {
	const dependencies = results.breakdown.filter((row) => row.gzipBytes !== undefined);
	const own = results.breakdown.filter((row) => row.gzipBytes === undefined);
	const budgeted = results.viteFirstLoad ?? results.firstLoad;
	const lines = [
		`Run ${results.date.slice(0, 10)} ${results.date.slice(11, 16)} UTC, esbuild ${results.esbuild} (\`--minify\`, browser, ES2022)${results.rolldown === undefined ? '' : ` and rolldown ${results.rolldown} (Vite 8's bundler, minified, chunks split)`}, gzip -9; 1 kB = 1000 bytes. Figures: [\`bench/results/bundle.json\`](bench/results/bundle.json).`,
		'',
		"The budget is the first load: what a page downloads before it signs in, logs out, reads an error answer or retries. CI enforces it on rolldown's figure. esbuild puts more in its first load, because it splits by file, not by use: a file the entry reaches through any static `import` or `export ... from` is in the first load as soon as any chunk uses it, and the package index re-exports the sign-in, revocation and error-answer functions that the lazy chunks use.",
		'',
		'| what | minified | gzipped |',
		'| --- | ---: | ---: |',
		...(results.viteFirstLoad === undefined
			? []
			: [
					`| **first load, rolldown / Vite 8** (OAuth2Session + IndexedDBStore): the rest, ${results.viteFirstLoad.lazyChunks} chunks (${kB(results.viteFirstLoad.lazyGzipBytes)} gzipped), loads on first use | ${kB(results.viteFirstLoad.bytes)} | **${kB(results.viteFirstLoad.gzipBytes)}** |`,
					...(results.viteFirstLoad.dpopSession === undefined
						? []
						: [
								`| the same with \`dpop: true\`: the first load and the DPoP chunks a DPoP session imports on construction, before its first request | ${kB(results.viteFirstLoad.dpopSession.bytes)} | ${kB(results.viteFirstLoad.dpopSession.gzipBytes)} |`,
							]),
				]),
		`| whole bundle, esbuild, one file (OAuth2Session + IndexedDBStore, every dependency included) | ${kB(results.minifiedBytes)} | ${kB(results.gzipBytes)} |`,
		`| the library's own code alone (dependencies left out) | ${kB(results.ownCode.minifiedBytes)} | ${kB(results.ownCode.gzipBytes)} |`,
		...dependencies.map(
			(row) =>
				`| dependency \`${row.module}\` (gzipped: what leaving it out saves) | ${kB(row.minifiedBytes)} | ${kB(row.gzipBytes ?? 0)} |`,
		),
		`| first load when esbuild splits chunks (\`--splitting\`): the rest, ${results.firstLoad.lazyChunks} chunks (${kB(results.firstLoad.lazyGzipBytes)} gzipped), loads on first use | ${kB(results.firstLoad.bytes)} | ${kB(results.firstLoad.gzipBytes)} |`,
		...(results.firstLoadWithoutIndex === undefined
			? []
			: [
					`| the same from the session's own modules (\`dist/session/oauth2-session.js\`, \`dist/storage/indexeddb.js\`; not an export): what the index's re-exports cost esbuild | ${kB(results.firstLoadWithoutIndex.bytes)} | ${kB(results.firstLoadWithoutIndex.gzipBytes)} |`,
				]),
		`| CI limit on the first load (\`npm run bench:bundle\` fails above it) | | ${kB(results.limitGzipBytes)}: ${results.withinLimit ? 'within' : 'OVER'} |`,
		...(results.budgetGzipBytes === undefined
			? []
			: [
					`| **budget** for the first load (decided) | | **${kB(results.budgetGzipBytes)}**: ${budgeted.gzipBytes <= results.budgetGzipBytes ? 'met' : `**not met**, over by ${kB(budgeted.gzipBytes - results.budgetGzipBytes)}`} |`,
				]),
		`| **goal** for the first load | | **${kB(results.goalGzipBytes)}**: ${budgeted.gzipBytes <= results.goalGzipBytes ? 'met' : `**not met**, over by ${kB(budgeted.gzipBytes - results.goalGzipBytes)}`} |`,
		'',
		`The library's own code by folder, minified: ${own.map((row) => `\`${row.module.replace('oauth2-session/', '')}\` ${kB(row.minifiedBytes)}`).join(', ')}.`,
		...leverLines(results),
		'',
		'The other clients, measured the same way (what an app imports to get a client that refreshes):',
		'',
		'| client | entry | minified | gzipped |',
		'| --- | --- | ---: | ---: |',
		...results.clients.map(({ client, entry, bytes, note }) =>
			bytes === undefined
				? `| ${client} | \`${entry}\` | ${note ?? ''} | |`
				: `| ${client} | \`${entry}\` | ${kB(bytes.minified)} | ${kB(bytes.gzip)} |`,
		),
	];
	return lines.join('\n');
}

/** What each part a product decision could take out weighs in the whole esbuild bundle. */
function leverLines(results: BundleResults): string[] {
	if (results.levers === undefined) return [];
	return [
		'',
		'What each part weighs: the whole esbuild bundle, gzipped, with one part of the package replaced by empty functions (an upper bound of what leaving it out saves):',
		'',
		'| left out | gzipped | saves |',
		'| --- | ---: | ---: |',
		...results.levers.map(
			({ lever, gzipBytes }) =>
				`| ${lever} | ${kB(gzipBytes)} | ${kB(results.gzipBytes - gzipBytes)} |`,
		),
	];
}

export async function writeReport(): Promise<void> {
	const json = await readFile(new URL('./results/bundle.json', import.meta.url), 'utf8');
	await replaceSection('bundle', renderMarkdown(JSON.parse(json) as BundleResults));
}
