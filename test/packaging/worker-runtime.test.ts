/**
 * The built package in a Worker-like runtime: `dist/`, bundled by name as a worker's bundler would
 * (esbuild, `platform: 'browser'`, the `worker` condition), runs in a `node:vm` context that holds
 * only web globals (no `process`, `require`, `Buffer` or `global`), and refreshes an expired token
 * against a real token server on 127.0.0.1: one refresh for every request that found it expired.
 */
import { createContext, runInContext } from 'node:vm';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { ensureBuilt, pkg, root } from './package-under-test.js';

const REQUESTS = 20;

/** What the bundle exposes on the context's global object. */
const WORKER_SCRIPT = `
import { MemoryStore, OAuth2Session } from '${pkg.name}';

globalThis.smoke = async ({ origin, tokenEndpoint, token, requests }) => {
	const session = new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint,
		allowedOrigins: [origin],
		store: new MemoryStore(),
		token,
	});
	try {
		const responses = await Promise.all(
			Array.from({ length: requests }, (_, i) => session.fetch(origin + '/api/worker/' + i)),
		);
		return await Promise.all(responses.map(async (response) => response.status + ' ' + (await response.json()).path));
	} finally {
		await session.close();
	}
};
`;

/**
 * The web platform a worker offers, taken from this Node: what the library may use. Timers answer
 * numbers, as a worker's do, so code that expects Node's `Timeout` object fails here.
 */
function workerGlobals(consoleCalls: string[]): Record<string, unknown> {
	const numbered =
		(schedule: (callback: () => void, ms?: number) => unknown) =>
		(callback: () => void, ms?: number) =>
			Number(schedule(callback, ms));
	return {
		fetch,
		Request,
		Response,
		Headers,
		FormData,
		Blob,
		URL,
		URLSearchParams,
		AbortController,
		AbortSignal,
		DOMException,
		Event,
		EventTarget,
		ReadableStream,
		TextEncoder,
		TextDecoder,
		crypto,
		structuredClone,
		queueMicrotask,
		performance,
		atob,
		btoa,
		setTimeout: numbered(setTimeout),
		clearTimeout,
		setInterval: numbered(setInterval),
		clearInterval,
		console: new Proxy(
			{},
			{
				get:
					(_, method) =>
					(...args: unknown[]) =>
						consoleCalls.push(`${String(method)} ${args.join(' ')}`),
			},
		),
	};
}

let server: OAuthTestServer;
let bundle: string;

beforeAll(async () => {
	ensureBuilt();
	server = await startOAuthServer();
	const result = await esbuild.build({
		stdin: { contents: WORKER_SCRIPT, resolveDir: root, sourcefile: 'worker.js', loader: 'js' },
		bundle: true,
		write: false,
		format: 'iife',
		platform: 'browser',
		conditions: ['worker'],
		target: 'es2022',
		logLevel: 'silent',
	});
	bundle = result.outputFiles[0]?.text ?? '';
});

afterAll(async () => {
	await server?.close();
});

describe('the built package in a context with web globals only', () => {
	it('has no Node globals to lean on', () => {
		const context = createContext(workerGlobals([]));
		const kinds = runInContext(
			'[typeof process, typeof require, typeof Buffer, typeof global, typeof module, typeof setImmediate].join()',
			context,
		);
		expect(kinds).toBe('undefined,undefined,undefined,undefined,undefined,undefined');
	});

	it(`loads, and ${REQUESTS} requests with an expired token make one refresh and all succeed`, async () => {
		const consoleCalls: string[] = [];
		const context = createContext(workerGlobals(consoleCalls));
		runInContext(bundle, context, { filename: 'worker.js' });
		const smoke = context.smoke as (input: object) => Promise<string[]>;
		// The record says the access token expired a minute ago: the session refreshes before sending.
		const { expires_in: _, ...issued } = server.issue();
		const token = { ...issued, expires_at: Math.floor(Date.now() / 1000) - 60 };
		server.resetStats();

		const results = await smoke({
			origin: server.origin,
			tokenEndpoint: server.tokenEndpoint,
			token,
			requests: REQUESTS,
		});

		expect([...results]).toEqual(
			Array.from({ length: REQUESTS }, (_, i) => `200 /api/worker/${i}`),
		);
		expect(server.stats.refreshRequests).toBe(1);
		expect(server.stats.tokenRequests).toBe(1);
		expect(server.stats.apiRequests).toBe(REQUESTS);
		expect(server.stats.api401).toBe(0);
		expect(consoleCalls).toEqual([]);
	});
});
