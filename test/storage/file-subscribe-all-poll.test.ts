// FileStore.subscribeAll where fs.watch is unavailable (a network file system, a full inotify
// table): the poll alone tells every change, and reads only the records that changed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { fileNamesFor } from '../../src/node/file-store/file-names.js';
import { FileStore } from '../../src/storage/file.js';
import { record } from './contract.js';

const calls = vi.hoisted(() => ({
	/** Names of the `.json` files opened for reading (flags given as numbers, as reads do). */
	reads: [] as string[],
	/** `stat`s of a directory: one a poll. */
	dirStats: 0,
}));

vi.mock('node:fs', async (importOriginal) => {
	const real = await importOriginal<typeof import('node:fs')>();
	const watch = () => {
		throw Object.assign(new Error('watch unavailable'), { code: 'ENOSPC' });
	};
	return { ...real, watch, default: { ...real, watch } };
});

vi.mock('node:fs/promises', async (importOriginal) => {
	const real = await importOriginal<typeof import('node:fs/promises')>();
	const open: typeof real.open = async (path, flags, mode) => {
		if (typeof flags === 'number' && String(path).endsWith('.json')) {
			calls.reads.push(basename(String(path)));
		}
		return real.open(path, flags, mode);
	};
	const stat: typeof real.stat = (async (path: string, options?: object) => {
		const stats = await real.stat(path, options as never);
		if (stats.isDirectory()) calls.dirStats++;
		return stats;
	}) as typeof real.stat;
	return { ...real, open, stat, default: { ...real, open, stat } };
});

const dirs: string[] = [];
const stores: FileStore[] = [];
afterEach(async () => {
	await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const storeIn = (dir: string, pollInterval?: number) => {
	const store = new FileStore({ dir, ...(pollInterval === undefined ? {} : { pollInterval }) });
	stores.push(store);
	return store;
};

/** Resolves once `polls` more polls have run. */
async function polls(count: number): Promise<void> {
	const until = calls.dirStats + count;
	await expect.poll(() => calls.dirStats, { timeout: 10_000, interval: 10 }).toBeGreaterThan(until);
}

it('without fs.watch, the poll tells writes and deletes under every key, with the key', async () => {
	const dir = await mkdtemp(join(tmpdir(), 'file-poll-'));
	dirs.push(dir);
	const peer = storeIn(dir);
	await peer.set('gone', record('old'));
	const seen: [string, string | undefined][] = [];
	storeIn(dir, 30).subscribeAll((key, r) => seen.push([key, r?.token?.access_token]));
	await peer.set('a', record('one'));
	await peer.delete('gone');
	await peer.set('Mixed Case', record('two'));
	await expect
		.poll(() => [...seen].sort(), { timeout: 5_000 })
		.toEqual([
			['Mixed Case', 'two'],
			['a', 'one'],
			['gone', undefined],
		]);
});

it('a poll reads no record that did not change, however many there are', async () => {
	const dir = await mkdtemp(join(tmpdir(), 'file-poll-'));
	dirs.push(dir);
	const peer = storeIn(dir);
	const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
	for (const key of keys) await peer.set(key, record(key));
	const seen: [string, string | undefined][] = [];
	storeIn(dir, 20).subscribeAll((key, r) => seen.push([key, r?.token?.access_token]));
	calls.reads.length = 0;
	await polls(5);
	expect(calls.reads).toEqual([]);
	await peer.set('user-7', record('changed'));
	await expect.poll(() => seen, { timeout: 5_000 }).toEqual([['user-7', 'changed']]);
	await polls(5);
	// The peer's write read the record once (a newer version is not replaced); the poll read it once.
	const changed = fileNamesFor('user-7').record;
	expect(calls.reads.filter((name) => name !== changed)).toEqual([]);
	expect(calls.reads.length).toBeLessThanOrEqual(3);
	expect(seen).toEqual([['user-7', 'changed']]);
});
