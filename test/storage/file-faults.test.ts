/**
 * A FileStore on a disk that fails: a full one for real (a 64 kB tmpfs, when the test may mount
 * one), and EIO or EACCES injected into `open` of node:fs/promises (this file only), on reading a
 * record or on writing one (the fsync of the temp file, or its creation).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import { fileNamesFor } from '../../src/node/file-store/file-names.js';
import type { OAuth2Session } from '../../src/session/oauth2-session.js';
import { FileStore } from '../../src/storage/file.js';
import {
	type OAuthTestServer,
	startOAuthServer,
	type TokenAnswer,
} from '../helpers/oauth-server.js';
import { sessionOn } from '../helpers/session.js';
import { eventually } from '../helpers/store-outage.js';

const faults = vi.hoisted(() => ({
	/** Fails the opening of a record for reading, with this code. */
	read: undefined as string | undefined,
	/** Fails writes: `EACCES` when the temp file is created, any other code at its fsync. */
	write: undefined as string | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
	const real = await importOriginal<typeof import('node:fs/promises')>();
	const injected = (code: string, call: string) =>
		Object.assign(new Error(`${code}: injected fault, ${call}`), { code, syscall: call });
	const open: typeof real.open = async (path, flags, mode) => {
		const name = String(path);
		if (faults.read !== undefined && typeof flags === 'number' && name.endsWith('.json')) {
			throw injected(faults.read, 'open');
		}
		const writing = flags === 'wx' && name.endsWith('.tmp') ? faults.write : undefined;
		if (writing === 'EACCES') throw injected(writing, 'open');
		const handle = await real.open(path, flags, mode);
		if (writing === undefined) return handle;
		return new Proxy(handle, {
			get(target, property) {
				if (property === 'sync') return () => Promise.reject(injected(writing, 'fsync'));
				const value = Reflect.get(target, property, target);
				return typeof value === 'function' ? value.bind(target) : value;
			},
		});
	};
	return { ...real, open, default: { ...real, open } };
});

const KEY = 'default';
const RECORD = fileNamesFor(KEY).record;

describe('FileStore on a failing disk', () => {
	let server: OAuthTestServer;
	const dirs: string[] = [];
	const stores: FileStore[] = [];
	const sessions: OAuth2Session[] = [];

	/** The access token in the record file, read past the store. */
	const onDisk = async (dir: string) =>
		(JSON.parse(await readFile(join(dir, RECORD), 'utf8')) as { token: { access_token: string } })
			.token.access_token;
	const tempFiles = async (dir: string) =>
		(await readdir(dir)).filter((name) => name.endsWith('.tmp'));
	const sessionIn = async (dir: string, token?: TokenAnswer) => {
		const store = new FileStore({ dir });
		stores.push(store);
		const s = sessionOn(server, token, { store });
		sessions.push(s);
		const errors: { error: StorageError; operation: string }[] = [];
		s.on('storeError', (event) => errors.push(event));
		await s.ready;
		return { s, errors };
	};
	const status = async (s: OAuth2Session) => (await s.fetch(`${server.origin}/api/disk`)).status;
	/**
	 * A session saves a token, the disk starts failing (`fail`, which returns how to heal it), a
	 * new token is set: the failure is reported with its code, the old record stays whole, no temp
	 * file is left, and the new token is used, then saved once the disk is healed.
	 */
	const writeFailsThenSaves = async (
		dir: string,
		code: string,
		fail: () => Promise<() => Promise<unknown>>,
	) => {
		const first = server.issue();
		const { s, errors } = await sessionIn(dir, first);
		expect(await onDisk(dir)).toBe(first.access_token);
		const heal = await fail();
		const second = server.issue();
		await s.setToken(second);
		expect(errors.map((e) => [e.operation, e.error.problem])).toEqual([['set', 'unavailable']]);
		expect(errors[0]?.error.message).toContain(`(${code})`);
		expect(errors[0]?.error.message).not.toContain(second.access_token);
		expect(await onDisk(dir)).toBe(first.access_token);
		expect(await tempFiles(dir)).toEqual([]);
		expect(await status(s)).toBe(200);
		expect(s.token?.accessToken).toBe(second.access_token);

		await heal();
		expect(await status(s)).toBe(200);
		await eventually(
			'the new token saved',
			async () => (await onDisk(dir)) === second.access_token,
		);
		expect(await tempFiles(dir)).toEqual([]);
		expect(errors).toHaveLength(1);
	};

	beforeAll(async () => {
		server = await startOAuthServer();
	});
	afterEach(async () => {
		faults.read = undefined;
		faults.write = undefined;
		for (const made of sessions.splice(0)) made.close();
		await Promise.all(stores.splice(0).map((store) => store.close()));
		server.resetStats();
	});
	afterAll(async () => {
		await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
		await server?.close();
	});
	const tempDir = async () => {
		const dir = await mkdtemp(join(tmpdir(), 'file-faults-'));
		dirs.push(dir);
		return dir;
	};

	for (const code of ['EIO', 'EACCES']) {
		it(`${code} reading the record at start: requests fail with StorageError unavailable, not "sign in again", until it reads`, async () => {
			const dir = await tempDir();
			const stored = server.issue();
			await (await sessionIn(dir, stored)).s.ready;
			expect(await onDisk(dir)).toBe(stored.access_token);

			faults.read = code;
			const { s, errors } = await sessionIn(dir);
			const error = await s.fetch(`${server.origin}/api/disk`).catch((e: unknown) => e);
			expect(error).toBeInstanceOf(StorageError);
			expect(error).toMatchObject({ problem: 'unavailable', key: KEY });
			expect((error as Error).message).toContain(`(${code})`);
			expect((error as Error).cause).toMatchObject({ code });
			expect(errors.map((e) => [e.operation, e.error.problem])).toContainEqual([
				'get',
				'unavailable',
			]);

			faults.read = undefined;
			expect(await status(s)).toBe(200);
			expect(s.token?.accessToken).toBe(stored.access_token);
			expect(await onDisk(dir)).toBe(stored.access_token);
			expect(server.stats.tokenRequests).toBe(0);
		});

		it(`${code} writing: the old record stays whole, the session goes on with the new token, which is saved once the disk takes it`, async () => {
			const dir = await tempDir();
			await writeFailsThenSaves(dir, code, async () => {
				faults.write = code;
				return async () => {
					faults.write = undefined;
				};
			});
		});
	}

	describe('on a full disk (a 64 kB tmpfs)', () => {
		let mountPoint: string | undefined;
		beforeAll(async () => {
			const dir = await tempDir();
			try {
				execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], {
					stdio: 'ignore',
				});
				mountPoint = dir;
			} catch {
				// Not root, or no mount in this container: the injected faults above still run.
			}
		});
		afterAll(() => {
			if (mountPoint !== undefined) execFileSync('umount', [mountPoint]);
		});

		it('ENOSPC writing: the old record stays whole, and the new token is saved once there is room', async (context) => {
			if (mountPoint === undefined) return context.skip();
			const dir = join(mountPoint, 'tokens');
			await mkdir(dir, { mode: 0o700 });
			await writeFailsThenSaves(dir, 'ENOSPC', async () => {
				// Fills the file system up to its last byte.
				const filler = join(mountPoint as string, 'filler');
				await writeFile(filler, Buffer.alloc(64 * 1024)).catch((error: unknown) => {
					if ((error as { code?: string }).code !== 'ENOSPC') throw error;
				});
				return () => rm(filler);
			});
		});
	});
});
