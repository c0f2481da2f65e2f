/**
 * One access token per API (RFC 8707 resource indicators) from one refresh token: each API gets
 * its own, never another's; each refreshes on its own expiry; a rotated refresh token is shared.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import { FileStore } from '../../src/storage/file.js';
import { MemoryStore } from '../../src/storage/memory.js';
import { type ResourceServers, useResourceServers } from '../helpers/resource-servers.js';

const fixture = useResourceServers();
const { twoApiSession } = fixture;
let servers: ResourceServers;
beforeAll(() => {
	servers = fixture.servers();
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const statuses = (responses: Response[]) => responses.map((response) => response.status);

describe('a token per resource', () => {
	it('each API gets a token of its own audience, asked for with resource=<that API>', async () => {
		const session = twoApiSession({ token: servers.auth.signIn() });
		const a = await session.fetch(`${servers.a.origin}/me`);
		const b = await session.fetch(`${servers.b.origin}/me`);
		expect(await a.json()).toEqual({ ok: true, audience: servers.a.origin });
		expect(await b.json()).toEqual({ ok: true, audience: servers.b.origin });
		expect(Object.fromEntries(servers.auth.byResource)).toEqual({
			[servers.a.origin]: 1,
			[servers.b.origin]: 1,
		});
		await session.fetch(`${servers.a.origin}/again`);
		await session.fetch(`${servers.b.origin}/again`);
		expect([...servers.auth.byResource.values()]).toEqual([1, 1]);
		expect(servers.a.stats.foreign + servers.b.stats.foreign).toBe(0);
		expect(servers.auth.reused).toBe(0);
	});

	it('the session token goes to allowedOrigins only, a resource token to its API only', async () => {
		const session = twoApiSession({
			token: servers.auth.signIn(servers.a.origin),
			resources: { [servers.b.origin]: {} },
			allowedOrigins: [servers.a.origin],
		});
		expect((await session.fetch(`${servers.a.origin}/me`)).status).toBe(200);
		expect((await session.fetch(`${servers.b.origin}/me`)).status).toBe(200);
		expect(Object.fromEntries(servers.auth.byResource)).toEqual({ [servers.b.origin]: 1 });
		expect(servers.a.stats.foreign + servers.b.stats.foreign).toBe(0);
	});

	it('a redirect from one API to the other drops the token', async () => {
		const hops: string[] = [];
		const redirecting = twoApiSession({
			token: servers.auth.signIn(),
			fetch: async (input, init) => {
				const url = new URL(String(input));
				hops.push(`${url.origin} ${new Headers(init?.headers).has('authorization')}`);
				if (url.origin === servers.a.origin && url.pathname === '/go') {
					return new Response(null, {
						status: 302,
						headers: { location: `${servers.b.origin}/landed` },
					});
				}
				return globalThis.fetch(input, init);
			},
		});
		await redirecting.fetch(`${servers.a.origin}/me`);
		hops.length = 0;
		const landed = await redirecting.fetch(`${servers.a.origin}/go`);
		expect(hops).toEqual([`${servers.a.origin} true`, `${servers.b.origin} false`]);
		expect(landed.status).toBe(401);
		expect(servers.b.stats.foreign).toBe(0);
	});

	it('each token refreshes on its own expiry: an expired one does not refresh the other', async () => {
		servers.auth.lifetimes.set(servers.a.origin, 1);
		const session = twoApiSession({ token: servers.auth.signIn() });
		await session.fetch(`${servers.a.origin}/me`);
		await session.fetch(`${servers.b.origin}/me`);
		const before = new Map(servers.auth.byResource);
		await wait(1100);
		servers.auth.lifetimes.clear();
		expect((await session.fetch(`${servers.b.origin}/me`)).status).toBe(200);
		expect(servers.auth.byResource).toEqual(before);
		expect((await session.fetch(`${servers.a.origin}/me`)).status).toBe(200);
		expect(servers.auth.byResource.get(servers.a.origin)).toBe(2);
		expect(servers.auth.byResource.get(servers.b.origin)).toBe(1);
		expect(servers.a.stats.unauthorized).toBe(0);
	});

	it('50 concurrent requests over both APIs, both tokens expired: exactly 2 token requests', async () => {
		servers.auth.lifetimes.set(servers.a.origin, 1);
		servers.auth.lifetimes.set(servers.b.origin, 1);
		const session = twoApiSession({ token: servers.auth.signIn() });
		await session.fetch(`${servers.a.origin}/me`);
		await session.fetch(`${servers.b.origin}/me`);
		await wait(1100);
		// The new tokens must outlive the burst, however loaded the machine is.
		servers.auth.lifetimes.clear();
		servers.auth.byResource.clear();
		servers.auth.latency = 50;
		const responses = await Promise.all(
			Array.from({ length: 50 }, (_, i) =>
				session.fetch(`${i % 2 ? servers.a.origin : servers.b.origin}/me`),
			),
		);
		expect(statuses(responses)).toEqual(Array(50).fill(200));
		expect(Object.fromEntries(servers.auth.byResource)).toEqual({
			[servers.a.origin]: 1,
			[servers.b.origin]: 1,
		});
		expect(servers.auth.reused).toBe(0);
		expect(servers.a.stats.unauthorized + servers.b.stats.unauthorized).toBe(0);
	});

	it('two sessions sharing a FileStore: still one token request per resource', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'resources-'));
		try {
			servers.auth.lifetimes.set(servers.a.origin, 1);
			servers.auth.lifetimes.set(servers.b.origin, 1);
			const token = servers.auth.signIn();
			const first = twoApiSession({ token, store: new FileStore({ dir }) });
			const second = twoApiSession({ store: new FileStore({ dir }) });
			await first.fetch(`${servers.a.origin}/me`);
			await first.fetch(`${servers.b.origin}/me`);
			await second.ready;
			await wait(1100);
			servers.auth.lifetimes.clear();
			servers.auth.byResource.clear();
			servers.auth.latency = 50;
			const responses = await Promise.all(
				Array.from({ length: 50 }, (_, i) =>
					(i % 4 < 2 ? first : second).fetch(`${i % 2 ? servers.a.origin : servers.b.origin}/me`),
				),
			);
			expect(statuses(responses)).toEqual(Array(50).fill(200));
			expect(Object.fromEntries(servers.auth.byResource)).toEqual({
				[servers.a.origin]: 1,
				[servers.b.origin]: 1,
			});
			expect(servers.auth.reused).toBe(0);
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});

	it('a refresh token rotated by one API refresh is the one the next uses, and is saved', async () => {
		const store = new MemoryStore();
		const signIn = servers.auth.signIn();
		const session = twoApiSession({ token: signIn, store });
		await session.fetch(`${servers.a.origin}/me`);
		const rotated = session.token?.refreshToken;
		expect(rotated).not.toBe(signIn.refresh_token);
		expect((await store.get('default'))?.token.refresh_token).toBe(rotated);
		await session.fetch(`${servers.b.origin}/me`);
		expect(servers.auth.reused).toBe(0);
		const record = await store.get('default');
		expect(Object.keys(record?.resources ?? {}).sort()).toEqual(
			[servers.a.origin, servers.b.origin].sort(),
		);
		expect(record?.resources?.[servers.a.origin]).not.toHaveProperty('refresh_token');
	});

	it('a session started on the record finds the resource tokens there', async () => {
		const store = new MemoryStore();
		const first = twoApiSession({ token: servers.auth.signIn(), store });
		await first.fetch(`${servers.a.origin}/me`);
		const later = twoApiSession({ store });
		await later.fetch(`${servers.a.origin}/me`);
		expect(servers.auth.byResource.get(servers.a.origin)).toBe(1);
	});

	it('getToken({ resource }) gives that API token; a foreign origin is refused', async () => {
		const session = twoApiSession({ token: servers.auth.signIn() });
		const token = await session.getToken({ resource: `${servers.b.origin}/any/path` });
		expect((await session.fetch(`${servers.b.origin}/me`)).status).toBe(200);
		expect(session.token?.accessToken).not.toBe(token.accessToken);
		await expect(session.getToken({ resource: 'https://elsewhere.example' })).rejects.toThrow(
			InvalidOptionsError,
		);
	});

	it('an origin in both resources and allowedOrigins is refused', () => {
		expect(() => twoApiSession({ allowedOrigins: [servers.a.origin] })).toThrow(
			/named twice in resources and allowedOrigins/,
		);
	});

	it('resource, audience and scope of an API are sent with its token request', async () => {
		const bodies: URLSearchParams[] = [];
		const session = twoApiSession({
			token: servers.auth.signIn(),
			resources: {
				[servers.a.origin]: { audience: ['aud-1', 'aud-2'], scope: ['read', 'write'] },
			},
			refreshParams: { extra: ['x', 'y'] },
			fetch: async (input, init) => {
				if (String(input) === servers.auth.tokenEndpoint) {
					bodies.push(new URLSearchParams(String(init?.body)));
				}
				return globalThis.fetch(input, init);
			},
		});
		await session.fetch(`${servers.a.origin}/me`);
		expect(bodies).toHaveLength(1);
		expect(bodies[0]?.getAll('audience')).toEqual(['aud-1', 'aud-2']);
		expect(bodies[0]?.getAll('resource')).toEqual([]);
		expect(bodies[0]?.get('scope')).toBe('read write');
		expect(bodies[0]?.getAll('extra')).toEqual(['x', 'y']);
	});

	it('authorizationUrl() asks for every resource, as repeated parameters', async () => {
		const session = twoApiSession({ authorizationEndpoint: `${servers.auth.origin}/authorize` });
		const { url } = await session.authorizationUrl();
		expect(new URL(url).searchParams.getAll('resource')).toEqual([
			servers.a.origin,
			servers.b.origin,
		]);
	});
});
