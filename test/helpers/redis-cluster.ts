/**
 * A real Redis Cluster for tests: three masters and three replicas (redis-server processes from
 * `startRedisServer`, so on 127.0.0.1, free ports, never outliving the test process), joined by
 * `redis-cli --cluster create`. A short `cluster-node-timeout` lets a replica take over within a
 * few seconds of its master's death.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { type RedisTestServer, startRedisServer } from './redis-server.js';

const run = promisify(execFile);

export interface RedisTestCluster {
	/** The six nodes, masters and replicas (which is which changes with a failover). */
	readonly nodes: readonly RedisTestServer[];
	/** What `new Cluster(...)` starts from: every node, as `host:port`. */
	readonly startupNodes: readonly { host: string; port: number }[];
	/** A Cluster client as a user would make one (with the `'error'` listener), closed by `stop()`. */
	client(): Cluster;
	/** The node that serves `name`'s slot now, and the replicas following it. */
	ownerOf(name: string): Promise<{ master: RedisTestServer; replicas: RedisTestServer[] }>;
	/** The masters that serve slots and have a running replica: those a failover can replace. */
	intactMasters(): Promise<RedisTestServer[]>;
	/** Resolves once every live node says `cluster_state:ok` and agrees on who serves each slot. */
	settled(timeoutMs?: number): Promise<void>;
	/** SIGKILL the node's redis-server: no shutdown, no last write to its replicas. */
	kill(node: RedisTestServer): Promise<void>;
	/**
	 * Sets `cluster-node-timeout` on every live node, in ms. A node resets its bus link to a peer
	 * silent for half of it, and pub/sub messages crossing that link are lost: a short one lets a
	 * failover happen within seconds, and drops messages on a starved machine.
	 */
	setNodeTimeout(ms: number): Promise<void>;
	/** SIGSTOP the node's redis-server for `ms`, then SIGCONT: a node starved on a loaded machine. */
	stall(node: RedisTestServer, ms: number): Promise<void>;
	/** The node's cluster bus links (`CLUSTER LINKS`): the peer's id and when the link was made, in ms. */
	busLinks(node: RedisTestServer): Promise<{ peer: string; createdAt: number }[]>;
	/** Ends every client made by `client()` and every node. */
	stop(): Promise<void>;
}

/**
 * Generous: six nodes start, shake hands and elect on a loaded 2-core machine. Polled, so a quick
 * machine is not held up.
 */
const SETTLE_TIMEOUT = 60_000;

/**
 * Starts six cluster-enabled redis-servers and makes them one Cluster with a replica per master.
 * `redisCli` is the path of redis-cli (from `requireBinary`).
 */
export async function startRedisCluster(
	redisServer: string,
	redisCli: string,
	{ nodeTimeoutMs = 1_000 }: { nodeTimeoutMs?: number } = {},
): Promise<RedisTestCluster> {
	const dir = mkdtempSync(join(tmpdir(), 'oauth2-session-cluster-'));
	const nodes: RedisTestServer[] = [];
	const admins = new Map<RedisTestServer, Redis>();
	const clients: Cluster[] = [];
	const admin = (node: RedisTestServer) => {
		let made = admins.get(node);
		if (made === undefined) {
			made = new Redis(node.port, '127.0.0.1', {
				lazyConnect: true,
				maxRetriesPerRequest: 1,
				retryStrategy: () => null,
			});
			made.on('error', () => {});
			admins.set(node, made);
		}
		return made;
	};
	const stop = async () => {
		for (const made of clients.splice(0)) made.disconnect();
		for (const made of admins.values()) made.disconnect();
		admins.clear();
		await Promise.all(nodes.map((node) => node.stop(2_000)));
		rmSync(dir, { recursive: true, force: true });
	};
	try {
		for (let i = 0; i < 6; i++) {
			nodes.push(
				await startRedisServer(redisServer, [
					'--cluster-enabled',
					'yes',
					'--cluster-config-file',
					join(dir, `nodes-${i}.conf`),
					'--cluster-node-timeout',
					String(nodeTimeoutMs),
					// A replica whose master died may take over even if it lagged: the test is about
					// what a failover loses, and a refused promotion would only hide it.
					'--cluster-replica-validity-factor',
					'0',
				]),
			);
		}
		await run(
			redisCli,
			[
				'--cluster',
				'create',
				...nodes.map((node) => `127.0.0.1:${node.port}`),
				'--cluster-replicas',
				'1',
				'--cluster-yes',
			],
			{ timeout: SETTLE_TIMEOUT },
		);
	} catch (error) {
		await stop();
		throw error;
	}

	/** `CLUSTER NODES` as one node sees it: who is master of which slots, who follows whom. */
	const view = async (node: RedisTestServer) => {
		const text = (await admin(node).call('CLUSTER', 'NODES')) as string;
		return text
			.trim()
			.split('\n')
			.map((line) => {
				const [id, address, flags, masterId, , , , link, ...slots] = line.split(' ');
				return {
					id: id as string,
					port: Number((address as string).split(/[:@]/)[1]),
					flags: (flags as string).split(','),
					masterId: masterId as string,
					connected: link === 'connected',
					slots,
				};
			});
	};
	const live = () => nodes.filter((node) => node.running);
	const pidOf = async (node: RedisTestServer) => {
		const info = (await admin(node).info('server')) as string;
		return Number(/process_id:(\d+)/.exec(info)?.[1]);
	};
	const byPort = (port: number) => nodes.find((node) => node.port === port);

	const ownerOf = async (name: string) => {
		const [first] = live();
		if (first === undefined) throw new Error('no node is running');
		const slot = (await admin(first).call('CLUSTER', 'KEYSLOT', name)) as number;
		const entries = await view(first);
		const owner = entries.find(
			(entry) =>
				entry.flags.includes('master') &&
				!entry.flags.includes('fail') &&
				entry.slots.some((range) => {
					const [from, to = from] = range.split('-').map(Number);
					return (from as number) <= slot && slot <= (to as number);
				}),
		);
		const master = owner === undefined ? undefined : byPort(owner.port);
		if (owner === undefined || master === undefined) throw new Error(`no master serves ${name}`);
		const replicas = entries
			.filter((entry) => entry.masterId === owner.id)
			.map((entry) => byPort(entry.port))
			.filter((node): node is RedisTestServer => node?.running === true);
		return { master, replicas };
	};

	const intactMasters = async () => {
		const [first] = live();
		if (first === undefined) return [];
		const entries = await view(first);
		return entries
			.filter((e) => e.flags.includes('master') && !e.flags.includes('fail') && e.slots.length > 0)
			.filter((master) =>
				entries.some((e) => e.masterId === master.id && byPort(e.port)?.running === true),
			)
			.map((master) => byPort(master.port))
			.filter((node): node is RedisTestServer => node?.running === true);
	};

	const settled = async (timeoutMs = SETTLE_TIMEOUT) => {
		const deadline = Date.now() + timeoutMs;
		let last = '';
		for (;;) {
			try {
				const ready = await Promise.all(
					live().map(async (node) => {
						const info = (await admin(node).call('CLUSTER', 'INFO')) as string;
						const entries = await view(node);
						const masters = entries
							.filter((e) => e.flags.includes('master') && !e.flags.includes('fail'))
							.filter((e) => e.slots.length > 0)
							.map((e) => `${e.port}:${e.slots.join(',')}`)
							.sort()
							.join(' ');
						// A replica that has not synced with its master could not take over.
						const replication = (await admin(node).info('replication')) as string;
						const synced =
							!/role:slave/.test(replication) || /master_link_status:up/.test(replication);
						return { ok: /cluster_state:ok/.test(info) && synced, masters };
					}),
				);
				const views = new Set(ready.map((r) => r.masters));
				if (ready.every((r) => r.ok) && views.size === 1) return;
				last = JSON.stringify(ready);
			} catch (error) {
				last = String(error);
			}
			if (Date.now() > deadline) throw new Error(`the cluster did not settle: ${last}`);
			await new Promise((resolve) => setTimeout(resolve, 200));
		}
	};

	try {
		await settled();
	} catch (error) {
		await stop();
		throw error;
	}

	return {
		nodes,
		startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
		client() {
			const made = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: node.port })));
			made.on('error', () => {});
			clients.push(made);
			return made;
		},
		ownerOf,
		intactMasters,
		settled,
		async kill(node) {
			process.kill(await pidOf(node), 'SIGKILL');
			// Reaps the process and ends its watchdog.
			await node.stop(0);
			admin(node).disconnect();
		},
		async setNodeTimeout(ms) {
			await Promise.all(
				live().map((node) => admin(node).call('CONFIG', 'SET', 'cluster-node-timeout', String(ms))),
			);
		},
		async stall(node, ms) {
			const pid = await pidOf(node);
			process.kill(pid, 'SIGSTOP');
			try {
				await new Promise((resolve) => setTimeout(resolve, ms));
			} finally {
				process.kill(pid, 'SIGCONT');
			}
		},
		async busLinks(node) {
			// Each link is a flat list of field, value pairs.
			const links = (await admin(node).call('CLUSTER', 'LINKS')) as unknown[][];
			return links.map((link) => {
				const field = (name: string) => link[link.indexOf(name) + 1];
				return { peer: String(field('node')), createdAt: Number(field('create-time')) };
			});
		},
		stop,
	};
}
