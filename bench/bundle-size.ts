// What a browser app pays for the session with its IndexedDB store: every dependency included,
// minified and gzipped. Run with `npm run bench:bundle` (builds first); exits 1 above the budget.
//
// The entry is what an app writes, resolved by name through the package's exports map (esbuild
// resolves a package's own name from inside it), so it measures the built `dist/` a consumer gets.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { writeReport } from './bundle-report.js';

/** The goal: 12 kB (1 kB = 1000 bytes, as npm and size-limit count) gzipped. */
const BUDGET_GZIP_BYTES = 12_000;
const ENTRY = [
	"export { OAuth2Session } from 'oauth2-session';",
	"export { IndexedDBStore } from 'oauth2-session/storage/indexeddb';",
].join('\n');

const root = fileURLToPath(new URL('..', import.meta.url));

async function build(external: string[] = []) {
	const result = await esbuild.build({
		stdin: { contents: ENTRY, resolveDir: root, loader: 'js', sourcefile: 'app.js' },
		bundle: true,
		minify: true,
		write: false,
		metafile: true,
		format: 'esm',
		platform: 'browser',
		target: 'es2022',
		external,
		logLevel: 'silent',
	});
	const code = result.outputFiles[0]?.contents ?? new Uint8Array();
	return {
		metafile: result.metafile,
		bytes: code.length,
		gzipBytes: gzipSync(code, { level: 9 }).length,
	};
}

/** `node_modules/zod/v4/core/x.js` -> `zod`; `dist/session/send.js` -> `oauth2-session/session`. */
function owner(input: string): string {
	const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
	if (match?.[1] !== undefined) return match[1];
	const local = /(?:^|\/)dist\/(?:([^/]+)\/)?/.exec(input);
	if (local !== null) return `oauth2-session/${local[1] ?? '(top level)'}`;
	return input;
}

const full = await build();
const output = Object.values(full.metafile.outputs)[0];
const byOwner = new Map<string, number>();
for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
	if (input === 'app.js') continue;
	byOwner.set(owner(input), (byOwner.get(owner(input)) ?? 0) + bytesInOutput);
}
const dependencies = [...byOwner.keys()].filter((name) => !name.startsWith('oauth2-session/'));

// What each dependency adds to the gzipped bundle: the bundle with it, minus the bundle without it.
const breakdown = [];
for (const [name, minifiedBytes] of [...byOwner].sort((a, b) => b[1] - a[1])) {
	const gzipBytes = dependencies.includes(name)
		? full.gzipBytes - (await build([name])).gzipBytes
		: undefined;
	breakdown.push({
		module: name,
		minifiedBytes,
		...(gzipBytes === undefined ? {} : { gzipBytes }),
	});
}

// The library's own code alone: every dependency left out of the bundle.
const own = await build(dependencies);

const pass = full.gzipBytes <= BUDGET_GZIP_BYTES;
const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
console.log(`Browser entry (OAuth2Session + IndexedDBStore), esbuild --minify, gzip -9:`);
console.log(
	`  ${kB(full.bytes)} minified, ${kB(full.gzipBytes)} gzipped; budget ${kB(BUDGET_GZIP_BYTES)} gzipped: ${pass ? 'within' : 'OVER'}`,
);
console.log(
	`  the library's own code alone: ${kB(own.bytes)} minified, ${kB(own.gzipBytes)} gzipped`,
);
console.log('  minified bytes by module (gzip: what removing the dependency saves):');
for (const row of breakdown) {
	const gz = row.gzipBytes === undefined ? '' : `  (gzip ${kB(row.gzipBytes)})`;
	console.log(`    ${row.module.padEnd(34)} ${kB(row.minifiedBytes).padStart(9)}${gz}`);
}

await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(
	new URL('./results/bundle.json', import.meta.url),
	`${JSON.stringify(
		{
			date: new Date().toISOString(),
			entry: ENTRY,
			esbuild: esbuild.version,
			minifiedBytes: full.bytes,
			gzipBytes: full.gzipBytes,
			ownCode: { minifiedBytes: own.bytes, gzipBytes: own.gzipBytes },
			budgetGzipBytes: BUDGET_GZIP_BYTES,
			withinBudget: pass,
			breakdown,
		},
		null,
		'\t',
	)}\n`,
);
await writeReport();
if (!pass) process.exitCode = 1;
