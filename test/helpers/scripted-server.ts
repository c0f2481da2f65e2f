import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type Handler, sendJson, startServer, type TestServer } from './http-server.js';

/** A request the server saw. */
export interface Hit {
	method: string;
	/** The path and query, as sent. */
	url: string;
	headers: IncomingHttpHeaders;
	body: string;
}

/** A real server on 127.0.0.1 whose answers each test scripts, per path. */
export interface ScriptedServer extends TestServer {
	/** Every request seen since the last `reset`, in order. */
	readonly hits: Hit[];
	/** The requests seen on one path (query left out). */
	hitsOn(path: string): Hit[];
	/**
	 * Resolves once `count` requests on `path` have arrived: a signal to wait on, where a poll with a
	 * deadline fails when a loaded machine is slower than the deadline.
	 */
	arrived(path: string, count: number): Promise<void>;
	/** The nth request on `path` gets the nth handler; the last one repeats. Unscripted paths get 404. */
	answer(path: string, ...handlers: Handler[]): void;
	/** `origin` + `path`. */
	url(path: string): string;
	/** Forgets the hits and the scripts (for `afterEach`). */
	reset(): void;
}

/** A handler that answers JSON. */
export const json =
	(status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
	(_, response) =>
		sendJson(response, status, body, headers);

/** A handler that answers `body` as is, with a content type. */
export const text =
	(status: number, body: string, contentType = 'text/html'): Handler =>
	(_, response) =>
		void response.writeHead(status, { 'content-type': contentType }).end(body);

export async function startScriptedServer(): Promise<ScriptedServer> {
	const hits: Hit[] = [];
	const scripts = new Map<string, Handler[]>();
	const pathOf = (url: string) => url.split('?')[0] ?? url;
	const hitsOn = (path: string) => hits.filter((hit) => pathOf(hit.url) === path);
	let waiters: { path: string; count: number; resolve: () => void }[] = [];
	const wake = () => {
		const due = waiters.filter((w) => hitsOn(w.path).length >= w.count);
		waiters = waiters.filter((w) => !due.includes(w));
		for (const waiter of due) waiter.resolve();
	};
	const server = await startServer((request, response) => {
		const url = request.url ?? '/';
		hits.push({ method: request.method ?? '', url, headers: request.headers, body: request.body });
		wake();
		const handlers = scripts.get(pathOf(url));
		if (handlers === undefined) return json(404, { error: 'not_found' })(request, response);
		const nth = Math.min(hitsOn(pathOf(url)).length, handlers.length) - 1;
		return handlers[nth]?.(request, response);
	});
	return {
		...server,
		hits,
		hitsOn,
		arrived: (path, count) =>
			new Promise<void>((resolve) => {
				waiters.push({ path, count, resolve });
				wake();
			}),
		answer: (path, ...handlers) => void scripts.set(path, handlers),
		url: (path) => `${server.origin}${path}`,
		reset: () => {
			hits.length = 0;
			scripts.clear();
			waiters = [];
		},
	};
}

/**
 * One scripted server for the calling test file: started in `beforeAll`, reset in `afterEach`,
 * closed in `afterAll`. Usable in tests and hooks, not at import time.
 */
export function useScriptedServer(): ScriptedServer {
	let started: ScriptedServer | undefined;
	beforeAll(async () => {
		started = await startScriptedServer();
	});
	afterEach(() => started?.reset());
	afterAll(() => started?.close());
	return new Proxy({} as ScriptedServer, {
		get: (_, key) => {
			if (started === undefined) throw new Error('The scripted server is not started yet');
			return Reflect.get(started, key);
		},
	});
}

/** What a promise rejected with; fails the test if it resolved. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => expect.unreachable('the promise should have rejected'),
		(error: unknown) => error,
	);
}
