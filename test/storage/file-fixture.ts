import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { FileStore } from '../../src/storage/file.js';

/** Temp directories and FileStores for one test file: stores closed after each test, dirs after all. */
export function fileStoreFixture(prefix: string) {
	const dirs: string[] = [];
	const stores: FileStore[] = [];
	afterEach(async () => {
		await Promise.all(stores.splice(0).map((store) => store.close()));
	});
	afterAll(async () => {
		await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
	});
	return {
		async tempDir(): Promise<string> {
			const dir = await mkdtemp(join(tmpdir(), prefix));
			dirs.push(dir);
			return dir;
		},
		storeIn(dir: string, options: { pollInterval?: number } = {}): FileStore {
			const store = new FileStore({ dir, ...options });
			stores.push(store);
			return store;
		},
	};
}
