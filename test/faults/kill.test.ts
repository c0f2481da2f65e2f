// Processes sharing a FileStore, killed with SIGKILL at random moments across rotating refreshes:
// sessions lost, and the window between the server's answer and the save in which a kill loses
// one (test/helpers/kill-scenario.ts). Figures of the long run: bench/results/kill.json.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, it } from 'vitest';
import { FileStore } from '../../src/storage/file.js';
import { killRun, runKillScenario } from '../helpers/kill-scenario.js';

let dir: string;
beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'kill-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it(
	`${killRun.processes} processes on a FileStore, ${killRun.refreshes} rotating refreshes of 1-s tokens, SIGKILL at random: a session is lost only by a kill inside the save window`,
	async () => {
		await runKillScenario({
			store: 'file',
			open: () => new FileStore({ dir }),
			workerEnv: { FILE_STORE_DIR: dir },
			results: fileURLToPath(new URL('../../bench/results/kill.json', import.meta.url)),
		});
	},
	killRun.timeout,
);
