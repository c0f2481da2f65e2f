/**
 * A Redis Sentinel set-up for tests: a master, a replica following it, and one redis-sentinel
 * watching them under `name` (quorum 1), all from `startRedisServer` (127.0.0.1, free ports,
 * never outliving the test process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type RedisTestServer, startRedisServer } from './redis-server.js';

export interface RedisTestSentinel {
	/** The name Sentinel knows the master by (ioredis's `name` option). */
	readonly name: string;
	readonly sentinel: RedisTestServer;
	/** The servers: the first starts as master, the second as its replica. */
	readonly servers: readonly [RedisTestServer, RedisTestServer];
	/** The port Sentinel gives as the master's now. */
	masterPort(): Promise<number>;
	/**
	 * `SENTINEL FAILOVER <name>`, once Sentinel knows a synced replica; resolves with the new
	 * master's port when Sentinel names it, it says it is master, and the old master follows it.
	 * (Until then the old master still takes writes, which the switch throws away.)
	 */
	failover(timeoutMs?: number): Promise<number>;
	/** Ends every process. */
	stop(): Promise<void>;
}

const poll = async <T>(
	what: string,
	probe: () => Promise<T | undefined>,
	timeoutMs: number,
): Promise<T> => {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const value = await probe();
			if (value !== undefined) return value;
		} catch (error) {
			last = error;
		}
		if (Date.now() > deadline) throw new Error(`${what} did not happen: ${String(last ?? '')}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
};

/** Starts the master, its replica and a Sentinel; `redisSentinel` is redis-sentinel's path. */
export async function startRedisSentinel(
	redisServer: string,
	redisSentinel: string,
	name = 'oauth2-session-test',
): Promise<RedisTestSentinel> {
	const dir = mkdtempSync(join(tmpdir(), 'oauth2-session-sentinel-'));
	const started: RedisTestServer[] = [];
	const admins: Redis[] = [];
	const admin = (port: number) => {
		const made = new Redis(port, '127.0.0.1', {
			maxRetriesPerRequest: 1,
			retryStrategy: () => null,
		});
		made.on('error', () => {});
		admins.push(made);
		return made;
	};
	const stop = async () => {
		for (const made of admins.splice(0)) made.disconnect();
		await Promise.all(started.map((server) => server.stop(2_000)));
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		const master = await startRedisServer(redisServer);
		started.push(master);
		const replica = await startRedisServer(redisServer, [
			'--replicaof',
			'127.0.0.1',
			String(master.port),
		]);
		started.push(replica);
		const config = join(dir, 'sentinel.conf');
		// Sentinel rewrites its file as it learns the set-up, so it is one of our own.
		writeFileSync(
			config,
			[
				`sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
				`sentinel down-after-milliseconds ${name} 1000`,
				`sentinel failover-timeout ${name} 10000`,
				'',
			].join('\n'),
		);
		const sentinel = await startRedisServer(redisSentinel, ['--sentinel'], config);
		started.push(sentinel);
		const control = admin(sentinel.port);
		const masterPort = async () => {
			const [, port] = (await control.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [
				string,
				string,
			];
			return Number(port);
		};
		return {
			name,
			sentinel,
			servers: [master, replica],
			masterPort,
			async failover(timeoutMs = 60_000) {
				const before = await masterPort();
				const next = started.find((s) => s !== sentinel && s.port !== before) as RedisTestServer;
				await poll(
					'the replica syncing',
					async () =>
						/master_link_status:up/.test(await admin(next.port).info('replication'))
							? true
							: undefined,
					timeoutMs,
				);
				// NOGOODSLAVE until Sentinel has seen the replica in the master's INFO.
				await poll(
					'SENTINEL FAILOVER',
					async () => (await control.call('SENTINEL', 'FAILOVER', name)) as string,
					timeoutMs,
				);
				const follows = new RegExp(`role:slave[\\s\\S]*master_port:${next.port}\\b`);
				return poll(
					'the switch',
					async () =>
						(await masterPort()) === next.port &&
						/role:master/.test(await admin(next.port).info('replication')) &&
						follows.test(await admin(before).info('replication'))
							? next.port
							: undefined,
					timeoutMs,
				);
			},
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}
