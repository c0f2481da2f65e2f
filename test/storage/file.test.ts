import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, StorageError } from '../../src/errors/index.js';
import { encodeKey, fileNamesFor } from '../../src/node/file-store/file-names.js';
import { Token } from '../../src/protocol/token.js';
import { FileStore } from '../../src/storage/file.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import { describeStoreContract } from './contract.js';
import { fileStoreFixture } from './file-fixture.js';

const { tempDir, storeIn } = fileStoreFixture('file-store-');

const record = (accessToken: string, extra: Record<string, unknown> = {}) =>
	encodeStoredRecord(
		new Token({
			accessToken,
			refreshToken: `r-${accessToken}`,
			expiresAt: Date.now() + 60_000,
			extra,
		}),
	);
const recordPath = (dir: string, key: string) => join(dir, fileNamesFor(key).record);

/** A lock holder body that counts its runs and the most running at once (1 if the lock holds). */
function exclusivityProbe() {
	const probe = {
		inside: 0,
		most: 0,
		runs: 0,
		hold: async () => {
			probe.inside++;
			probe.most = Math.max(probe.most, probe.inside);
			await new Promise((r) => setTimeout(r, 1));
			probe.runs++;
			probe.inside--;
		},
	};
	return probe;
}
const lockOptions = { ttl: 5_000, waitTimeout: 10_000 };

describeStoreContract('FileStore', {
	async create() {
		const dir = await tempDir();
		// The peer is a second instance on the directory, as another process would have.
		return { store: storeIn(dir), peer: storeIn(dir), cleanup: async () => {} };
	},
});

describe('FileStore files', () => {
	it('creates its directory 0700 and writes records 0600, with no temp file left', async () => {
		const dir = join(await tempDir(), 'nested', 'tokens');
		const store = storeIn(dir);
		await store.set('k', record('one'));
		await store.lock('k', async () => {}, lockOptions);
		expect((await stat(dir)).mode & 0o777).toBe(0o700);
		const names = await readdir(dir);
		expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
		for (const name of names) expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
		expect(names).toContain(fileNamesFor('k').record);
	});

	it('leaves the mode of a directory it did not create alone', async () => {
		const dir = await tempDir();
		await chmod(dir, 0o755);
		await storeIn(dir).set('k', record('one'));
		expect((await stat(dir)).mode & 0o777).toBe(0o755);
	});

	it('readers never see a partial record while another instance writes', async () => {
		const dir = await tempDir();
		const writer = storeIn(dir);
		const reader = storeIn(dir);
		// Large records, so a write that was not atomic would be caught half done.
		const padding = 'x'.repeat(256 * 1024);
		await writer.set('k', record('w-0', { padding }));
		let writing = true;
		const seen = new Set<string>();
		let rawReads = 0;
		const failures: unknown[] = [];
		const read = async () => {
			while (writing && failures.length === 0) {
				try {
					const got = await reader.get('k');
					seen.add(String(got?.token?.access_token));
					if (got?.token?.padding !== padding) throw new Error('A record lost its padding');
					// Straight from the file too: every read is a whole JSON document.
					JSON.parse(await readFile(recordPath(dir, 'k'), 'utf8'));
					rawReads++;
				} catch (error) {
					failures.push(error);
				}
			}
		};
		const readers = [read(), read(), read()];
		for (let i = 1; i <= 60; i++) await writer.set('k', record(`w-${i}`, { padding }));
		writing = false;
		await Promise.all(readers);
		expect(failures).toEqual([]);
		expect(rawReads).toBeGreaterThan(10);
		expect(seen.size).toBeGreaterThan(1);
		expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
	});

	it('maps any key to a file of its own inside the directory', async () => {
		const parent = await tempDir();
		const dir = join(parent, 'store');
		const store = storeIn(dir);
		const keys = [
			'../escape',
			'../../etc/passwd',
			'/absolute',
			'a/b',
			'a\\b',
			'..',
			'.',
			'',
			'A',
			'a',
			'con',
			'nul:',
			'key with spaces and ünïcödé 🔑',
			'\0',
			'x'.repeat(1_000),
			`${'x'.repeat(1_000)}y`,
		];
		for (const [i, key] of keys.entries()) await store.set(key, record(`t-${i}`));
		for (const [i, key] of keys.entries()) {
			expect((await store.get(key))?.token?.access_token).toBe(`t-${i}`);
		}
		expect(await readdir(parent)).toEqual(['store']);
		const names = await readdir(dir);
		expect(names).toHaveLength(keys.length);
		for (const name of names) {
			expect(name).toMatch(/^token-[a-z0-9_~-]*\.json$/);
			expect(Buffer.byteLength(name)).toBeLessThan(200);
		}
		// Case-insensitive file systems: 'A' and 'a' must not share a name in any case.
		expect(encodeKey('A').toLowerCase()).not.toBe(encodeKey('a').toLowerCase());
	});
});

describe('FileStore unreadable records', () => {
	it('moves an invalid JSON file aside and reports it as corrupt, naming the key only', async () => {
		const dir = await tempDir();
		const store = storeIn(dir);
		const bytes = '{"version":1,"token":{"access_token":"SECRET-AT"';
		await writeFile(recordPath(dir, 'user-1'), bytes, { mode: 0o600 });
		const error = await store.get('user-1').catch((e: unknown) => e);
		expect(error).toBeInstanceOf(StorageError);
		expect(error).toMatchObject({ problem: 'corrupt', key: 'user-1' });
		const message = (error as Error).message;
		expect(message).toContain('"user-1"');
		expect(message).not.toContain('SECRET');
		expect(JSON.stringify(error)).not.toContain('SECRET');
		const aside = (await readdir(dir)).filter((name) => name.includes('.corrupt-'));
		expect(aside).toHaveLength(1);
		expect(message).toContain(aside[0]);
		expect(await readFile(join(dir, aside[0]!), 'utf8')).toBe(bytes);
		// The key is usable again; the bytes stay aside.
		expect(await store.get('user-1')).toBeUndefined();
		await store.set('user-1', record('fresh'));
		expect((await store.get('user-1'))?.token?.access_token).toBe('fresh');
		expect(await readFile(join(dir, aside[0]!), 'utf8')).toBe(bytes);
	});

	it('moves aside JSON that is not a record', async () => {
		const dir = await tempDir();
		const store = storeIn(dir);
		for (const bytes of ['[]', '{"version":1,"token":{"nope":true},"writtenAt":1}', 'null']) {
			await writeFile(recordPath(dir, 'k'), bytes);
			await expect(store.get('k')).rejects.toMatchObject({ problem: 'corrupt', key: 'k' });
		}
		expect((await readdir(dir)).filter((name) => name.includes('.corrupt-'))).toHaveLength(3);
	});

	it('leaves a record of a newer schema version in place, for the processes that read it', async () => {
		const dir = await tempDir();
		const store = storeIn(dir);
		const newer = JSON.stringify({ ...record('v2'), version: 3 });
		await writeFile(recordPath(dir, 'k'), newer);
		const error = await store.get('k').catch((e: unknown) => e);
		expect(error).toMatchObject({
			name: 'StorageError',
			problem: 'unsupported-version',
			key: 'k',
		});
		expect((error as Error).message).toMatch(/"k" has schema version 3.*left in place/);
		expect(await readdir(dir)).toEqual([fileNamesFor('k').record]);
		expect(await readFile(recordPath(dir, 'k'), 'utf8')).toBe(newer);
	});

	it('subscribers hear of records only: unreadable bytes moved aside are not a deletion', async () => {
		const dir = await tempDir();
		const reader = storeIn(dir);
		await reader.set('seen-corrupted', record('one'));
		await writeFile(recordPath(dir, 'found-corrupt'), 'not json');
		const keys = ['seen-corrupted', 'found-corrupt'];
		const heard = new Map(keys.map((key) => [key, [] as (string | undefined)[]]));
		const listener = storeIn(dir, { pollInterval: 100 });
		for (const key of keys)
			listener.subscribe(key, (r) => heard.get(key)?.push(r?.token?.access_token));
		// Damaged while subscribed; the other was damaged before.
		await writeFile(recordPath(dir, 'seen-corrupted'), '{"version":1');
		await new Promise((r) => setTimeout(r, 300));
		for (const key of keys) {
			await expect(reader.get(key)).rejects.toMatchObject({ problem: 'corrupt' });
		}
		// Long enough for the watcher and several polls to have seen the files go.
		await new Promise((r) => setTimeout(r, 500));
		for (const key of keys) await reader.set(key, record(`fixed-${key}`));
		await expect
			.poll(() => Object.fromEntries(heard), { timeout: 5_000 })
			.toEqual({
				'seen-corrupted': ['fixed-seen-corrupted'],
				'found-corrupt': ['fixed-found-corrupt'],
			});
	});
});

describe('FileStore failures', () => {
	it('a directory that cannot exist is a StorageError unavailable with the cause', async () => {
		const parent = await tempDir();
		await writeFile(join(parent, 'a-file'), '');
		const store = storeIn(join(parent, 'a-file', 'tokens'));
		const error = await store.set('k', record('one')).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(StorageError);
		expect(error).toMatchObject({ problem: 'unavailable', key: 'k' });
		expect((error as Error).cause).toMatchObject({ code: 'ENOTDIR' });
		await expect(store.lock('k', async () => {}, lockOptions)).rejects.toMatchObject({
			problem: 'unavailable',
		});
		await expect(store.get('k')).rejects.toMatchObject({ problem: 'unavailable' });
	});

	it('a write that fails leaves no temp file behind', async () => {
		const dir = await tempDir();
		const store = storeIn(dir);
		// A directory where the record should be: the rename over it fails.
		await mkdir(recordPath(dir, 'blocked'));
		const error = await store.set('blocked', record('one')).catch((e: unknown) => e);
		expect(error).toMatchObject({ name: 'StorageError', problem: 'unavailable' });
		expect((error as Error).cause).toMatchObject({ code: expect.stringMatching(/^E/) });
		expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
	});

	it('checks its options', () => {
		expect(() => new FileStore({ dir: '' })).toThrow(InvalidOptionsError);
		expect(() => new FileStore(undefined as never)).toThrow(InvalidOptionsError);
		expect(() => new FileStore({ dir: 'x', pollInterval: 0 })).toThrow(/pollInterval/);
		expect(() => new FileStore({ dir: 'x', lockRetryInterval: Number.NaN })).toThrow(
			/lockRetryInterval/,
		);
		expect(new FileStore({ dir: 'relative' }).dir).toBe(join(process.cwd(), 'relative'));
	});
});

describe('FileStore lock', () => {
	it('holders of many instances take turns, and only two lock files remain', async () => {
		const dir = await tempDir();
		const instances = Array.from({ length: 6 }, () => storeIn(dir));
		const probe = exclusivityProbe();
		await Promise.all(
			instances.flatMap((store) =>
				Array.from({ length: 5 }, () => store.lock('k', probe.hold, lockOptions)),
			),
		);
		expect(probe.runs).toBe(30);
		expect(probe.most).toBe(1);
		const lockFiles = (await readdir(dir)).filter((name) => name.includes('.lock-'));
		expect(lockFiles).toHaveLength(2);
	});

	it('waiters that all find the lock stale take it over one at a time', async () => {
		const dir = await tempDir();
		const instances = Array.from({ length: 8 }, () => storeIn(dir));
		const probe = exclusivityProbe();
		for (let round = 1; round <= 15; round++) {
			// A damaged holder file as the newest generation: stale for everyone at once.
			await writeFile(join(dir, `${fileNamesFor('k').lockPrefix}${round * 100}`), '');
			await Promise.all(
				instances.map(async (store, i) => {
					// Staggered, so one waiter's takeover overlaps another's look at the stale lock.
					await new Promise((r) => setTimeout(r, (i * round) % 4));
					await store.lock('k', probe.hold, lockOptions);
				}),
			);
		}
		expect(probe.runs).toBe(15 * 8);
		expect(probe.most).toBe(1);
	});

	it('a lock of another machine is judged by its ttl alone, not by its pid', async () => {
		const dir = await tempDir();
		const holder = {
			owner: 'x',
			pid: 2 ** 22 + 1,
			host: 'another-host',
			expiresAt: Date.now() + 300,
		};
		await writeFile(join(dir, `${fileNamesFor('k').lockPrefix}1`), JSON.stringify(holder));
		await expect(
			storeIn(dir).lock('k', async () => {}, { ttl: 5_000, waitTimeout: 100 }),
		).rejects.toMatchObject({ problem: 'lock-timeout' });
		expect(await storeIn(dir).lock('k', async () => 'after ttl', lockOptions)).toBe('after ttl');
		expect(Date.now()).toBeGreaterThanOrEqual(holder.expiresAt);
	});

	it('a lock past its ttl is taken over, and its late release leaves the new holder alone', async () => {
		const dir = await tempDir();
		const slow = storeIn(dir);
		const other = storeIn(dir);
		let finishSlow!: () => void;
		const slowHolder = slow.lock(
			'k',
			() =>
				new Promise<void>((resolve) => {
					finishSlow = resolve;
				}),
			{ ttl: 100, waitTimeout: 1_000 },
		);
		await new Promise((r) => setTimeout(r, 20));
		let releaseOther!: () => void;
		const otherHolds = new Promise<void>((resolve) => {
			void other.lock(
				'k',
				() =>
					new Promise<void>((done) => {
						releaseOther = done;
						resolve();
					}),
				lockOptions,
			);
		});
		await otherHolds;
		// The slow holder finishes late and releases: the lock must stay with the other.
		finishSlow();
		await slowHolder;
		await expect(
			slow.lock('k', async () => 'too soon', { ttl: 5_000, waitTimeout: 200 }),
		).rejects.toMatchObject({ problem: 'lock-timeout' });
		releaseOther();
		expect(await slow.lock('k', async () => 'after', lockOptions)).toBe('after');
	});
});

describe('FileStore subscribe', () => {
	it('sessions sharing an instance hear its writes without waiting for the poll', async () => {
		const dir = await tempDir();
		const store = storeIn(dir, { pollInterval: 60_000 });
		const seen: (StoredRecord | undefined)[] = [];
		const unsubscribe = store.subscribe('k', (r) => seen.push(r));
		await store.set('k', record('one'));
		await expect.poll(() => seen.map((r) => r?.token?.access_token)).toEqual(['one']);
		unsubscribe();
	});

	it('the poll catches a change the watcher did not report', async () => {
		const missing = join(await tempDir(), 'later');
		const seen: (string | undefined)[] = [];
		// Subscribed before the directory exists: no watcher can start, only the poll sees the write.
		storeIn(missing, { pollInterval: 50 }).subscribe('k', (r) => seen.push(r?.token?.access_token));
		await storeIn(missing).set('k', record('one'));
		await expect.poll(() => seen, { timeout: 5_000 }).toEqual(['one']);
	});

	it('close() stops every listener', async () => {
		const dir = await tempDir();
		const store = storeIn(dir, { pollInterval: 20 });
		const seen: unknown[] = [];
		store.subscribe('k', (r) => seen.push(r));
		await store.close();
		await storeIn(dir).set('k', record('one'));
		await new Promise((r) => setTimeout(r, 150));
		expect(seen).toEqual([]);
		expect(store.subscribe('k', () => {})).toBeTypeOf('function');
	});
});
