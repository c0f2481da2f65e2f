import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError } from './cli-error.js';

/** A one-shot HTTP server on 127.0.0.1 that receives an authorization callback (RFC 8252 §7.3). */
export interface LoopbackReceiver<T> {
	/** `http://127.0.0.1:<random port>/callback`: the redirect URI to send. */
	readonly redirectUri: string;
	/** Settles with what the first callback gave (`accept`'s result or its error). */
	readonly result: Promise<T>;
	/** Stops listening and drops the browser's open connections. */
	close(): Promise<void>;
}

const CALLBACK_PATH = '/callback';

/**
 * Listens on 127.0.0.1 (never `localhost`, which may resolve to another interface, RFC 8252 §8.3)
 * and `port`, 0 for one the system picks. The first request to `/callback` is handed to `accept`;
 * the browser is told whether it worked, and nothing else is served.
 */
export async function startLoopbackReceiver<T>(
	port: number,
	accept: (callback: URL) => T | Promise<T>,
): Promise<LoopbackReceiver<T>> {
	let settle: { resolve: (value: T) => void; reject: (error: unknown) => void } | undefined;
	const result = new Promise<T>((resolve, reject) => {
		settle = { resolve, reject };
	});
	const server = createServer((request, response) => {
		const url = new URL(request.url ?? '/', redirectUri);
		if (url.pathname !== CALLBACK_PATH || settle === undefined) {
			response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
			return;
		}
		const { resolve, reject } = settle;
		settle = undefined;
		Promise.resolve()
			.then(() => accept(url))
			.then(
				(value) => {
					page(response, 200, 'Received. You can close this tab: the terminal shows the rest.');
					resolve(value);
				},
				(error: unknown) => {
					page(response, 400, 'Sign-in failed. See the terminal for details.');
					reject(error);
				},
			);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) =>
			reject(new CliError(`Cannot listen on 127.0.0.1:${port} (${error.code ?? error.message})`)),
		);
		server.listen(port, '127.0.0.1', resolve);
	});
	const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${CALLBACK_PATH}`;
	return {
		redirectUri,
		result,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

function page(response: ServerResponse, status: number, text: string): void {
	response
		.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
		.end(`<!doctype html><meta charset="utf-8"><title>oauth2-session</title><p>${text}</p>`);
}
