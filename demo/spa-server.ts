/**
 * What `npm run demo:spa` serves on 127.0.0.1: the page and its script, and the embedded
 * authorization server's token endpoint and API behind a proxy on the page's origin (the server
 * answers no CORS requests). Signing in itself goes to the authorization server's own origin.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { type AuthServer, startAuthServer } from './auth-server.js';

/** What the page reads from `/config.json`. */
export interface SpaConfig {
	clientId: string;
	issuer: string;
	authorizationEndpoint: string;
}

export interface SpaDemo {
	/** The page to open. */
	readonly url: string;
	readonly authServer: AuthServer;
	close(): Promise<void>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>oauth2-session SPA demo</title>
<h1>oauth2-session: tabs sharing a token</h1>
<button id="sign-in" hidden>Sign in</button>
<p id="status"></p><pre id="log"></pre>
<script type="module" src="/app.js"></script>`;

/** Starts the page's server, then the authorization server with the page's callback registered. */
export async function startSpaDemo(options: { accessTokenTtl: number }): Promise<SpaDemo> {
	const script = await bundlePage();
	let authServer: AuthServer | undefined;
	const server = createServer((request, response) => {
		if (authServer === undefined) return void response.writeHead(503).end();
		void answer(request, response, authServer, script).catch(() => {
			if (!response.headersSent) response.writeHead(502);
			response.end();
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	authServer = await startAuthServer({
		accessTokenTtl: options.accessTokenTtl,
		redirectUri: `${origin}/callback`,
	});
	const auth = authServer;
	return {
		url: `${origin}/`,
		authServer: auth,
		close: async () => {
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			await auth.close();
		},
	};
}

async function answer(
	request: IncomingMessage,
	response: ServerResponse,
	auth: AuthServer,
	script: string,
): Promise<void> {
	const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
	if (path === '/' || path === '/callback') {
		response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
	} else if (path === '/app.js') {
		response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
	} else if (path === '/config.json') {
		const config: SpaConfig = {
			clientId: auth.clients.public.clientId,
			issuer: auth.issuer,
			authorizationEndpoint: auth.authorizationEndpoint,
		};
		response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config));
	} else if (path === '/token' || path.startsWith('/api/')) {
		await proxy(request, response, auth.origin);
	} else {
		response.writeHead(404).end();
	}
}

/** Passes a request on to the authorization server, with only the headers that matter. */
async function proxy(request: IncomingMessage, response: ServerResponse, upstream: string) {
	const chunks: Buffer[] = [];
	for await (const chunk of request) chunks.push(chunk as Buffer);
	const headers: Record<string, string> = {};
	for (const name of ['authorization', 'content-type', 'accept']) {
		const value = request.headers[name];
		if (typeof value === 'string') headers[name] = value;
	}
	const answer = await fetch(`${upstream}${request.url ?? '/'}`, {
		method: request.method ?? 'GET',
		headers,
		redirect: 'manual',
		...(chunks.length === 0 ? {} : { body: Buffer.concat(chunks) }),
	});
	const back: Record<string, string> = {};
	for (const name of ['content-type', 'www-authenticate', 'cache-control', 'pragma']) {
		const value = answer.headers.get(name);
		if (value !== null) back[name] = value;
	}
	response.writeHead(answer.status, back).end(Buffer.from(await answer.arrayBuffer()));
}

async function bundlePage(): Promise<string> {
	const result = await build({
		entryPoints: [new URL('./spa-page.ts', import.meta.url).pathname],
		bundle: true,
		format: 'esm',
		platform: 'browser',
		target: 'chrome120',
		write: false,
		logLevel: 'silent',
	});
	return result.outputFiles[0]?.text ?? '';
}
