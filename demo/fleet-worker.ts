/**
 * One process of `npm run demo:fleet` (started by demo/fleet.ts with `node --import tsx`): an
 * OAuth2Session on the shared FileStore calling the API. Reports on stdout, one JSON object a line.
 */
import { OAuth2Session } from '../src/index.js';
import { FileStore } from '../src/storage/file.js';
import { pause, stopAfter } from './timeline.js';

/** What the parent passes in the `OAUTH2_DEMO_FLEET` environment variable (kept out of `ps`). */
export interface WorkerConfig {
	dir: string;
	api: string;
	tokenEndpoint: string;
	clientId: string;
	clientSecret: string;
	seconds: number;
}

/** What a worker reports. */
export type WorkerReport =
	| { type: 'counts'; ok: number; failed: number; refreshes: number; done: boolean }
	| { type: 'refreshed' }
	| { type: 'failed'; detail: string };

const config = JSON.parse(process.env.OAUTH2_DEMO_FLEET ?? '') as WorkerConfig;
const store = new FileStore({ dir: config.dir });
const session = new OAuth2Session({
	clientId: config.clientId,
	clientSecret: config.clientSecret,
	tokenEndpoint: config.tokenEndpoint,
	baseUrl: `${config.api}/`,
	store,
});
const counts = { ok: 0, failed: 0, refreshes: 0 };
const report = (message: WorkerReport) => process.stdout.write(`${JSON.stringify(message)}\n`);

// 'refresh' is this process's own refresh; a token another process refreshed arrives as 'store'.
session.on('tokenUpdated', ({ source }) => {
	if (source !== 'refresh') return;
	counts.refreshes++;
	report({ type: 'refreshed' });
});

const stop = stopAfter(config.seconds);
const reporter = setInterval(() => report({ type: 'counts', ...counts, done: false }), 500);

while (!stop.aborted) {
	try {
		const response = await session.fetch('items');
		await response.body?.cancel();
		if (response.ok) counts.ok++;
		else {
			counts.failed++;
			report({ type: 'failed', detail: `HTTP ${response.status}` });
		}
	} catch (error) {
		counts.failed++;
		report({ type: 'failed', detail: error instanceof Error ? error.message : String(error) });
	}
	await pause(200, stop);
}

clearInterval(reporter);
session.close();
await store.close();
report({ type: 'counts', ...counts, done: true });
