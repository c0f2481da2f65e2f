import { describe, expect, it, vi } from 'vitest';
import {
	InsecureTransportError,
	InvalidOptionsError,
	TokenRequestError,
} from '../../src/errors/index.js';
import { MetadataError } from '../../src/errors/metadata-error.js';
import { type DiscoverOptions, discover, MetadataCache } from '../../src/session/discover.js';
import type { Handler } from '../helpers/http-server.js';
import { json, rejection, text, useScriptedServer } from '../helpers/scripted-server.js';

const server = useScriptedServer();

const OIDC = '/.well-known/openid-configuration';
const RFC8414 = '/.well-known/oauth-authorization-server';
const fast = { retries: 2, minTimeout: 5, maxTimeout: 10 };
const metadataOf = (issuer: string) => ({
	issuer,
	token_endpoint: `${issuer}/token`,
	revocation_endpoint: `${issuer}/revoke`,
	response_types_supported: ['code'],
});
const found = (issuer: string, headers: Record<string, string> = {}): Handler =>
	json(200, metadataOf(issuer), headers);
const notFound = json(404, { error: 'not_found' });
// Each test has its own cache, unless it tests the shared one.
const run = (issuer: string, options: DiscoverOptions = {}) =>
	discover(issuer, { cache: new MetadataCache(), retry: fast, ...options });
const paths = () => server.hits.map((hit) => hit.url);

describe('discover: where it looks', () => {
	it('reads OpenID Connect discovery first, with a GET that asks for JSON', async () => {
		server.answer(OIDC, found(server.origin));
		expect(await run(server.origin)).toEqual(metadataOf(server.origin));
		expect(server.hits).toHaveLength(1);
		expect(server.hits[0]).toMatchObject({
			method: 'GET',
			url: OIDC,
			body: '',
			headers: { accept: 'application/json' },
		});
	});

	it.each<[string, Handler]>([
		['a 404', notFound],
		['a 400', json(400, { error: 'invalid_request' })],
		['an HTML page with 200', text(200, '<html>app shell</html>')],
		['a JSON array', json(200, [])],
	])('after %s, tries RFC 8414', async (_, first) => {
		server.answer(OIDC, first);
		server.answer(RFC8414, found(server.origin));
		expect(await run(server.origin)).toEqual(metadataOf(server.origin));
		expect(paths()).toEqual([OIDC, RFC8414]);
	});

	it('puts an issuer path after OIDC and before RFC 8414 well-known names', async () => {
		const issuer = `${server.origin}/tenants/a`;
		server.answer(`/tenants/a${OIDC}`, notFound);
		server.answer(`${RFC8414}/tenants/a`, found(issuer));
		expect((await run(issuer)).issuer).toBe(issuer);
		expect(paths()).toEqual([`/tenants/a${OIDC}`, `${RFC8414}/tenants/a`]);
	});

	it('tries only the documents asked for, in the order asked', async () => {
		server.answer(RFC8414, found(server.origin));
		await run(server.origin, { wellKnown: ['oauth-authorization-server'] });
		expect(paths()).toEqual([RFC8414]);
		await expect(run(server.origin, { wellKnown: [] })).rejects.toThrow(InvalidOptionsError);
	});

	it('names both URLs when neither has metadata', async () => {
		const error = await rejection(run(server.origin));
		expect(error).toBeInstanceOf(MetadataError);
		expect(error).toMatchObject({ problem: 'not-found', issuer: server.origin, status: 404 });
		expect((error as Error).message).toBe(
			`No metadata of ${server.origin} was found at ${server.url(OIDC)} (HTTP 404) or ${server.url(RFC8414)} (HTTP 404)`,
		);
	});

	it('prefers a non-JSON answer to a 404 when saying why neither worked', async () => {
		server.answer(OIDC, text(200, '<html></html>'));
		expect(await rejection(run(server.origin))).toMatchObject({
			problem: 'unparseable',
			url: server.url(OIDC),
		});
	});

	it('with one document asked for, gives its own error', async () => {
		const error = await rejection(run(server.origin, { wellKnown: ['openid-configuration'] }));
		expect(error).toMatchObject({ problem: 'not-found', url: server.url(OIDC), status: 404 });
	});
});

describe('discover: what it refuses', () => {
	it.each([
		['a trailing slash', (origin: string) => `${origin}/`],
		['another server', () => 'https://evil.example'],
	])('metadata naming another issuer (%s), without trying RFC 8414', async (_, issuerOf) => {
		server.answer(
			OIDC,
			json(200, { ...metadataOf(server.origin), issuer: issuerOf(server.origin) }),
		);
		server.answer(RFC8414, found(server.origin));
		const error = await rejection(run(server.origin));
		expect(error).toMatchObject({ name: 'MetadataError', problem: 'issuer-mismatch' });
		expect(paths()).toEqual([OIDC]);
	});

	it('an endpoint on plain http: elsewhere than loopback', async () => {
		server.answer(
			OIDC,
			json(200, { ...metadataOf(server.origin), token_endpoint: 'http://as.example/t' }),
		);
		expect(await rejection(run(server.origin))).toMatchObject({
			problem: 'invalid-field',
			field: 'token_endpoint',
		});
		expect(paths()).toEqual([OIDC]);
	});

	it('an http: issuer that is not loopback, before sending anything', async () => {
		const fetch = vi.fn<typeof globalThis.fetch>();
		expect(await rejection(run('http://as.example', { fetch }))).toBeInstanceOf(
			InsecureTransportError,
		);
		expect(fetch).not.toHaveBeenCalled();
	});

	it.each(['as.example', 'https://as.example?x=1'])('the issuer %s', async (issuer) => {
		await expect(run(issuer)).rejects.toThrow(InvalidOptionsError);
	});
});

describe('discover: how it sends', () => {
	it('retries a 503, then reads the answer', async () => {
		server.answer(OIDC, json(503, {}), found(server.origin));
		await run(server.origin);
		expect(paths()).toEqual([OIDC, OIDC]);
	});

	it('fails on a 500 after the retries, without trying RFC 8414', async () => {
		server.answer(OIDC, json(500, {}));
		expect(await rejection(run(server.origin))).toMatchObject({
			name: 'TokenRequestError',
			reason: 'http',
			status: 500,
			attempts: 3,
		});
		expect(paths()).toEqual([OIDC, OIDC, OIDC]);
	});

	it('does not follow a redirect', async () => {
		server.answer(
			OIDC,
			(_, response) => void response.writeHead(302, { location: '/elsewhere' }).end(),
		);
		const error = await rejection(run(server.origin));
		expect(error).toBeInstanceOf(TokenRequestError);
		expect(error).toMatchObject({ reason: 'redirect', status: 302 });
		expect(paths()).toEqual([OIDC]);
	});

	it('stops when aborted, with the reason', async () => {
		server.answer(OIDC, () => {});
		const controller = new AbortController();
		const reason = new Error('user left');
		const pending = rejection(run(server.origin, { signal: controller.signal }));
		await server.arrived(OIDC, 1);
		expect(server.hits).toHaveLength(1);
		controller.abort(reason);
		expect(await pending).toBe(reason);
	});
});

describe('discover: the cache', () => {
	let clock = 0;
	const cache = () => new MetadataCache({ now: () => clock, ttl: 60_000 });

	it('answers a second call for the same issuer from memory, and another issuer from the server', async () => {
		const tenant = `${server.origin}/b`;
		server.answer(OIDC, found(server.origin));
		server.answer(`/b${OIDC}`, found(tenant));
		const options = { cache: cache() };
		const first = await run(server.origin, options);
		expect(await run(server.origin, options)).toBe(first);
		await run(tenant, options);
		expect(paths()).toEqual([OIDC, `/b${OIDC}`]);
	});

	it.each<[string, Record<string, string>, number]>([
		['its own ttl without Cache-Control', {}, 60_000],
		['max-age', { 'cache-control': 'public, max-age=600' }, 600_000],
		['max-age less Age', { 'cache-control': 'max-age=600', age: '590' }, 10_000],
	])('keeps metadata for %s', async (_, headers, ttl) => {
		clock = 1_000_000;
		server.answer(OIDC, found(server.origin, headers));
		const options = { cache: cache() };
		await run(server.origin, options);
		clock += ttl - 1;
		await run(server.origin, options);
		expect(server.hits).toHaveLength(1);
		clock += 1;
		await run(server.origin, options);
		expect(server.hits).toHaveLength(2);
	});

	it.each(['no-store', 'max-age=0'])(
		'does not keep metadata sent with %s',
		async (cacheControl) => {
			server.answer(OIDC, found(server.origin, { 'cache-control': cacheControl }));
			const options = { cache: cache() };
			await run(server.origin, options);
			await run(server.origin, options);
			expect(server.hits).toHaveLength(2);
		},
	);

	it('does not keep a failure: the next call asks again', async () => {
		const options = { cache: cache() };
		await rejection(run(server.origin, options));
		server.answer(OIDC, found(server.origin));
		await run(server.origin, options);
		await run(server.origin, options);
		expect(paths()).toEqual([OIDC, RFC8414, OIDC]);
	});

	it('asks every time with cache: false, and again after delete or clear', async () => {
		server.answer(OIDC, found(server.origin));
		await run(server.origin, { cache: false });
		await run(server.origin, { cache: false });
		const kept = cache();
		await run(server.origin, { cache: kept });
		kept.delete(server.origin);
		await run(server.origin, { cache: kept });
		kept.clear();
		await run(server.origin, { cache: kept });
		await run(server.origin, { cache: kept });
		expect(server.hits).toHaveLength(5);
	});

	it('shares one cache between calls that do not name one', async () => {
		const issuer = `${server.origin}/shared-${crypto.randomUUID()}`;
		server.answer(`${new URL(issuer).pathname}${OIDC}`, found(issuer));
		const first = await discover(issuer);
		expect(await discover(issuer)).toBe(first);
		expect(server.hits).toHaveLength(1);
	});

	it('hands out frozen metadata, so no caller can change what another gets', async () => {
		server.answer(OIDC, found(server.origin));
		const metadata = await run(server.origin);
		expect(Object.isFrozen(metadata)).toBe(true);
		expect(Object.isFrozen(metadata.response_types_supported)).toBe(true);
	});

	it('refuses a negative ttl', () => {
		expect(() => new MetadataCache({ ttl: -1 })).toThrow(InvalidOptionsError);
	});
});
