/**
 * What `npm publish` would upload: `npm pack --dry-run --json` lists the tarball's files. Every
 * exports entry ships its JavaScript and declarations; nothing else from the repository leaks in.
 */
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, entries, root } from './package-under-test.js';

interface PackResult {
	size: number;
	unpackedSize: number;
	entryCount: number;
	files: { path: string; size: number }[];
}

/**
 * Current figures (DPoP, PAR, OAuth2Client and resource tokens in): ~440 kB packed, ~1.8 MB
 * unpacked, more than half of it source and declaration maps and the src they point to. The limits
 * leave room to grow, and catch a stray node_modules or fixture dump (tens of MB).
 */
const MAX_PACKED_BYTES = 600_000;
const MAX_UNPACKED_BYTES = 2_600_000;

let pack: PackResult;
let paths: string[];

beforeAll(() => {
	ensureBuilt();
	const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
		cwd: root,
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const [result] = JSON.parse(out) as PackResult[];
	if (result === undefined) throw new Error(`npm pack printed no result:\n${out}`);
	pack = result;
	paths = pack.files.map((file) => file.path);
});

describe('npm pack', () => {
	it.each(entries.map((entry) => [entry.subpath, entry] as const))(
		'ships the JavaScript and declarations of exports["%s"]',
		(_, entry) => {
			expect(paths).toContain(entry.js.slice(2));
			expect(paths).toContain(entry.types.slice(2));
		},
	);

	it('ships README, LICENSE, CHANGELOG and package.json', () => {
		for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']) {
			expect(paths).toContain(file);
		}
	});

	it('ships nothing but dist, src and the top-level documents', () => {
		const stray = paths.filter(
			(path) =>
				!path.startsWith('dist/') &&
				!path.startsWith('src/') &&
				!['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json'].includes(path),
		);
		expect(stray).toEqual([]);
	});

	it('ships no tests, fixtures, secrets, node_modules, benchmarks or demo', () => {
		const forbidden = [
			/(^|\/)tests?\//,
			/\.test(-d)?\.[cm]?[jt]s(\.map)?$/,
			/\.d\.test\.ts$/,
			/(^|\/)fixtures?\//,
			/(^|\/)\.env/,
			/\.(pem|key|p12|pfx|crt|jks)$/,
			/(^|\/)(id_rsa|id_ed25519)/,
			/(^|\/)\.?secrets?(\.|\/|$)/i,
			/(^|\/)node_modules\//,
			/(^|\/)(bench|demo|coverage|docs)\//,
			/\.tsbuildinfo$/,
			/\.tgz$/,
		];
		expect(paths.filter((path) => forbidden.some((pattern) => pattern.test(path)))).toEqual([]);
	});

	it('ships only TypeScript under src, the sources the declaration maps point to', () => {
		expect(paths.filter((path) => path.startsWith('src/') && !path.endsWith('.ts'))).toEqual([]);
	});

	it('stays a sane size', () => {
		expect(pack.size).toBeLessThan(MAX_PACKED_BYTES);
		expect(pack.unpackedSize).toBeLessThan(MAX_UNPACKED_BYTES);
	});
});
