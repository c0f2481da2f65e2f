import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StorageError } from '../../src/errors/index.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { PostgresStore } from '../../src/storage/postgres.js';
import { type CuttableProxy, startCuttableProxy } from '../helpers/cuttable-proxy.js';
import {
	type OAuthTestServer,
	startOAuthServer,
	type TokenAnswer,
} from '../helpers/oauth-server.js';
import {
	type PostgresTestServer,
	requirePostgres,
	startPostgresServer,
} from '../helpers/postgres-server.js';
import { sessionOn } from '../helpers/session.js';
import { eventually, recordOf } from '../helpers/store-outage.js';

const postgres = requirePostgres();
const TABLE = 'restart_tokens';

describe.skipIf(postgres.missing)(
	postgres.title('PostgresStore: the database unreachable, then back'),
	() => {
		let database: PostgresTestServer;
		let server: OAuthTestServer;
		let proxy: CuttableProxy;
		/** A store of another context, connected directly: it stays up. */
		let other: PostgresStore;
		const stores: PostgresStore[] = [];
		const sessions: OAuth2Session[] = [];
		let keys = 0;

		/** A session whose store reaches the database through the proxy, holding `token`. */
		const sessionWith = async (token: TokenAnswer) => {
			const url = new URL(database.url);
			url.port = String(proxy.port);
			const store = new PostgresStore({
				connectionString: url.href,
				table: TABLE,
				commandTimeout: 1_000,
			});
			stores.push(store);
			const key = `restart-${++keys}`;
			const s = sessionOn(server, token, { store, storeKey: key });
			sessions.push(s);
			await s.ready;
			const errors: { error: StorageError; operation: string }[] = [];
			s.on('storeError', (event) => errors.push(event));
			return { s, key, errors };
		};
		const storedAccessToken = async (key: string) => (await other.get(key))?.token?.access_token;

		beforeAll(async () => {
			[database, server] = await Promise.all([
				startPostgresServer(postgres.path as string),
				startOAuthServer(),
			]);
			proxy = await startCuttableProxy(database.port);
			other = new PostgresStore({ connectionString: database.url, table: TABLE });
			await other.migrate();
		}, 60_000);
		afterEach(async () => {
			for (const made of sessions.splice(0)) made.close();
			await Promise.all(stores.splice(0).map((store) => store.close()));
			await proxy.restore();
			server.resetStats();
		});
		afterAll(async () => {
			await other?.close();
			await proxy?.close();
			await Promise.all([database?.stop(), server?.close()]);
		});

		it('a token set while the database was unreachable replaces the one it kept, once it is back', async () => {
			const first = server.issue();
			const { s, key, errors } = await sessionWith(first);
			expect(await storedAccessToken(key)).toBe(first.access_token);
			await proxy.cut();
			const second = server.issue();
			await s.setToken(second);
			expect(errors.map((e) => [e.operation, e.error.problem])).toEqual([['set', 'unavailable']]);
			expect(await storedAccessToken(key)).toBe(first.access_token);

			await proxy.restore();
			expect((await s.fetch(`${server.origin}/api/back`)).status).toBe(200);
			await eventually(
				'the token set while down saved',
				async () => (await storedAccessToken(key)) === second.access_token,
			);
			expect(errors).toHaveLength(1);
		}, 60_000);

		it('a token another context wrote meanwhile is not overwritten: the conflict is reported and that token used', async () => {
			const first = server.issue();
			const { s, key, errors } = await sessionWith(first);
			await proxy.cut();
			server.revokeAccessTokens();
			const statuses = await Promise.all(
				Array.from({ length: 3 }, (_, i) =>
					s.fetch(`${server.origin}/api/down/${i}`).then((r) => r.status),
				),
			);
			expect(statuses).toEqual([200, 200, 200]);
			expect(server.stats.tokenRequests).toBe(1);
			const refreshed = s.token?.accessToken as string;
			const third = server.issue();
			await other.set(key, recordOf(third));

			await proxy.restore();
			expect((await s.fetch(`${server.origin}/api/back`)).status).toBe(200);
			await eventually('the conflict reported', () =>
				errors.some((e) => e.error.problem === 'conflict'),
			);
			const conflict = errors.find((e) => e.error.problem === 'conflict') as (typeof errors)[0];
			expect(conflict.operation).toBe('set');
			expect(conflict.error).toMatchObject({ name: 'StorageError', key });
			expect(conflict.error.message).not.toContain(refreshed);
			expect(await storedAccessToken(key)).toBe(third.access_token);
			await eventually('that token used', () => s.token?.accessToken === third.access_token);
			expect((await s.fetch(`${server.origin}/api/after`)).status).toBe(200);
			expect(server.stats.tokenRequests).toBe(1);
		}, 60_000);
	},
);
