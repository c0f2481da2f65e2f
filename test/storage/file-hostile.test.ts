// A file store in a directory that someone else controls, or holding files someone else planted.
import { execFileSync } from 'node:child_process';
import { chmod, chown, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import { fileNamesFor } from '../../src/node/file-store/file-names.js';
import { Token } from '../../src/protocol/token.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import { fileStoreFixture } from './file-fixture.js';

const { tempDir, storeIn } = fileStoreFixture('file-store-hostile-');
const NOBODY = 65_534;
const posix = process.platform !== 'win32';
const root = process.getuid?.() === 0;

const record = (accessToken: string) =>
	encodeStoredRecord(
		new Token({ accessToken, refreshToken: `r-${accessToken}`, expiresAt: Date.now() + 60_000 }),
	);
const recordPath = (dir: string, key: string) => join(dir, fileNamesFor(key).record);
const lockOptions = { ttl: 5_000, waitTimeout: 5_000 };

async function refusal(run: Promise<unknown>): Promise<StorageError> {
	const error = await run.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(StorageError);
	return error as StorageError;
}

describe.runIf(posix)('FileStore in a directory others can change', () => {
	it('refuses a group- or world-writable directory, saying how to fix it, and writes nothing', async () => {
		for (const mode of [0o777, 0o770, 0o1777]) {
			const dir = await tempDir();
			await chmod(dir, mode);
			const store = storeIn(dir);
			const error = await refusal(store.set('k', record('secret-one')));
			expect(error).toMatchObject({ problem: 'insecure', key: 'k' });
			expect(error.message).toContain(`chmod 700 "${dir}"`);
			expect(error.message).not.toContain('secret-one');
			expect(await readdir(dir)).toEqual([]);
			await expect(store.get('k')).rejects.toMatchObject({ problem: 'insecure' });
			await expect(store.lock('k', async () => {}, lockOptions)).rejects.toMatchObject({
				problem: 'insecure',
			});
			await expect(store.delete('k')).rejects.toMatchObject({ problem: 'insecure' });
			expect(await readdir(dir)).toEqual([]);
		}
	});

	it.runIf(root)('refuses a directory owned by another user', async () => {
		const dir = await tempDir();
		await chown(dir, NOBODY, NOBODY);
		const store = storeIn(dir);
		const error = await refusal(store.set('k', record('one')));
		expect(error).toMatchObject({ problem: 'insecure', key: 'k' });
		expect(error.message).toMatch(/owned by another user/);
		expect(await readdir(dir)).toEqual([]);
		await expect(store.get('k')).rejects.toMatchObject({ problem: 'insecure' });
	});

	it('accepts a private directory again once it is fixed', async () => {
		const dir = await tempDir();
		await chmod(dir, 0o777);
		const store = storeIn(dir);
		await expect(store.set('k', record('one'))).rejects.toMatchObject({ problem: 'insecure' });
		await chmod(dir, 0o700);
		await store.set('k', record('one'));
		expect((await store.get('k'))?.token?.access_token).toBe('one');
	});
});

describe.runIf(posix)('FileStore with planted files', () => {
	it('does not follow a symlink planted at the record path, and a write replaces the link', async () => {
		const dir = await tempDir();
		const elsewhere = await tempDir();
		const planted = join(elsewhere, 'attacker.json');
		const plantedText = `${JSON.stringify(record('attacker'))}\n`;
		await writeFile(planted, plantedText);
		await symlink(planted, recordPath(dir, 'k'));
		const store = storeIn(dir);
		const error = await refusal(store.get('k'));
		expect(error).toMatchObject({ problem: 'insecure', key: 'k' });
		expect(error.message).not.toContain('attacker');
		await store.set('k', record('mine'));
		expect((await store.get('k'))?.token?.access_token).toBe('mine');
		expect(await readFile(planted, 'utf8')).toBe(plantedText);
	});

	it('subscribers do not hear a record behind a planted symlink', async () => {
		const dir = await tempDir();
		const elsewhere = await tempDir();
		const planted = join(elsewhere, 'attacker.json');
		await writeFile(planted, `${JSON.stringify(record('attacker'))}\n`);
		const store = storeIn(dir);
		const seen: (string | undefined)[] = [];
		store.subscribe('k', (r) => seen.push(r?.token?.access_token));
		await symlink(planted, recordPath(dir, 'k'));
		await storeIn(dir).set('other', record('two'));
		await storeIn(dir).set('k', record('mine'));
		await expect.poll(() => seen, { timeout: 5_000 }).toContain('mine');
		expect(seen).not.toContain('attacker');
	});

	it('releasing a lock does not truncate what a symlink at its marker points to', async () => {
		const dir = await tempDir();
		const elsewhere = await tempDir();
		const victim = join(elsewhere, 'victim.txt');
		await writeFile(victim, 'precious');
		const store = storeIn(dir);
		await store.lock(
			'k',
			async () => {
				const { lockPrefix } = fileNamesFor('k');
				const held = (await readdir(dir)).filter(
					(name) => name.startsWith(lockPrefix) && !name.endsWith('-free'),
				);
				expect(held).toHaveLength(1);
				await symlink(victim, join(dir, `${held[0]}-free`));
			},
			lockOptions,
		);
		expect(await readFile(victim, 'utf8')).toBe('precious');
		// The planted marker still counts as a release: the next holder gets in.
		expect(await storeIn(dir).lock('k', async () => 'next', lockOptions)).toBe('next');
	});

	it('caps the size of a record it reads, naming the limit', async () => {
		const dir = await tempDir();
		const path = recordPath(dir, 'k');
		await writeFile(path, '');
		// Sparse: 200 MB on paper, nothing on disk.
		await truncate(path, 200 * 1024 * 1024);
		const error = await refusal(storeIn(dir).get('k'));
		expect(error).toMatchObject({ problem: 'corrupt', key: 'k' });
		expect(error.message).toMatch(/larger than the 1 MiB/);
	});

	it('a FIFO planted at the record path is refused, not waited on', async () => {
		const dir = await tempDir();
		execFileSync('mkfifo', [recordPath(dir, 'k')]);
		const error = await refusal(storeIn(dir).get('k'));
		expect(error).toMatchObject({ problem: 'insecure', key: 'k' });
		expect(error.message).toMatch(/not a regular file/);
	});
});
