import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on 127.0.0.1 and a free port, for tests. */
export interface TestServer {
	/** `http://127.0.0.1:<port>` */
	readonly origin: string;
	readonly server: Server;
	/** Stops the server and drops open connections. */
	close(): Promise<void>;
}

export type Handler = (
	request: IncomingMessage & { body: string },
	response: ServerResponse,
) => void | Promise<void>;

/** Starts a server on 127.0.0.1:0; the request body is read into `request.body` before the handler runs. */
export async function startServer(handler: Handler): Promise<TestServer> {
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const withBody = Object.assign(request, { body: Buffer.concat(chunks).toString('utf8') });
			Promise.resolve(handler(withBody, response)).catch((error: unknown) => {
				if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
				response.end(String(error));
			});
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	// Tests must never hang on a server they forgot to close.
	server.unref();
	const { port } = server.address() as AddressInfo;
	return {
		origin: `http://127.0.0.1:${port}`,
		server,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** Writes a JSON answer. */
export function sendJson(
	response: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	response.writeHead(status, { 'content-type': 'application/json', ...headers });
	response.end(JSON.stringify(body));
}
