import { describe, expect, it } from 'vitest';
import {
	InsecureTransportError,
	InvalidOptionsError,
	OriginNotAllowedError,
} from '../../src/errors/index.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { sessionOn } from '../helpers/session.js';
import { twoOrigins } from '../helpers/two-origins.js';

// `api` is allowed, `other` is not.
const servers = twoOrigins();

const make = (
	options: { allowedOrigins?: string[]; baseUrl?: string; allowInsecure?: boolean } = {},
) =>
	new OAuth2Session({
		clientId: 'app',
		token: servers.api.issue(),
		allowedOrigins: options.allowedOrigins ?? [servers.api.origin],
		...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
		...(options.allowInsecure ? { allowInsecure: true } : {}),
	});

describe('the token goes only to allowed origins', () => {
	it('refuses another origin with an error naming it and the option, sending nothing', async () => {
		const session = make();
		const error = await session.fetch(`${servers.other.origin}/elsewhere`).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(OriginNotAllowedError);
		expect((error as OriginNotAllowedError).origin).toBe(servers.other.origin);
		expect((error as Error).message).toContain(servers.other.origin);
		expect((error as Error).message).toContain('allowedOrigins');
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('a different port or host spelling is a different origin', async () => {
		const session = make();
		const localhost = servers.api.origin.replace('127.0.0.1', 'localhost');
		await expect(session.fetch(`${localhost}/api/x`)).rejects.toBeInstanceOf(OriginNotAllowedError);
	});

	it("allows a base URL's origin and resolves relative URLs against it", async () => {
		const session = make({ allowedOrigins: [], baseUrl: `${servers.api.origin}/api/` });
		const response = await session.fetch('me');
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ path: '/api/me' });
	});

	it('refuses when no origin is allowed at all', async () => {
		const session = make({ allowedOrigins: [] });
		await expect(session.fetch(`${servers.api.origin}/api/me`)).rejects.toBeInstanceOf(
			OriginNotAllowedError,
		);
	});
});

describe('redirects', () => {
	it('a redirect from an allowed origin to another origin does not carry the token', async () => {
		const session = make();
		const target = `${servers.other.origin}/elsewhere/landing`;
		const response = await session.fetch(
			`${servers.api.origin}/redirect?to=${encodeURIComponent(target)}`,
		);
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({ authorization: null });
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('the token stays dropped when the chain comes back to an allowed origin', async () => {
		const session = make();
		const back = `${servers.api.origin}/elsewhere/back`;
		const via = `${servers.other.origin}/redirect?to=${encodeURIComponent(back)}`;
		const response = await session.fetch(
			`${servers.api.origin}/redirect?to=${encodeURIComponent(via)}`,
		);
		expect(await response.json()).toEqual({ authorization: null });
	});

	it('a same-origin redirect keeps the token', async () => {
		const session = make();
		const response = await session.fetch(`${servers.api.origin}/redirect?to=/api/next`);
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ ok: true, path: '/api/next' });
	});

	it('303 turns a POST into a GET without body; 307 keeps method and body', async () => {
		const session = make();
		const r303 = await session.fetch(`${servers.api.origin}/redirect?status=303&to=/api/after`, {
			method: 'POST',
			body: 'x=1',
		});
		expect(await r303.json()).toMatchObject({ method: 'GET', body: '' });
		const r307 = await session.fetch(`${servers.api.origin}/redirect?status=307&to=/api/after`, {
			method: 'POST',
			body: 'x=1',
		});
		expect(await r307.json()).toMatchObject({ method: 'POST', body: 'x=1' });
	});

	it('a method in lower case reaches the server upper-cased, before and after a redirect', async () => {
		const session = make();
		const direct = await session.fetch(`${servers.api.origin}/api/after`, {
			method: 'patch',
			body: 'x=1',
		});
		expect(await direct.json()).toMatchObject({ method: 'PATCH', body: 'x=1' });
		const redirected = await session.fetch(
			`${servers.api.origin}/redirect?status=307&to=/api/after`,
			{
				method: 'patch',
				body: 'x=1',
			},
		);
		expect(await redirected.json()).toMatchObject({ method: 'PATCH', body: 'x=1' });
	});

	it('a 401 from another origin after a redirect is handed back: the token never went there', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const target = `${servers.other.origin}/api/protected`;
		const response = await session.fetch(
			`${servers.api.origin}/redirect?to=${encodeURIComponent(target)}`,
		);
		expect(response.status).toBe(401);
		expect(servers.api.stats.tokenRequests).toBe(0);
		expect(servers.other.stats.api401).toBe(1);
		session.close();
	});

	it("honours the caller's redirect: 'manual'", async () => {
		const session = make();
		const response = await session.fetch(`${servers.api.origin}/redirect?to=/api/next`, {
			redirect: 'manual',
		});
		expect(response.status).toBe(302);
	});
});

describe('transport security', () => {
	it('refuses http: to *.localhost, which the resolver may send off the machine', async () => {
		const session = make({ allowedOrigins: ['http://app.localhost:9'] });
		await expect(session.fetch('http://app.localhost:9/me')).rejects.toBeInstanceOf(
			InsecureTransportError,
		);
	});

	it('refuses http: to a host that is not loopback', async () => {
		const session = make({ allowedOrigins: ['http://api.example.com'] });
		await expect(session.fetch('http://api.example.com/me')).rejects.toBeInstanceOf(
			InsecureTransportError,
		);
	});
});

describe('request bodies', () => {
	it('a body is sent again, whole, on the retry after a 401', async () => {
		const session = make();
		await session.ready;
		servers.api.revokeAccessTokens();
		// This session has a refresh token from servers.api.issue(); it needs a token endpoint to refresh.
		const refreshing = sessionOn(servers.api, servers.api.issue());
		await refreshing.ready;
		servers.api.revokeAccessTokens();
		const response = await refreshing.fetch(`${servers.api.origin}/api/upload`, {
			method: 'POST',
			body: 'payload=1',
		});
		expect(response.status).toBe(200);
		expect(await response.json()).toMatchObject({ body: 'payload=1' });
		const fromRequest = await refreshing.fetch(
			new Request(`${servers.api.origin}/api/upload`, { method: 'POST', body: 'payload=2' }),
		);
		expect(await fromRequest.json()).toMatchObject({ body: 'payload=2' });
		refreshing.close();
	});

	it('a streaming body is not retried: the 401 comes back', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		await session.ready;
		servers.api.revokeAccessTokens();
		const body = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('streamed'));
				controller.close();
			},
		});
		const response = await session.fetch(`${servers.api.origin}/api/upload`, {
			method: 'POST',
			body,
			duplex: 'half',
		} as RequestInit);
		expect(response.status).toBe(401);
		expect(servers.api.stats.tokenRequests).toBe(0);
		session.close();
	});
});

describe('allowedOrigins is checked when the session is made', () => {
	it.each(['capacitor://localhost', 'file:///index.html', 'chrome-extension://abcdef', 'app://-'])(
		'%s: an InvalidOptionsError naming the schemes allowed, not a TypeError',
		(origin) => {
			let thrown: unknown;
			try {
				make({ allowedOrigins: [origin] });
			} catch (error) {
				thrown = error;
			}
			expect(thrown).toBeInstanceOf(InvalidOptionsError);
			expect((thrown as Error).message).toContain('allowedOrigins');
			expect((thrown as Error).message).toContain('http: or https:');
			expect((thrown as Error).message).toContain(origin);
		},
	);

	it('a baseUrl of another scheme is refused the same way', () => {
		expect(
			() => new OAuth2Session({ clientId: 'app', baseUrl: 'capacitor://localhost/api/' }),
		).toThrowError(InvalidOptionsError);
	});

	it('not a URL at all is still an InvalidOptionsError', () => {
		expect(() => make({ allowedOrigins: ['api.example.com'] })).toThrowError(InvalidOptionsError);
	});
});
