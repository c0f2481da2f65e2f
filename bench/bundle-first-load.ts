// The first load as Vite 8 builds it: rolldown, minified, chunks split; the entry chunk and the
// chunks it imports statically. Shared by bundle-size.ts (the figure CI enforces, from `dist/`) and
// test/packaging/first-load.test.ts (which modules a page that only calls APIs downloads, from
// `src/`, so the test sees the code as it is now rather than the last build).
import { resolve } from 'node:path';
import { rolldown } from 'rolldown';
import { gzipSize } from './bundle-clients.js';

/** What an SPA writes to get a session with its IndexedDB store. */
export const SPA_ENTRY = [
	"export { OAuth2Session } from 'oauth2-session';",
	"export { IndexedDBStore } from 'oauth2-session/storage/indexeddb';",
].join('\n');

/** The first load and what is left to load on first use. */
export interface RolldownFirstLoad {
	/** Minified bytes of the first load. */
	bytes: number;
	/** The same, gzip -9, the chunks gzipped as one. */
	gzipBytes: number;
	/** How many chunks load only on first use (`import()`). */
	lazyChunks: number;
	/** Their gzipped bytes, each gzipped alone. */
	lazyGzipBytes: number;
	/** The modules in the first load, as paths relative to `root` (`dist/session/send.js`). */
	modules: string[];
	/**
	 * What a page whose session has the `dpop` option loads before its first request: the first
	 * load and the chunks a DPoP session imports on construction (`session/dpop`), gzipped as one.
	 */
	dpopSession: { bytes: number; gzipBytes: number } | undefined;
}

/**
 * Builds `entry`, a virtual module at `root`, so `oauth2-session` resolves through the package's
 * exports map to `dist/` as it does for a consumer. With `fromSource`, it resolves to `src/` instead
 * (each `.js` import to its `.ts` file).
 */
export async function rolldownFirstLoad(
	root: string,
	entry = SPA_ENTRY,
	{ fromSource = false } = {},
): Promise<RolldownFirstLoad> {
	const id = resolve(root, 'app.js');
	const bundle = await rolldown({
		input: id,
		platform: 'browser',
		logLevel: 'silent',
		...(fromSource
			? {
					resolve: {
						alias: {
							'oauth2-session/storage/indexeddb': resolve(root, 'src/storage/indexeddb.ts'),
							'oauth2-session': resolve(root, 'src/index.ts'),
						},
						extensionAlias: { '.js': ['.ts', '.js'] },
					},
				}
			: {}),
		plugins: [
			{
				name: 'spa-entry',
				resolveId: (source) => (source === id ? id : undefined),
				load: (loaded) => (loaded === id ? entry : undefined),
			},
		],
	});
	const { output } = await bundle.generate({ format: 'esm', minify: true });
	await bundle.close();
	const chunks = new Map(
		output.flatMap((item) => (item.type === 'chunk' ? [[item.fileName, item] as const] : [])),
	);
	// A chunk and every chunk it imports statically, added to `loaded`.
	const load = (loaded: Set<string>, queue: string[]): Set<string> => {
		for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
			if (loaded.has(name)) continue;
			loaded.add(name);
			queue.push(...(chunks.get(name)?.imports ?? []));
		}
		return loaded;
	};
	const chunksOf = (names: Set<string>) =>
		[...names].flatMap((name) => {
			const chunk = chunks.get(name);
			return chunk === undefined ? [] : [chunk];
		});
	const loaded = load(
		new Set(),
		[...chunks.values()].filter((chunk) => chunk.isEntry).map((c) => c.fileName),
	);
	const first = chunksOf(loaded);
	const code = first.map((chunk) => chunk.code).join('\n');
	const dpopChunk = [...chunks.values()].find((chunk) =>
		Object.keys(chunk.modules).some((module) => /\/session\/dpop\.[jt]s$/.test(module)),
	);
	const dpopCode =
		dpopChunk === undefined
			? undefined
			: chunksOf(load(new Set(loaded), [dpopChunk.fileName]))
					.map((chunk) => chunk.code)
					.join('\n');
	const lazy = [...chunks.values()].filter((chunk) => !loaded.has(chunk.fileName));
	const modules = first
		.flatMap((chunk) => Object.keys(chunk.modules))
		.filter((module) => module !== id)
		.map((module) => (module.startsWith(root) ? module.slice(root.length) : module))
		.map((module) => module.replace(/^\//, ''));
	return {
		bytes: code.length,
		gzipBytes: gzipSize(code),
		lazyChunks: lazy.length,
		lazyGzipBytes: lazy.reduce((sum, chunk) => sum + gzipSize(chunk.code), 0),
		modules,
		dpopSession:
			dpopCode === undefined
				? undefined
				: { bytes: dpopCode.length, gzipBytes: gzipSize(dpopCode) },
	};
}
