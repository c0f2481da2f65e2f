import ky, { HTTPError } from 'ky';
import { describe, expect, it } from 'vitest';
import { InsecureTransportError, OriginNotAllowedError } from '../../src/errors/index.js';
import { createKy, oauth2Hooks } from '../../src/ky.js';
import { twoOrigins } from '../helpers/two-origins.js';
import { kinds, kyFor, rejection, sessionOn } from './clients.js';

// `api` is allowed, `other` is not.
const servers = twoOrigins();

const redirectTo = (target: string, status = 302) =>
	`${servers.api.origin}/redirect?status=${status}&to=${encodeURIComponent(target)}`;

describe.each(kinds)('%s: the token goes only to allowed origins', (kind) => {
	it('refuses another origin with an error naming it, sending nothing and refreshing nothing', async () => {
		const session = sessionOn(servers.api, { ...servers.api.issue(), expires_in: -60 });
		const error = await rejection(kyFor(kind, session).get(`${servers.other.origin}/elsewhere`));
		expect(error).toBeInstanceOf(OriginNotAllowedError);
		expect((error as OriginNotAllowedError).origin).toBe(servers.other.origin);
		expect((error as Error).message).toContain(servers.other.origin);
		expect(servers.other.stats).toMatchObject({ apiRequests: 0, leaked: [] });
		expect(servers.api.stats.tokenRequests).toBe(0);
	});

	it("checks the URL ky resolved from baseUrl and prefix, not the input's", async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const client = kyFor(kind, session, { baseUrl: servers.other.origin, prefix: '/api' });
		await expect(client.get('me')).rejects.toBeInstanceOf(OriginNotAllowedError);
		const allowed = kyFor(kind, session, { baseUrl: servers.api.origin, prefix: '/api' });
		expect(await allowed.get('me').json()).toMatchObject({ ok: true, path: '/api/me' });
		expect(servers.other.stats.apiRequests).toBe(0);
	});

	it('refuses http: to a host that is not loopback', async () => {
		const session = sessionOn(servers.api, servers.api.issue(), {
			allowedOrigins: ['http://api.example.com'],
		});
		const error = await rejection(kyFor(kind, session).get('http://api.example.com/me'));
		expect(error).toBeInstanceOf(InsecureTransportError);
	});
});

describe.each(kinds)('%s: redirects', (kind) => {
	it('a redirect from an allowed origin to another origin does not carry the token', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const client = kyFor(kind, session);
		for (const status of [301, 302, 303, 307, 308]) {
			const body = await client
				.get(redirectTo(`${servers.other.origin}/elsewhere/${status}`, status))
				.json();
			expect(body).toEqual({ authorization: null });
		}
		const posted = await client
			.post(redirectTo(`${servers.other.origin}/elsewhere/post`, 307), { json: { a: 1 } })
			.json();
		expect(posted).toEqual({ authorization: null });
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('the token stays dropped when the chain comes back to the allowed origin', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const via = `${servers.other.origin}/redirect?to=${encodeURIComponent(`${servers.api.origin}/elsewhere/back`)}`;
		const body = await kyFor(kind, session).get(redirectTo(via)).json();
		expect(body).toEqual({ authorization: null });
		expect(servers.api.stats.leaked).toEqual([]);
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('a same-origin redirect keeps the token', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const body = await kyFor(kind, session).get(redirectTo('/api/next')).json();
		expect(body).toMatchObject({ ok: true, path: '/api/next' });
		expect(servers.api.stats).toMatchObject({ apiRequests: 1, api401: 0 });
	});
});

describe('oauth2Hooks: a 401 from another origin after a redirect', () => {
	it('is handed back without a refresh: the token never went there', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const error = await rejection(
			kyFor('oauth2Hooks', session).get(redirectTo(`${servers.other.origin}/api/x`)),
		);
		expect(error).toBeInstanceOf(HTTPError);
		expect((error as HTTPError).response.status).toBe(401);
		expect(servers.other.stats).toMatchObject({ apiRequests: 1, api401: 1, leaked: [] });
		expect(servers.api.stats.tokenRequests).toBe(0);
	});
});

/** A fetch that does not follow the Fetch standard: it keeps every header on every redirect hop. */
const forwardingFetch: typeof fetch = async (input, init) => {
	let request = new Request(input, init);
	if (request.redirect !== 'follow') return fetch(request);
	for (;;) {
		const response = await fetch(new Request(request, { redirect: 'manual' }));
		const location = response.headers.get('location');
		if (location === null) return response;
		await response.body?.cancel();
		request = new Request(new URL(location, request.url), { headers: request.headers });
	}
};

describe('with a fetch that forwards Authorization across origins (not the Fetch standard)', () => {
	it('createKy still drops the token: the session follows redirects itself', async () => {
		const session = sessionOn(servers.api, servers.api.issue(), { fetch: forwardingFetch });
		const body = await createKy(session)
			.get(redirectTo(`${servers.other.origin}/elsewhere/x`))
			.json();
		expect(body).toEqual({ authorization: null });
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('oauth2Hooks relies on the fetch and forwards it: the documented limit (and proof the server sees leaks)', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const client = ky.create({ fetch: forwardingFetch }).extend({ hooks: oauth2Hooks(session) });
		await client.get(redirectTo(`${servers.other.origin}/elsewhere/x`)).json();
		expect(servers.other.stats.leaked).toEqual([`Bearer ${session.token?.accessToken}`]);
	});
});
