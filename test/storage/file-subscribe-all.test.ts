// FileStore.subscribeAll: one directory watch for every key, each change told with its key.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileNamesFor } from '../../src/node/file-store/file-names.js';
import type { FileStore } from '../../src/storage/file.js';
import { killFixtureProcesses, startFixture } from '../helpers/child-process.js';
import { record } from './contract.js';
import { fileStoreFixture } from './file-fixture.js';

const { tempDir, storeIn } = fileStoreFixture('file-subscribe-all-');
afterAll(() => killFixtureProcesses());

const recordPath = (dir: string, key: string) => join(dir, fileNamesFor(key).record);

/** What `store.subscribeAll` told, by key, as access tokens (`undefined` for a deletion). */
function listen(store: FileStore) {
	const heard: Record<string, (string | undefined)[]> = {};
	const unsubscribe = store.subscribeAll((key, r) => {
		heard[key] ??= [];
		heard[key].push(r?.token?.access_token);
	});
	return { heard, unsubscribe };
}

/** Writes `marker` through another instance and waits until it is told: what came before was. */
async function settle(dir: string, heard: Record<string, unknown[]>, marker: string) {
	await storeIn(dir).set(marker, record(marker));
	await expect.poll(() => heard[marker], { timeout: 5_000 }).toEqual([marker]);
	delete heard[marker];
}

describe('FileStore.subscribeAll', () => {
	it('tells the writes and deletes another process makes under several keys, with each key', async () => {
		const dir = await tempDir();
		const seeded = storeIn(dir);
		await seeded.set('gone-1', record('old-1'));
		await seeded.set('gone-2', record('old-2'));
		const { heard } = listen(storeIn(dir));
		const writer = startFixture('file-worker.ts', ['changes'], {
			env: {
				FILE_STORE_DIR: dir,
				CHANGES: JSON.stringify([
					['user-1', 'a1'],
					['User@Example.com', 'b1'],
					['gone-1', null],
					['ключ 🔑', 'c1'],
					['gone-2', null],
				]),
			},
		});
		await writer.message((m: { done?: true }) => m.done === true);
		expect(writer.stderr()).toBe('');
		const told = {
			'user-1': ['a1'],
			'User@Example.com': ['b1'],
			'gone-1': [undefined],
			'ключ 🔑': ['c1'],
			'gone-2': [undefined],
		};
		await expect.poll(() => heard, { timeout: 5_000 }).toEqual(told);
		await settle(dir, heard, 'marker');
		expect(heard).toEqual(told);
	});

	it('never tells temp, lock or moved-aside files, nor unreadable bytes, and a record moved aside is no deletion', async () => {
		const dir = await tempDir();
		const peer = storeIn(dir);
		// Unreadable before the subscription (never read by it), and damaged while subscribed.
		await writeFile(recordPath(dir, 'found-corrupt'), 'not json', { mode: 0o600 });
		await peer.set('damaged', record('one'));
		const { heard } = listen(storeIn(dir, { pollInterval: 50 }));
		const { record: name } = fileNamesFor('planted');
		const valid = `${JSON.stringify(record('planted'))}\n`;
		await writeFile(join(dir, `.${name}.0123456789abcdef.tmp`), valid, { mode: 0o600 });
		await writeFile(join(dir, `${name}.corrupt-1-abcdef`), valid, { mode: 0o600 });
		await peer.lock('planted', async () => {}, { ttl: 5_000, waitTimeout: 5_000 });
		await writeFile(recordPath(dir, 'damaged'), '{"version":1', { mode: 0o600 });
		await settle(dir, heard, 'marker-1');
		for (const key of ['found-corrupt', 'damaged']) {
			await expect(peer.get(key)).rejects.toMatchObject({ problem: 'corrupt' });
		}
		expect((await readdir(dir)).filter((n) => n.includes('.corrupt-'))).toHaveLength(3);
		// Long enough for the watcher and several polls to have seen the files go.
		await new Promise((r) => setTimeout(r, 300));
		await settle(dir, heard, 'marker-2');
		await peer.set('damaged', record('fixed'));
		await expect.poll(() => heard, { timeout: 5_000 }).toEqual({ damaged: ['fixed'] });
	});

	it('tells a key too long for its file name to hold when this instance used it', async () => {
		const dir = await tempDir();
		const long = `user:${'X'.repeat(200)}`;
		const unseen = `user:${'Y'.repeat(200)}`;
		const listener = storeIn(dir);
		const { heard } = listen(listener);
		expect(await listener.get(long)).toBeUndefined();
		const peer = storeIn(dir);
		await peer.set(unseen, record('unseen'));
		await peer.set(long, record('long'));
		await settle(dir, heard, 'marker');
		expect(heard).toEqual({ [long]: ['long'] });
	});

	it('close() ends it', async () => {
		const dir = await tempDir();
		const store = storeIn(dir, { pollInterval: 20 });
		const { heard } = listen(store);
		await store.close();
		await storeIn(dir).set('k', record('one'));
		await new Promise((r) => setTimeout(r, 150));
		expect(heard).toEqual({});
		expect(store.subscribeAll(() => {})).toBeTypeOf('function');
	});
});
