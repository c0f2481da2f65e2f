/**
 * The ky entry with `resources` (RFC 8707): each API's requests carry that API's token, through
 * `createKy()` and through a user's own instance with `oauth2Hooks()` alike.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { oauth2Fetch } from '../../src/ky.js';
import { type ResourceServers, useResourceServers } from '../helpers/resource-servers.js';
import { kinds, kyFor, rejection } from './clients.js';

const fixture = useResourceServers();
const { twoApiSession } = fixture;
let servers: ResourceServers;
beforeAll(() => {
	servers = fixture.servers();
});

describe.each(kinds)('ky (%s) with resources', (kind) => {
	it('each API gets its own token; 40 concurrent requests over both make 1 token request each', async () => {
		const session = twoApiSession({ token: servers.auth.signIn() });
		const api = kyFor(kind, session, { retry: 0 });
		const bodies = await Promise.all(
			Array.from({ length: 40 }, (_, i) =>
				api.get(`${i % 2 ? servers.a.origin : servers.b.origin}/me`).json<{ audience: string }>(),
			),
		);
		expect(bodies.map((body) => body.audience)).toEqual(
			Array.from({ length: 40 }, (_, i) => (i % 2 ? servers.a.origin : servers.b.origin)),
		);
		expect(Object.fromEntries(servers.auth.byResource)).toEqual({
			[servers.a.origin]: 1,
			[servers.b.origin]: 1,
		});
		expect(servers.a.stats.foreign + servers.b.stats.foreign).toBe(0);
		expect(servers.auth.reused).toBe(0);
	});

	it('the session token goes to allowedOrigins only, a resource token to its API only', async () => {
		const session = twoApiSession({
			token: servers.auth.signIn(servers.a.origin),
			resources: { [servers.b.origin]: {} },
			allowedOrigins: [servers.a.origin],
		});
		const api = kyFor(kind, session, { retry: 0 });
		expect((await api.get(`${servers.a.origin}/me`)).status).toBe(200);
		expect((await api.get(`${servers.b.origin}/me`)).status).toBe(200);
		expect(Object.fromEntries(servers.auth.byResource)).toEqual({ [servers.b.origin]: 1 });
		expect(servers.a.stats.foreign + servers.b.stats.foreign).toBe(0);
	});

	it('a resource token revoked at its API: the 401 refreshes that token only, and is retried once', async () => {
		const session = twoApiSession({ token: servers.auth.signIn() });
		const api = kyFor(kind, session, { retry: { limit: 1 } });
		await api.get(`${servers.a.origin}/me`);
		await api.get(`${servers.b.origin}/me`);
		const before = Object.fromEntries(servers.auth.byResource);
		servers.auth.revoke(servers.a.origin);
		expect((await api.get(`${servers.a.origin}/me`)).status).toBe(200);
		expect(servers.auth.byResource.get(servers.a.origin)).toBe((before[servers.a.origin] ?? 0) + 1);
		expect(servers.auth.byResource.get(servers.b.origin)).toBe(before[servers.b.origin]);
		expect(servers.a.stats.unauthorized).toBe(1);
		expect(servers.auth.reused).toBe(0);
	});

	it('an origin in neither list is refused before anything is sent', async () => {
		const session = twoApiSession({ token: servers.auth.signIn() });
		const api = kyFor(kind, session, { retry: 0 });
		const error = await rejection(api.get('http://127.0.0.1:1/elsewhere'));
		expect(error).toMatchObject({ name: 'OriginNotAllowedError' });
		expect(servers.auth.byResource.size).toBe(0);
	});
});

describe('oauth2Fetch with resources', () => {
	it('lets a resource API have an Authorization header, and still refuses other origins', async () => {
		const session = twoApiSession({ token: servers.auth.signIn() });
		const send = oauth2Fetch(session, async () => new Response('sent'));
		const headers = { authorization: 'Bearer x' };
		expect(await (await send(`${servers.b.origin}/me`, { headers })).text()).toBe('sent');
		await expect(send('http://127.0.0.1:1/elsewhere', { headers })).rejects.toMatchObject({
			name: 'OriginNotAllowedError',
		});
	});
});
