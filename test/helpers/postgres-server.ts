/**
 * A real PostgreSQL cluster for tests: made by `initdb` in a temporary directory, listening on
 * 127.0.0.1 and a free port only, with a password (so tests can check it never leaks), and never
 * outliving the test process (a watchdog ends it, and removes its directory, when our end of its
 * stdin closes, which happens even when the test process is killed).
 *
 * PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user, who owns
 * its directory and runs `initdb` and the server.
 */
import { execFile } from 'node:child_process';
import {
	chownSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	realpathSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type BinaryRequirement, requireBinary } from './requirements.js';
import { freePort, spawnWatched } from './server-process.js';

export interface PostgresTestServer {
	readonly port: number;
	/** `postgres://postgres:<password>@127.0.0.1:<port>/postgres` */
	readonly url: string;
	/** The password of the `postgres` user, which the url holds. */
	readonly password: string;
	/** Whether the server process is still running. */
	readonly running: boolean;
	/** Stops the server (fast shutdown: clients are disconnected) and removes its directory. */
	stop(graceMs?: number): Promise<void>;
}

/**
 * `initdb`, found on PATH or where Debian and Ubuntu put it (`/usr/lib/postgresql/<major>/bin`,
 * newest major first). The server binary is taken from the same directory.
 */
export function requirePostgres(): BinaryRequirement {
	let majors: string[] = [];
	try {
		majors = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
	} catch {
		// No Debian layout.
	}
	return requireBinary(
		'initdb',
		'apt-get install postgresql',
		majors.map((major) => `/usr/lib/postgresql/${major}/bin/initdb`),
	);
}

const STARTUP_TIMEOUT = 30_000;

/** Makes a cluster with `initdb` (the path from `requirePostgres`) and starts it. */
export async function startPostgresServer(initdb: string): Promise<PostgresTestServer> {
	const bin = dirname(realpathSync(initdb));
	const dir = mkdtempSync('/tmp/oauth2-session-pg-');
	const data = join(dir, 'data');
	const password = `pg-secret-${Math.random().toString(36).slice(2)}`;
	const user = runAs();
	try {
		writeFileSync(join(dir, 'pwfile'), password);
		if (user !== undefined) {
			chownSync(dir, user.uid, user.gid);
			chownSync(join(dir, 'pwfile'), user.uid, user.gid);
		}
		await promisify(execFile)(
			join(bin, 'initdb'),
			[
				'-D',
				data,
				'-U',
				'postgres',
				`--pwfile=${join(dir, 'pwfile')}`,
				'--auth-host=scram-sha-256',
				'--auth-local=trust',
				'--no-sync',
				'--encoding=UTF8',
				'--no-locale',
			],
			{ ...user, cwd: dir, env: { ...process.env, LC_ALL: 'C' } },
		);
		rmSync(join(dir, 'pwfile'));
	} catch (error) {
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	let lastError: unknown;
	// Another process may take the free port between our probe and the server's bind.
	for (let attempt = 0; attempt < 5; attempt++) {
		try {
			return await launch(join(bin, 'postgres'), dir, data, await freePort(), password, user);
		} catch (error) {
			lastError = error;
		}
	}
	rmSync(dir, { recursive: true, force: true });
	throw lastError;
}

async function launch(
	binary: string,
	dir: string,
	data: string,
	port: number,
	password: string,
	user: { uid: number; gid: number } | undefined,
): Promise<PostgresTestServer> {
	const server = spawnWatched(
		binary,
		[
			'-D',
			data,
			'-p',
			String(port),
			'-c',
			'listen_addresses=127.0.0.1',
			'-c',
			`unix_socket_directories=${dir}`,
			'-c',
			'fsync=off',
			'-c',
			'synchronous_commit=off',
			'-c',
			'full_page_writes=off',
			'-c',
			'max_connections=200',
		],
		{
			stopSignal: 'INT',
			// Then the data directory goes too, however this process ended.
			afterExit: 'rm -rf "$PGTEST_DIR"',
			spawn: { cwd: dir, env: { ...process.env, PGTEST_DIR: dir, LC_ALL: 'C' }, ...user },
		},
	);

	const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
	const deadline = Date.now() + STARTUP_TIMEOUT;
	while (!(await answers(url))) {
		if (server.exited || Date.now() > deadline) {
			server.kill();
			throw new Error(`postgres did not start on port ${port}:\n${server.output()}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}

	return {
		port,
		url,
		password,
		get running() {
			return !server.exited;
		},
		async stop(graceMs = 10_000) {
			await server.stop(graceMs);
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

async function answers(url: string): Promise<boolean> {
	const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
	client.on('error', () => {});
	try {
		await client.connect();
		await client.query('SELECT 1');
		return true;
	} catch {
		return false;
	} finally {
		await client.end().catch(() => {});
	}
}

/** The `postgres` user when this process is root (PostgreSQL will not run as root). */
function runAs(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const passwd = readFileSync('/etc/passwd', 'utf8');
	const entry = passwd.split('\n').find((line) => line.startsWith('postgres:'));
	if (entry === undefined) {
		throw new Error('Running as root, PostgreSQL needs a "postgres" user to run as; none exists');
	}
	const [, , uid, gid] = entry.split(':');
	return { uid: Number(uid), gid: Number(gid) };
}
