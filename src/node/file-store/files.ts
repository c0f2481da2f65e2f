import type { Stats } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempNameFor } from './file-names.js';

/** Owner read and write only: the files hold refresh tokens. */
export const FILE_MODE = 0o600;
/** Owner only, for a directory the store creates. */
export const DIRECTORY_MODE = 0o700;

/** The `code` of a Node system error (`ENOENT`, `EACCES`...), if it is one. */
export function errorCode(error: unknown): string | undefined {
	const code = (error as { code?: unknown } | null)?.code;
	return typeof code === 'string' ? code : undefined;
}

/** Creates the directory (mode 0700) and its parents if missing; an existing one is left as it is. */
export async function ensureDirectory(dir: string): Promise<void> {
	await mkdir(dir, { recursive: true, mode: DIRECTORY_MODE });
}

/**
 * Replaces `dir/name` with `text` so that a reader, in any process, sees the old bytes or the new,
 * never a part, and so that after a crash the file holds one or the other: a temp file in the same
 * directory is written and fsynced, renamed over the target, and the directory fsynced.
 * The temp file is removed if anything fails.
 */
export async function writeFileAtomic(dir: string, name: string, text: string): Promise<void> {
	const temp = join(dir, tempNameFor(name));
	try {
		const handle = await open(temp, 'wx', FILE_MODE);
		try {
			await handle.writeFile(text, 'utf8');
			await handle.sync();
		} finally {
			await handle.close();
		}
		await rename(temp, join(dir, name));
	} catch (error) {
		await rm(temp, { force: true }).catch(() => {});
		throw error;
	}
	await syncDirectory(dir);
}

/**
 * Creates `dir/name` holding `text` if no such file exists, in one step: the text is written to a
 * temp file first and hard-linked to the name, so nobody ever reads the file empty or half written.
 * @returns `false` when the file already exists.
 */
export async function createExclusive(dir: string, name: string, text: string): Promise<boolean> {
	const temp = join(dir, tempNameFor(name));
	try {
		await writeFile(temp, text, { flag: 'wx', mode: FILE_MODE });
		await link(temp, join(dir, name));
		return true;
	} catch (error) {
		if (errorCode(error) === 'EEXIST') return false;
		throw error;
	} finally {
		await rm(temp, { force: true }).catch(() => {});
	}
}

/** Makes a rename or unlink in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
	let handle: Awaited<ReturnType<typeof open>>;
	try {
		handle = await open(dir, 'r');
	} catch (error) {
		// Windows cannot open a directory; its renames are durable without this.
		if (errorCode(error) === 'EISDIR' || errorCode(error) === 'EPERM') return;
		throw error;
	}
	try {
		await handle.sync();
	} catch (error) {
		// Some file systems do not fsync directories (EINVAL); there is nothing more to do there.
		if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'ENOTSUP') throw error;
	} finally {
		await handle.close();
	}
}

/** A file's text, or `undefined` if there is none. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
	try {
		return await readFile(path, 'utf8');
	} catch (error) {
		if (errorCode(error) === 'ENOENT') return undefined;
		throw error;
	}
}

/** A file's text and identity at the moment it was read. */
export interface Snapshot {
	text: string;
	stats: Stats;
}

/** Reads a file and the identity of what was read, or `undefined` if there is none. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
	let handle: Awaited<ReturnType<typeof open>>;
	try {
		handle = await open(path, 'r');
	} catch (error) {
		if (errorCode(error) === 'ENOENT') return undefined;
		throw error;
	}
	try {
		// Read through the handle: a rename landing meanwhile cannot mix two files' bytes and stats.
		const stats = await handle.stat();
		return { text: await handle.readFile('utf8'), stats };
	} finally {
		await handle.close();
	}
}

/**
 * Moves `dir/name` to `dir/aside` if it is still the file `read` came from.
 * @returns `false` when another file took its place meanwhile (a writer replaced it, or another
 * reader moved it first); that file is left where it was.
 */
export async function moveAsideIfUnchanged(
	dir: string,
	name: string,
	aside: string,
	read: Stats,
): Promise<boolean> {
	const path = join(dir, name);
	const asidePath = join(dir, aside);
	try {
		await rename(path, asidePath);
	} catch (error) {
		if (errorCode(error) === 'ENOENT') return false;
		throw error;
	}
	const moved = await stat(asidePath);
	if (moved.ino === read.ino && moved.dev === read.dev) {
		await syncDirectory(dir);
		return true;
	}
	// A newer file was moved: put it back, unless an even newer one is already there.
	await link(asidePath, path).catch((error: unknown) => {
		if (errorCode(error) !== 'EEXIST') throw error;
	});
	await unlink(asidePath);
	return false;
}
