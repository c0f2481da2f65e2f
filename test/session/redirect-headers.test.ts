import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { type Handler, startServer, type TestServer } from '../helpers/http-server.js';

// Two servers on two ports, so two origins: `start` redirects, `landing` records what reached it.
// The session follows redirects by hand; what it carries across must be what the runtime's own
// fetch carries, header for header.
let start: TestServer;
let landing: TestServer;
interface Seen {
	method: string;
	body: string;
	headers: IncomingHttpHeaders;
}
let seen: Seen | undefined;

beforeAll(async () => {
	const handler: Handler = (request, response) => {
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		if (url.pathname === '/redirect') {
			response.writeHead(Number(url.searchParams.get('status') ?? 302), {
				location: url.searchParams.get('to') ?? '/',
			});
			response.end();
			return;
		}
		seen = { method: request.method ?? '', body: request.body, headers: request.headers };
		response.writeHead(200, { 'content-type': 'text/plain' });
		response.end('ok');
	};
	[start, landing] = await Promise.all([startServer(handler), startServer(handler)]);
});

afterAll(() => Promise.all([start.close(), landing.close()]));

const CALLER_HEADERS = {
	cookie: 'sid=caller-cookie',
	'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
	'content-type': 'text/plain',
	'content-language': 'en',
	'content-location': '/draft',
	'content-encoding': 'identity',
	'x-custom': 'kept',
};
const COMPARED = ['authorization', ...Object.keys(CALLER_HEADERS)];

async function landedWith(
	send: (url: string, init: RequestInit) => Promise<Response>,
	url: string,
	init: RequestInit,
) {
	seen = undefined;
	const response = await send(url, init);
	await response.arrayBuffer();
	// Set by the server while `send` ran: TypeScript cannot see that assignment.
	const got = seen as Seen | undefined;
	if (got === undefined) throw new Error(`nothing reached the landing server for ${url}`);
	const headers = Object.fromEntries(COMPARED.map((name) => [name, got.headers[name] ?? null]));
	return { method: got.method, body: got.body, headers };
}

const session = () =>
	new OAuth2Session({
		clientId: 'app',
		token: { access_token: 'the-token', token_type: 'Bearer' },
		allowedOrigins: [start.origin, landing.origin],
	});

const cases = [301, 302, 303, 307, 308].flatMap((status) =>
	['GET', 'POST', 'PUT'].map((method) => ({ status, method })),
);

describe.each([
	{ where: 'to another origin', target: () => `${landing.origin}/land` },
	{ where: 'on the same origin', target: () => `${start.origin}/land` },
])('a redirect $where carries what the runtime fetch carries', ({ target }) => {
	it.each(cases)('$status after $method', async ({ status, method }) => {
		const url = `${start.origin}/redirect?status=${status}&to=${encodeURIComponent(target())}`;
		const init = (): RequestInit => ({
			method,
			headers: { ...CALLER_HEADERS, authorization: 'Bearer the-token' },
			...(method === 'GET' ? {} : { body: 'x=1' }),
		});
		const viaRuntime = await landedWith(fetch, url, { ...init(), redirect: 'follow' });
		// Both origins are allowed: whether the token goes is the session's rule, compared apart.
		const { authorization: _runtime, ...runtimeRest } = viaRuntime.headers;
		const viaSession = await landedWith((u, i) => session().fetch(u, i), url, init());
		const { authorization: _session, ...sessionRest } = viaSession.headers;
		expect({ ...viaSession, headers: sessionRest }).toEqual({
			...viaRuntime,
			headers: runtimeRest,
		});
	});
});

describe('what the session adds to the runtime rule', () => {
	it('drops the token at a hop to an origin that is not allowed, keeps it on allowed ones', async () => {
		const only = new OAuth2Session({
			clientId: 'app',
			token: { access_token: 'the-token', token_type: 'Bearer' },
			allowedOrigins: [start.origin],
		});
		const away = `${start.origin}/redirect?to=${encodeURIComponent(`${landing.origin}/land`)}`;
		expect((await landedWith((u, i) => only.fetch(u, i), away, {})).headers.authorization).toBe(
			null,
		);
		const both = session();
		expect((await landedWith((u, i) => both.fetch(u, i), away, {})).headers.authorization).toBe(
			'Bearer the-token',
		);
	});

	it('refuses a redirect to a scheme other than http(s), as fetch does', async () => {
		const url = `${start.origin}/redirect?to=${encodeURIComponent('data:text/plain,hello')}`;
		const runtime = await fetch(url).catch((error: unknown) => error);
		expect(runtime).toBeInstanceOf(TypeError);
		await expect(session().fetch(url)).rejects.toBeInstanceOf(TypeError);
	});
});

describe('a streamed body', () => {
	const streamed = (): RequestInit =>
		({
			method: 'POST',
			body: new ReadableStream({
				start(controller) {
					controller.enqueue(new TextEncoder().encode('x=1'));
					controller.close();
				},
			}),
			duplex: 'half',
		}) as RequestInit;
	const to = (status: number) =>
		`${start.origin}/redirect?status=${status}&to=${encodeURIComponent(`${landing.origin}/land`)}`;

	it('follows a 303, which drops the body, as fetch does', async () => {
		const viaRuntime = await landedWith(fetch, to(303), streamed());
		const viaSession = await landedWith((u, i) => session().fetch(u, i), to(303), streamed());
		expect(viaSession).toEqual({ ...viaRuntime, headers: viaSession.headers });
		expect(viaSession.method).toBe('GET');
	});

	it('refuses a 307, which would send it again, as fetch does', async () => {
		await expect(fetch(to(307), streamed())).rejects.toBeInstanceOf(TypeError);
		await expect(session().fetch(to(307), streamed())).rejects.toBeInstanceOf(TypeError);
	});
});
