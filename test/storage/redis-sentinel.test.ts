import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { RedisStore } from '../../src/storage/redis.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';
import { type RedisTestSentinel, startRedisSentinel } from '../helpers/redis-sentinel.js';
import { command } from '../helpers/redis-server.js';
import { requireBinary, requireRedisServer } from '../helpers/requirements.js';
import { sessionOn } from '../helpers/session.js';

const redisServer = requireRedisServer();
const redisSentinel = requireBinary('redis-sentinel', 'apt-get install redis-sentinel', [
	'/usr/bin/redis-sentinel',
]);

describe.skipIf(redisServer.missing || redisSentinel.missing)(
	redisSentinel.title('RedisStore on an ioredis Sentinel client'),
	() => {
		let sentinel: RedisTestSentinel;
		let server: OAuthTestServer;
		const clients: Redis[] = [];
		const stores: RedisStore[] = [];
		const sessions: OAuth2Session[] = [];

		beforeAll(async () => {
			[sentinel, server] = await Promise.all([
				startRedisSentinel(redisServer.path as string, redisSentinel.path as string),
				startOAuthServer(),
			]);
		}, 120_000);
		afterAll(async () => {
			for (const made of sessions.splice(0)) made.close();
			await Promise.all(stores.splice(0).map((store) => store.close()));
			for (const made of clients.splice(0)) made.disconnect();
			await Promise.all([sentinel?.stop(), server?.close()]);
		});

		/** A store on a Sentinel client, as a user would configure one. */
		const store = () => {
			const client = new Redis({
				sentinels: [{ host: '127.0.0.1', port: sentinel.sentinel.port }],
				name: sentinel.name,
			});
			client.on('error', () => {});
			clients.push(client);
			const made = new RedisStore({ client });
			stores.push(made);
			return made;
		};
		const expire = (s: RedisStore, key: string, accessToken: string, refreshToken: string) =>
			s.set(
				key,
				encodeStoredRecord(new Token({ accessToken, refreshToken, expiresAt: Date.now() - 1_000 })),
			);

		it('a master switch (SENTINEL FAILOVER): the session keeps working, refreshes once, on the new master', async () => {
			const [a, b] = [store(), store()];
			const issued = server.issue();
			await expire(a, 'user', issued.access_token, issued.refresh_token);
			const sessionA = sessionOn(server, undefined, { store: a, storeKey: 'user' });
			const sessionB = sessionOn(server, undefined, { store: b, storeKey: 'user' });
			sessions.push(sessionA, sessionB);
			const api = (s: OAuth2Session, i: number) =>
				s.fetch(`${server.origin}/api/sentinel/${i}`).then((r) => r.status);
			const round = () =>
				Promise.all([sessionA, sessionB].flatMap((s) => [0, 1, 2].map((i) => api(s, i))));

			expect(await round()).toEqual(Array(6).fill(200));
			expect(server.stats.tokenRequests).toBe(1);
			const before = await sentinel.masterPort();

			const after = await sentinel.failover();
			expect(after).not.toBe(before);
			// The server drops the token: the 401s make one refresh, under a lock on the new master.
			server.revokeAccessTokens();
			expect(await round()).toEqual(Array(6).fill(200));
			expect(server.stats.tokenRequests).toBe(2);
			expect(sessionA.token?.accessToken).toBe(sessionB.token?.accessToken);
			const stored = await command(
				after,
				['GET', a.keysFor('user').record],
				/access_token":"([^"]+)"/,
			);
			expect(stored[1]).toBe(sessionA.token?.accessToken);
		}, 120_000);
	},
);
