/**
 * Headless Chromium (Debian's, from apt) driven by playwright-core, against one origin on
 * 127.0.0.1 that serves a test page, the library bundled for the browser, and the OAuth test
 * server's endpoints behind a proxy (same origin, so no CORS in the way).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startServer, type TestServer } from './http-server.js';
import type { OAuthTestServer } from './oauth-server.js';

/** How Chromium runs here: as root, no GPU, and no traffic of its own to a closed network. */
export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

const PAGE =
	'<!doctype html><meta charset="utf-8"><title>oauth2-session</title><script src="harness.js"></script>';

export interface BrowserHarness {
	/** The page's origin, also the OAuth server's through the proxy. */
	readonly origin: string;
	readonly context: BrowserContext;
	/**
	 * Opens a page of the origin with the harness loaded. `webLocks: false` deletes
	 * `navigator.locks` before any script of the page runs.
	 */
	open(options?: { webLocks?: boolean }): Promise<Page>;
	/** Routes the store notifications of subscription `id`, from any page, to `listener`. */
	route(id: number, listener: ((record: unknown) => void) | undefined): void;
	/** Closes the browser and the page server (not the OAuth server). */
	close(): Promise<void>;
}

/** Bundles the page-side harness and the library it imports, once. */
async function bundleHarness(): Promise<string> {
	const result = await build({
		entryPoints: [fileURLToPath(new URL('./browser-harness.ts', import.meta.url))],
		bundle: true,
		format: 'iife',
		platform: 'browser',
		target: 'chrome120',
		write: false,
		logLevel: 'silent',
	});
	return result.outputFiles[0]?.text ?? '';
}

async function proxy(
	oauth: OAuthTestServer,
	request: Parameters<Parameters<typeof startServer>[0]>[0],
	response: Parameters<Parameters<typeof startServer>[0]>[1],
): Promise<void> {
	const headers: Record<string, string> = {};
	for (const name of ['authorization', 'content-type', 'accept']) {
		const value = request.headers[name];
		if (typeof value === 'string') headers[name] = value;
	}
	const upstream = await fetch(`${oauth.origin}${request.url ?? '/'}`, {
		method: request.method ?? 'GET',
		headers,
		...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: request.body }),
		redirect: 'manual',
	});
	const answer: Record<string, string> = {};
	for (const name of ['content-type', 'www-authenticate', 'location', 'retry-after']) {
		const value = upstream.headers.get(name);
		if (value !== null) answer[name] = value;
	}
	response.writeHead(upstream.status, answer);
	response.end(Buffer.from(await upstream.arrayBuffer()));
}

/**
 * Starts Chromium. With `oauth`, pages live on a page server of their own that proxies the rest
 * to it. With `at` (a server's origin), pages live on that origin itself, under `/__harness/`,
 * served by the browser's request routing: nothing stands between the page and that server, so
 * what must name its URL (a DPoP proof's `htu`) names the server's own.
 */
export async function startBrowserHarness(
	options: { executablePath: string } & ({ oauth: OAuthTestServer } | { at: string }),
): Promise<BrowserHarness> {
	const script = await bundleHarness();
	if ('at' in options) return launch(options.executablePath, options.at, '/__harness/', script);
	const { oauth } = options;
	const server: TestServer = await startServer(async (request, response) => {
		const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
		if (path === '/') {
			response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
			response.end(PAGE);
		} else if (path === '/harness.js') {
			response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
			response.end(script);
		} else if (path === '/favicon.ico') {
			response.writeHead(204);
			response.end();
		} else {
			await proxy(oauth, request, response);
		}
	});
	return launch(options.executablePath, server.origin, '/', undefined, server);
}

async function launch(
	executablePath: string,
	origin: string,
	path: string,
	routed: string | undefined,
	server?: TestServer,
): Promise<BrowserHarness> {
	let browser: Browser | undefined;
	try {
		browser = await chromium.launch({
			executablePath,
			args: CHROMIUM_ARGS,
		});
		// One context: its pages are tabs of one profile, sharing IndexedDB, locks and channels.
		const context = await browser.newContext();
		if (routed !== undefined) {
			const script = routed;
			await context.route(`${origin}${path}**`, (route) => {
				const page = new URL(route.request().url()).pathname === path;
				return route.fulfill({
					status: 200,
					contentType: page ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8',
					body: page ? PAGE : script,
				});
			});
		}
		const notify = new Map<number, (record: unknown) => void>();
		await context.exposeBinding('oauth2SessionNotify', (_source, id: number, record: unknown) => {
			notify.get(id)?.(record);
		});
		const opened = browser;
		return {
			origin,
			context,
			async open({ webLocks = true } = {}) {
				const page = await context.newPage();
				if (!webLocks) {
					await page.addInitScript(() => {
						delete (Navigator.prototype as { locks?: unknown }).locks;
					});
				}
				await page.goto(`${origin}${path}`);
				await page.waitForFunction(() => window.harness !== undefined);
				return page;
			},
			route(id, listener) {
				if (listener === undefined) notify.delete(id);
				else notify.set(id, listener);
			},
			async close() {
				await opened.close();
				await server?.close();
			},
		};
	} catch (error) {
		await browser?.close();
		await server?.close();
		throw error;
	}
}
