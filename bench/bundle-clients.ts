// The browser bundle of each client the other benchmarks compare, measured as bundle-size.ts
// measures ours: what an app imports to get a client that refreshes, every dependency included,
// esbuild --minify for the browser, gzip -9. A client that cannot be bundled for browsers is
// reported with the Node modules it asks for.
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

/** One client's figure; `bytes` is absent when it does not bundle for browsers. */
export interface ClientBundle {
	client: string;
	/** What the app imports, as measured. */
	entry: string;
	bytes?: { minified: number; gzip: number };
	/** Why there is no figure. */
	note?: string;
}

const CLIENTS: readonly { client: string; entry: string }[] = [
	{
		client: '@badgateway/oauth2-client',
		entry: "export { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';",
	},
	{ client: 'google-auth-library', entry: "export { OAuth2Client } from 'google-auth-library';" },
	{
		client: 'axios-auth-refresh (with axios)',
		entry:
			"export { default as axios } from 'axios'; export { default as createAuthRefreshInterceptor } from 'axios-auth-refresh';",
	},
	{ client: 'simple-oauth2', entry: "export { AuthorizationCode } from 'simple-oauth2';" },
	{
		client: "ky (its README's refresh hook is a few lines of the app's)",
		entry: "export { default } from 'ky';",
	},
];

/** How every browser bundle of the benchmarks is made: an app's entry, for browsers, minified. */
export function browserBuildOptions(entry: string, resolveDir: string) {
	return {
		stdin: { contents: entry, resolveDir, loader: 'js', sourcefile: 'app.js' },
		bundle: true,
		minify: true,
		write: false,
		metafile: true,
		format: 'esm',
		platform: 'browser',
		target: 'es2022',
		logLevel: 'silent',
	} as const satisfies esbuild.BuildOptions;
}

/** gzip -9, as size figures are usually given. */
export function gzipSize(code: Uint8Array | string): number {
	return gzipSync(code, { level: 9 }).length;
}

/** Bundles `entry` from `resolveDir` for the browser: minified and gzipped sizes in bytes. */
export async function browserBundleSize(
	entry: string,
	resolveDir: string,
): Promise<{ minified: number; gzip: number }> {
	const result = await esbuild.build(browserBuildOptions(entry, resolveDir));
	const code = result.outputFiles[0]?.contents ?? new Uint8Array();
	return { minified: code.length, gzip: gzipSize(code) };
}

/** Every compared client's figure, in the order of the other benchmarks. */
export async function clientBundles(resolveDir: string): Promise<ClientBundle[]> {
	const rows: ClientBundle[] = [];
	for (const { client, entry } of CLIENTS) {
		try {
			rows.push({ client, entry, bytes: await browserBundleSize(entry, resolveDir) });
		} catch (error) {
			rows.push({ client, entry, note: whyNot(error) });
		}
	}
	return rows;
}

function whyNot(error: unknown): string {
	const failures = (error as { errors?: { text: string }[] }).errors ?? [];
	const modules = [
		...new Set(
			failures
				.map(({ text }) => /^Could not resolve "([^"]+)"/.exec(text)?.[1])
				.filter((name): name is string => name !== undefined),
		),
	];
	if (modules.length === 0) return `does not bundle for browsers (${failures.length} errors)`;
	const shown = modules.slice(0, 4).join(', ');
	return `Node only: needs ${shown}${modules.length > 4 ? ` and ${modules.length - 4} more` : ''}`;
}
