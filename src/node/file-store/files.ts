import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import {
	type FileHandle,
	link,
	lstat,
	mkdir,
	open,
	rename,
	rm,
	stat,
	unlink,
	writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_RECORD_BYTES } from '../../storage/token-store.js';
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

/** The most bytes a record (or a lock file) may have: more is not something this library wrote. */
const MAX_FILE_BYTES = MAX_RECORD_BYTES;

// A planted symlink is not followed (ELOOP) and a planted FIFO does not block the open. Windows
// has neither flag (0): its symlinks need privileges to create.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const CREATE_FLAGS =
	constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Why a file of the store was not read: what is at its name is not a file this library wrote. */
export class UnsafeFileError extends Error {
	constructor(readonly reason: 'link' | 'not-a-file' | 'too-large') {
		super(
			reason === 'link'
				? 'is a symbolic link'
				: reason === 'not-a-file'
					? 'is not a regular file'
					: `is larger than the ${MAX_FILE_BYTES / 1024 / 1024} MiB a record may be`,
		);
	}
}

/** Why the store's directory is refused: another user could plant or replace its files. */
export class UnsafeDirectoryError extends Error {}

/**
 * Checks that only this user can change what is in `dir`: owned by this user, not writable by
 * group or others. A missing directory passes (it will be created 0700).
 * @returns whether the directory was there to check.
 * @throws {UnsafeDirectoryError} naming the fix.
 */
export async function checkDirectoryIsPrivate(dir: string): Promise<boolean> {
	const uid = process.getuid?.();
	// Windows guards directories with ACLs, which modes do not describe.
	if (uid === undefined) return true;
	let stats: Stats;
	try {
		stats = await stat(dir);
	} catch (error) {
		if (errorCode(error) === 'ENOENT') return false;
		throw error;
	}
	if (stats.uid !== uid) {
		throw new UnsafeDirectoryError(
			`The file store's directory ${dir} is owned by another user (uid ${stats.uid}, not ${uid}), who could replace its records: give the store a directory of your own, or chown it to uid ${uid}`,
		);
	}
	if ((stats.mode & 0o022) !== 0) {
		throw new UnsafeDirectoryError(
			`The file store's directory ${dir} is writable by others (mode 0${(stats.mode & 0o7777).toString(8)}), who could plant or replace its records: run chmod 700 "${dir}"`,
		);
	}
	return true;
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

/**
 * Creates `path` with nothing in it, unless something is already there (left alone).
 * @returns `false` when the name was taken.
 */
export async function createEmptyIfAbsent(path: string): Promise<boolean> {
	try {
		await (await open(path, CREATE_FLAGS, FILE_MODE)).close();
		return true;
	} catch (error) {
		if (errorCode(error) === 'EEXIST') return false;
		throw error;
	}
}

/**
 * A file's text, or `undefined` if there is none.
 * @throws {UnsafeFileError} for a symlink, a non-file, or more than `MAX_FILE_BYTES`.
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
	return (await readSnapshot(path))?.text;
}

/** `readTextIfExists`, synchronously. */
export function readTextIfExistsSync(path: string): string | undefined {
	let fd: number;
	try {
		fd = openSync(path, READ_FLAGS);
	} catch (error) {
		return openFailed(error);
	}
	try {
		const stats = fstatSync(fd);
		checkReadable(stats);
		const buffer = Buffer.alloc(Math.min(stats.size, MAX_FILE_BYTES) + 1);
		let length = 0;
		for (let n = 1; n > 0 && length < buffer.length; length += n) {
			n = readSync(fd, buffer, length, buffer.length - length, null);
		}
		return decodeBounded(buffer, length);
	} finally {
		closeSync(fd);
	}
}

/** A file's text and identity at the moment it was read. */
export interface Snapshot {
	text: string;
	stats: Stats;
}

/** Reads a file and the identity of what was read, or `undefined` if there is none. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
	let handle: FileHandle;
	try {
		handle = await open(path, READ_FLAGS);
	} catch (error) {
		return openFailed(error);
	}
	try {
		// Read through the handle: a rename landing meanwhile cannot mix two files' bytes and stats.
		const stats = await handle.stat();
		checkReadable(stats);
		// One byte past the limit tells a file that grew since its stat.
		const buffer = Buffer.alloc(Math.min(stats.size, MAX_FILE_BYTES) + 1);
		let length = 0;
		for (let n = 1; n > 0 && length < buffer.length; length += n) {
			({ bytesRead: n } = await handle.read(buffer, length, buffer.length - length, null));
		}
		return { text: decodeBounded(buffer, length), stats };
	} finally {
		await handle.close();
	}
}

function openFailed(error: unknown): undefined {
	if (errorCode(error) === 'ENOENT') return undefined;
	if (errorCode(error) === 'ELOOP') throw new UnsafeFileError('link');
	throw error;
}

function checkReadable(stats: Stats): void {
	if (!stats.isFile()) throw new UnsafeFileError('not-a-file');
	if (stats.size > MAX_FILE_BYTES) throw new UnsafeFileError('too-large');
}

function decodeBounded(buffer: Buffer, length: number): string {
	if (length > MAX_FILE_BYTES) throw new UnsafeFileError('too-large');
	return buffer.toString('utf8', 0, length);
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
	const moved = await lstat(asidePath);
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
