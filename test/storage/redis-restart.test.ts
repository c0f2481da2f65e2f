import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StorageError } from '../../src/errors/index.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { RedisStore } from '../../src/storage/redis.js';
import { startCuttableProxy } from '../helpers/cuttable-proxy.js';
import {
	type OAuthTestServer,
	startOAuthServer,
	type TokenAnswer,
} from '../helpers/oauth-server.js';
import { command, type RedisTestServer, startRedisServer } from '../helpers/redis-server.js';
import { requireRedisServer } from '../helpers/requirements.js';
import { sessionOn } from '../helpers/session.js';
import { eventually, recordOf } from '../helpers/store-outage.js';

const redisServer = requireRedisServer();

describe.skipIf(redisServer.missing)(
	redisServer.title('RedisStore: Redis stopped and started again'),
	() => {
		let server: OAuthTestServer;
		let redis: RedisTestServer | undefined;
		const stores: RedisStore[] = [];
		const sessions: OAuth2Session[] = [];
		const dirs: string[] = [];

		const storeFor = (url = (redis as RedisTestServer).url) => {
			const store = new RedisStore({ url, commandTimeout: 500 });
			stores.push(store);
			return store;
		};
		/** A session on its own store, holding `token`, with its storeError events collected. */
		const sessionWith = async (token: TokenAnswer, url?: string) => {
			const store = storeFor(url);
			const s = sessionOn(server, token, { store, storeKey: 'restart' });
			sessions.push(s);
			await s.ready;
			const errors: { error: StorageError; operation: string }[] = [];
			s.on('storeError', (event) => errors.push(event));
			return { s, store, errors };
		};
		/** Takes Redis away, has the server revoke the token, and sends requests: one unlocked refresh. */
		const refreshWhileDown = async (
			s: OAuth2Session,
			first: TokenAnswer,
			down = () => (redis as RedisTestServer).stop(),
		) => {
			await down();
			server.revokeAccessTokens();
			const statuses = await Promise.all(
				Array.from({ length: 5 }, (_, i) =>
					s.fetch(`${server.origin}/api/down/${i}`).then((r) => r.status),
				),
			);
			expect(statuses).toEqual(Array(5).fill(200));
			expect(server.stats.tokenRequests).toBe(1);
			const refreshed = s.token?.accessToken as string;
			expect(refreshed).not.toBe(first.access_token);
			return refreshed;
		};
		/** Whether the session's subscribing connection is back on the record's channel. */
		const subscribed = async (store: RedisStore) => {
			const { channel } = store.keysFor('restart');
			const reply = await command(
				(redis as RedisTestServer).port,
				['PUBSUB', 'NUMSUB', channel],
				/:(\d+)\r\n/,
			);
			return Number(reply[1]) > 0;
		};
		const storedAccessToken = async (reader: RedisStore) =>
			(await reader.get('restart'))?.token?.access_token;

		beforeAll(async () => {
			server = await startOAuthServer();
		});
		afterEach(async () => {
			for (const made of sessions.splice(0)) made.close();
			await Promise.all(stores.splice(0).map((store) => store.close()));
			await redis?.stop();
			redis = undefined;
			await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
			server.resetStats();
		});
		afterAll(async () => {
			await server?.close();
		});

		it('without persistence: the refresh made while it was down is saved when it is back, and a token written after is adopted without a refresh', async () => {
			redis = await startRedisServer(redisServer.path as string);
			const first = server.issue();
			const { s, store, errors } = await sessionWith(first);
			const refreshed = await refreshWhileDown(s, first);
			expect(errors.map((e) => [e.operation, e.error.problem])).toEqual([
				['lock', 'unavailable'],
				['set', 'unavailable'],
			]);

			await redis.restart();
			const other = storeFor();
			// This Redis kept nothing: the session saves what it holds, on a request or its retry timer.
			expect((await s.fetch(`${server.origin}/api/back`)).status).toBe(200);
			await eventually(
				'the refreshed token saved',
				async () => (await storedAccessToken(other)) === refreshed,
			);

			// The session subscribed again: another process's write reaches it without a refresh.
			await eventually('the session subscribed again', () => subscribed(store));
			const third = server.issue();
			await other.set('restart', recordOf(third));
			await eventually(
				'the written token adopted',
				() => s.token?.accessToken === third.access_token,
			);
			expect((await s.fetch(`${server.origin}/api/after`)).status).toBe(200);
			expect(server.stats.tokenRequests).toBe(1);
			expect(errors).toHaveLength(2);
		}, 60_000);

		it('with persistence: a token set while it was down replaces the one Redis kept, once it is back', async () => {
			const dir = await mkdtemp(join(tmpdir(), 'redis-aof-'));
			dirs.push(dir);
			redis = await startRedisServer(redisServer.path as string, [
				'--appendonly',
				'yes',
				'--dir',
				dir,
			]);
			const first = server.issue();
			const { s, errors } = await sessionWith(first);
			await redis.stop();
			const second = server.issue();
			await s.setToken(second);
			expect(errors.map((e) => [e.operation, e.error.problem])).toEqual([['set', 'unavailable']]);

			await redis.restart();
			const other = storeFor();
			// Redis kept the record it had (unless the session's retry timer already replaced it):
			// the write made meanwhile replaces it, and nothing else is ever there.
			expect([first.access_token, second.access_token]).toContain(await storedAccessToken(other));
			expect((await s.fetch(`${server.origin}/api/back`)).status).toBe(200);
			await eventually(
				'the token set while down saved',
				async () => (await storedAccessToken(other)) === second.access_token,
			);
			expect(s.token?.accessToken).toBe(second.access_token);
			expect(server.stats.tokenRequests).toBe(0);
			expect(errors).toHaveLength(1);
		}, 60_000);

		it('a token another process wrote while this one could not reach Redis is not overwritten: the conflict is reported and that token used', async () => {
			redis = await startRedisServer(redisServer.path as string);
			// A link that can be cut: this session loses Redis while another process still reaches it.
			const link = await startCuttableProxy(redis.port);
			try {
				const first = server.issue();
				const { s, errors } = await sessionWith(first, `redis://127.0.0.1:${link.port}`);
				const refreshed = await refreshWhileDown(s, first, () => link.cut());
				const other = storeFor();
				const third = server.issue();
				// Published too, while this session is not there to hear it.
				await other.set('restart', recordOf(third));

				await link.restore();
				expect((await s.fetch(`${server.origin}/api/back`)).status).toBe(200);
				await eventually('the conflict reported', () => errors.length > 2);
				const conflict = errors[2] as { error: StorageError; operation: string };
				expect(conflict.operation).toBe('set');
				expect(conflict.error).toMatchObject({
					name: 'StorageError',
					problem: 'conflict',
					key: 'restart',
				});
				expect(conflict.error.message).not.toContain(refreshed);
				expect(conflict.error.message).not.toContain(third.access_token);
				expect(await storedAccessToken(other)).toBe(third.access_token);
				expect(s.token?.accessToken).toBe(third.access_token);
				expect((await s.fetch(`${server.origin}/api/after`)).status).toBe(200);
				expect(server.stats.tokenRequests).toBe(1);
				expect(errors).toHaveLength(3);
			} finally {
				await link.close();
			}
		}, 60_000);

		it('a logout in another process while this one could not reach Redis is not undone: the replay writes nothing and the session ends here too', async () => {
			redis = await startRedisServer(redisServer.path as string);
			const link = await startCuttableProxy(redis.port);
			try {
				const first = server.issue();
				const { s, errors } = await sessionWith(first, `redis://127.0.0.1:${link.port}`);
				const ended: unknown[] = [];
				s.on('sessionEnded', (event) => ended.push(event));
				await refreshWhileDown(s, first, () => link.cut());
				const other = await sessionWith(first);
				await other.s.logout();
				expect(await storedAccessToken(other.store)).toBeUndefined();

				await link.restore();
				await s.fetch(`${server.origin}/api/back`).catch(() => {});
				await eventually('the session ended here too', () => ended.length > 0);
				expect(await storedAccessToken(other.store)).toBeUndefined();
				expect(s.token).toBeUndefined();
				expect(errors.map((e) => e.error.problem)).toEqual(['unavailable', 'unavailable']);
			} finally {
				await link.close();
			}
		}, 60_000);
	},
);
