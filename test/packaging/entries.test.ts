/**
 * Each exports entry, imported by name from the built package, loads in its runtime and is refused in
 * the other: Node imports all of them; a browser bundle (esbuild, `platform: 'browser'`) takes the
 * runtime-neutral ones without any Node built-in, and refuses the Node-only ones because their
 * `exports` entry maps `browser` to null.
 */
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Consumer, createConsumer, ensureBuilt, entries, pkg } from './package-under-test.js';

/** One export each entry must have, as a consumer would import it. */
const expectedExports: Record<string, readonly string[]> = {
	'.': ['OAuth2Session', 'MemoryStore', 'clientCredentialsGrant', 'OAuth2Error'],
	'./ky': ['createKy', 'oauth2Hooks'],
	'./storage/file': ['FileStore'],
	'./storage/redis': ['RedisStore'],
	'./storage/postgres': ['PostgresStore'],
	'./storage/indexeddb': ['IndexedDBStore'],
};

const nodeBuiltins = new Set(builtinModules);

let consumer: Consumer;

beforeAll(async () => {
	ensureBuilt();
	consumer = await createConsumer();
});

afterAll(async () => {
	await consumer?.remove();
});

describe(`Node ${process.version}`, () => {
	it('has a check for every exports entry', () => {
		expect(entries.map((entry) => entry.subpath).sort()).toEqual(
			Object.keys(expectedExports).sort(),
		);
	});

	it('imports every exports entry by name, in a project that depends on the package', () => {
		// A child process of this very Node binary, outside vitest's resolver: Node's own ESM loader.
		const script = `
			const result = {};
			for (const specifier of ${JSON.stringify(entries.map((entry) => entry.specifier))}) {
				result[specifier] = Object.keys(await import(specifier)).sort();
			}
			const manifest = await import('${pkg.name}/package.json', { with: { type: 'json' } });
			result['${pkg.name}/package.json'] = [manifest.default.name];
			try {
				await import('${pkg.name}/dist/index.js');
				result.deepImport = 'allowed';
			} catch (error) {
				result.deepImport = error.code;
			}
			process.stdout.write(JSON.stringify(result));
		`;
		const out = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
			cwd: consumer.dir,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const imported = JSON.parse(out) as Record<string, string[] | string>;
		for (const entry of entries) {
			expect(imported[entry.specifier], entry.specifier).toEqual(
				expect.arrayContaining([...(expectedExports[entry.subpath] ?? [])]),
			);
		}
		expect(imported[`${pkg.name}/package.json`]).toEqual([pkg.name]);
		// Only what `exports` lists is reachable.
		expect(imported.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
	});
});

describe('browser bundle (esbuild, platform browser)', () => {
	function bundle(
		specifier: string,
	): Promise<esbuild.BuildResult<{ metafile: true; write: false }>> {
		return esbuild.build({
			stdin: { contents: `export * from '${specifier}';`, resolveDir: consumer.dir, loader: 'js' },
			bundle: true,
			write: false,
			metafile: true,
			platform: 'browser',
			conditions: ['browser'],
			format: 'esm',
			logLevel: 'silent',
		});
	}

	const browserEntries = entries.filter((entry) => !entry.nodeOnly);
	const nodeOnlyEntries = entries.filter((entry) => entry.nodeOnly);

	it('covers the runtime-neutral and the Node-only entries', () => {
		expect(browserEntries.map((entry) => entry.subpath)).toEqual([
			'.',
			'./ky',
			'./storage/indexeddb',
		]);
		expect(nodeOnlyEntries.map((entry) => entry.subpath)).toEqual([
			'./storage/file',
			'./storage/redis',
			'./storage/postgres',
		]);
	});

	it.each(browserEntries.map((entry) => [entry.specifier]))(
		'bundles %s without any Node built-in',
		async (specifier) => {
			const result = await bundle(specifier);
			const imports = Object.values(result.metafile.inputs).flatMap((input) =>
				input.imports.map((imported) => imported.path),
			);
			const nodeImports = imports.filter(
				(path) => path.startsWith('node:') || nodeBuiltins.has(path.split('/')[0] ?? path),
			);
			expect(nodeImports).toEqual([]);
			const outputs = Object.values(result.metafile.outputs);
			expect(outputs.flatMap((output) => output.imports)).toEqual([]);
			// The package was resolved through its exports map, to the built files.
			expect(Object.keys(result.metafile.inputs).some((input) => input.includes('dist/'))).toBe(
				true,
			);
		},
	);

	it.each(nodeOnlyEntries.map((entry) => [entry.specifier, entry.subpath]))(
		'refuses %s: its exports entry maps browser to null',
		async (specifier, subpath) => {
			const failure = await bundle(specifier).then(
				() => undefined,
				(error: unknown) => error as esbuild.BuildFailure,
			);
			expect(failure?.errors).toHaveLength(1);
			const [error] = failure?.errors ?? [];
			expect(error?.text).toBe(`Could not resolve "${specifier}"`);
			expect(error?.notes[0]?.text).toContain(
				`The path "${subpath}" cannot be imported from package "${pkg.name}" because it was explicitly disabled by the package author`,
			);
		},
	);
});
