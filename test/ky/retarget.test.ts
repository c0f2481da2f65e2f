// A user's beforeRequest hook may point the request elsewhere (return a new Request) after the
// session's hooks attached the token: the origin is checked again in the fetch that sends it.
import ky, { type BeforeRequestHook } from 'ky';
import { describe, expect, it } from 'vitest';
import { OriginNotAllowedError } from '../../src/errors/index.js';
import { createKy, oauth2Fetch, oauth2Hooks } from '../../src/ky.js';
import { twoOrigins } from '../helpers/two-origins.js';
import { rejection, sessionOn } from './clients.js';

// `api` is allowed, `other` is not.
const servers = twoOrigins();

/** A hook that sends the request to the other origin, headers and all. */
const elsewhere: BeforeRequestHook = ({ request }) =>
	new Request(`${servers.other.origin}/elsewhere/moved`, request);

describe('a hook after the session hooks that points the request elsewhere', () => {
	it('createKy: refused by session.fetch, the other origin sees no token', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const client = createKy(session, { retry: 0 }).extend({
			hooks: { beforeRequest: [elsewhere] },
		});
		const error = await rejection(client.get(`${servers.api.origin}/api/me`));
		expect(error).toBeInstanceOf(OriginNotAllowedError);
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('oauth2Hooks with oauth2Fetch: refused before sending, the other origin sees nothing', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const client = ky
			.create({ retry: 0, fetch: oauth2Fetch(session) })
			.extend({ hooks: oauth2Hooks(session) })
			.extend({ hooks: { beforeRequest: [elsewhere] } });
		const error = await rejection(client.get(`${servers.api.origin}/api/me`));
		expect(error).toBeInstanceOf(OriginNotAllowedError);
		expect((error as OriginNotAllowedError).origin).toBe(servers.other.origin);
		expect(servers.other.stats.leaked).toEqual([]);
		// The same instance still sends to the allowed origin, with the token.
		const allowed = ky
			.create({ fetch: oauth2Fetch(session) })
			.extend({ hooks: oauth2Hooks(session) });
		expect(await allowed.get(`${servers.api.origin}/api/me`).json()).toMatchObject({ ok: true });
	});

	it('oauth2Fetch wraps the fetch it is given, and lets through what carries no token', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const sent: string[] = [];
		const counting: typeof fetch = (input, init) => {
			sent.push(input instanceof Request ? input.url : String(input));
			return fetch(input, init);
		};
		const guarded = oauth2Fetch(session, counting);
		const other = `${servers.other.origin}/elsewhere/plain`;
		expect(await (await guarded(other)).json()).toEqual({ authorization: null });
		await expect(
			guarded(other, { headers: { authorization: 'Bearer stolen' } }),
		).rejects.toBeInstanceOf(OriginNotAllowedError);
		await expect(
			guarded(new Request(other, { headers: { authorization: 'Bearer stolen' } })),
		).rejects.toBeInstanceOf(OriginNotAllowedError);
		expect(sent).toEqual([other]);
		expect(servers.other.stats.leaked).toEqual([]);
	});

	it('the ordering rule: oauth2Hooks after the hook that moves the request checks where it goes', async () => {
		const session = sessionOn(servers.api, servers.api.issue());
		const client = ky
			.create({ retry: 0, hooks: { beforeRequest: [elsewhere] } })
			.extend({ hooks: oauth2Hooks(session) });
		const error = await rejection(client.get(`${servers.api.origin}/api/me`));
		expect(error).toBeInstanceOf(OriginNotAllowedError);
		expect(servers.other.stats.leaked).toEqual([]);
	});
});
