/**
 * `npm run demo:fleet`: several Node processes share one token through a FileStore.
 *
 * Starts the embedded authorization server (5-second access tokens, rotating refresh tokens: a
 * refresh token spent twice is refused and ends the grant), signs in once, then starts --processes
 * (default 4) processes, each an OAuth2Session on the same FileStore calling the API. Whoever needs
 * a refresh first takes the store's lock and refreshes; the others find the new token in the store
 * and adopt it. So the server sees one refresh per expiry, and no request fails.
 *
 * Prints a merged live view, stops after --seconds (default 30) or Ctrl-C, prints a summary, and
 * exits non-zero if any request failed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { decodeStoredRecord, OAuth2Session } from '../src/index.js';
import { FileStore } from '../src/storage/file.js';
import { startAuthServer } from './auth-server.js';
import type { WorkerConfig, WorkerReport } from './fleet-worker.js';
import { ageBar, clock } from './timeline.js';

const { values } = parseArgs({
	options: {
		seconds: { type: 'string', default: '30' },
		processes: { type: 'string', default: '4' },
		lifetime: { type: 'string', default: '5' },
	},
});
const seconds = Number(values.seconds);
const processes = Number(values.processes);
const lifetime = Number(values.lifetime);

const server = await startAuthServer({ accessTokenTtl: lifetime });
const dir = await mkdtemp(join(tmpdir(), 'oauth2-session-fleet-'));
const store = new FileStore({ dir });
const { clientId, clientSecret } = server.clients.confidential;

// A daemon's first login, once, before the fleet starts (for a real one: `npx oauth2-session login`).
const login = new OAuth2Session({
	clientId,
	clientSecret,
	authorizationEndpoint: server.authorizationEndpoint,
	tokenEndpoint: server.tokenEndpoint,
	redirectUri: server.redirectUri,
	scope: ['offline_access', 'api:read'],
	store,
});
const { url } = await login.authorizationUrl();
await login.fetchToken({ authorizationResponse: await server.approve(url), issuer: server.issuer });
login.close();

process.stdout.write(
	`Authorization server and API on ${server.origin}: ${lifetime}s access tokens, rotating refresh tokens.\n` +
		`Signed in once; token in a FileStore in ${dir}.\n` +
		`Starting ${processes} processes that share it, for ${seconds}s (Ctrl-C to stop early).\n\n`,
);

const started = Date.now();
const config: WorkerConfig = {
	dir,
	api: server.api,
	tokenEndpoint: server.tokenEndpoint,
	clientId,
	clientSecret,
	seconds,
};
const workers = Array.from({ length: processes }, (_, index) => startWorker(index + 1));
const view = setInterval(() => void printView(), 1_000);
// Ctrl-C in a terminal reaches every process of the group; a signal sent to this one is passed on.
process.on('SIGINT', () => {
	for (const worker of workers) worker.child.kill('SIGINT');
});

const exitCodes = await Promise.all(workers.map((worker) => worker.exited));
clearInterval(view);
await store.close();
await server.close();
await rm(dir, { recursive: true, force: true });

const total = workers.reduce(
	(sum, { counts }) => ({
		ok: sum.ok + counts.ok,
		failed: sum.failed + counts.failed,
		refreshes: sum.refreshes + counts.refreshes,
	}),
	{ ok: 0, failed: 0, refreshes: 0 },
);
const crashed = exitCodes.filter((code) => code !== 0).length;
const perProcess = workers.map(({ counts }, i) => `#${i + 1}: ${counts.refreshes}`).join(', ');
const { refreshRequests } = server.stats;
process.stdout.write(
	`\nSummary: ${processes} processes, ${total.ok + total.failed} requests, ${total.refreshes} refreshes ` +
		`(${perProcess}), ${total.failed} failures. The server saw ${refreshRequests} refresh requests` +
		(refreshRequests === total.refreshes
			? ': one per expiry, no refresh token spent twice.\n'
			: ` for the fleet's ${total.refreshes}: some refresh tokens were presented twice.\n`),
);
if (crashed > 0) process.stdout.write(`${crashed} processes exited with an error.\n`);
process.exitCode = total.failed === 0 && crashed === 0 ? 0 : 1;

function startWorker(id: number) {
	const child = spawn(
		process.execPath,
		['--import', 'tsx', join(import.meta.dirname, 'fleet-worker.ts')],
		{
			env: { ...process.env, OAUTH2_DEMO_FLEET: JSON.stringify(config) },
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	const counts = { ok: 0, failed: 0, refreshes: 0, reported: false };
	createInterface({ input: child.stdout }).on('line', (text) => {
		const report = JSON.parse(text) as WorkerReport;
		// Refreshes are counted as they are reported: a periodic count can miss one that lands
		// between the last count and the process's exit.
		if (report.type === 'counts') {
			Object.assign(counts, { ok: report.ok, failed: report.failed, reported: true });
		} else if (report.type === 'refreshed') {
			counts.refreshes++;
			line(`↻ process #${id} refreshed; the others adopt its token from the FileStore`);
		} else line(`✗ process #${id}: ${report.detail}`);
	});
	const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
	return { child, counts, exited };
}

async function printView(): Promise<void> {
	if (!workers.every(({ counts }) => counts.reported)) return; // still starting
	const record = await store.get('default').catch(() => undefined);
	const token = record === undefined ? undefined : decodeStoredRecord(record, 'default').token;
	const each = workers
		.map(({ counts }, i) => `#${i + 1} ${String(counts.ok).padStart(3)}/${counts.failed}`)
		.join('  ');
	line(`${ageBar(token)}  ok/failed ${each}  server token requests ${server.stats.tokenRequests}`);
}

function line(text: string): void {
	process.stdout.write(`${clock(started)}  ${text}\n`);
}
