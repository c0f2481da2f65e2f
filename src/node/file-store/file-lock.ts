/**
 * A lock shared by the processes of one machine, made of files.
 *
 * A key's lock is a series of generations, each a file `<lockPrefix><n>` created exclusively and
 * holding its holder's owner id, pid, host and expiry. Generation n is held from its creation until
 * its holder writes the marker `<lockPrefix><n>-free`, its expiry passes, or its process is gone.
 *
 * Taking the lock is one exclusive step whether it is free or stale: list the generations, and if
 * the newest one is free or stale, create the next. Two waiters that both find generation n stale
 * both try to create n + 1, and the file system lets only one. Nobody ever deletes the newest
 * generation (release writes a marker beside it; a holder deletes only older ones), so a name can
 * be created again only when a newer generation exists. A creator therefore lists again once it
 * has created its file, and gives way if it finds a newer one: its listing was out of date.
 */

import { randomUUID } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
	createEmptyIfAbsent,
	createExclusive,
	errorCode,
	readTextIfExists,
	UnsafeFileError,
} from './files.js';

/** A lock this process holds. */
export interface HeldLock {
	readonly dir: string;
	readonly name: string;
	readonly owner: string;
}

/** What a generation's file holds. */
interface Holder {
	owner: string;
	pid: number;
	host: string;
	expiresAt: number;
}

interface Generation {
	number: number;
	/** Its holder's file is there (it may still be stale). */
	created: boolean;
	/** Its holder released it. */
	freed: boolean;
}

const FREE_SUFFIX = '-free';

/**
 * Takes the lock if it is free or stale, with a holder record that expires after `ttl` ms.
 * @returns `undefined` when another process holds it.
 */
export async function tryLock(
	dir: string,
	lockPrefix: string,
	ttl: number,
): Promise<HeldLock | undefined> {
	const newest = latest(await generationsOf(dir, lockPrefix));
	if (newest?.created && !newest.freed && !(await isStale(join(dir, lockPrefix + newest.number)))) {
		return undefined;
	}
	const number = (newest?.number ?? 0) + 1;
	const holder: Holder = {
		owner: randomUUID(),
		pid: process.pid,
		host: hostname(),
		expiresAt: Date.now() + ttl,
	};
	const name = lockPrefix + number;
	if (!(await createExclusive(dir, name, JSON.stringify(holder)))) return undefined;
	const held: HeldLock = { dir, name, owner: holder.owner };
	const generations = await generationsOf(dir, lockPrefix);
	if ((latest(generations)?.number ?? 0) > number) {
		await removeIfOwned(held);
		return undefined;
	}
	// Older generations are history now; a holder that outlived its ttl finds its file gone.
	await Promise.all(
		generations
			.filter((generation) => generation.number < number)
			.flatMap((generation) => [
				lockPrefix + generation.number,
				lockPrefix + generation.number + FREE_SUFFIX,
			])
			.map((old) => unlink(join(dir, old)).catch(() => {})),
	);
	return held;
}

/**
 * Releases a lock this process took, if it still holds it: after its ttl another process may have
 * taken the lock over, and that lock is not ours to release.
 */
export async function releaseLock(held: HeldLock): Promise<void> {
	if (!(await owns(held))) return;
	// Never through a file already there: a symlink planted at the name would have its target
	// truncated. Whatever is there marks the generation free already.
	await createEmptyIfAbsent(join(held.dir, held.name + FREE_SUFFIX));
}

async function removeIfOwned(held: HeldLock): Promise<void> {
	if (await owns(held)) await unlink(join(held.dir, held.name)).catch(() => {});
}

async function owns(held: HeldLock): Promise<boolean> {
	const holder = await readHolder(join(held.dir, held.name));
	return holder !== undefined && holder !== 'unreadable' && holder.owner === held.owner;
}

async function generationsOf(dir: string, lockPrefix: string): Promise<Generation[]> {
	const found = new Map<number, Generation>();
	for (const name of await readdir(dir)) {
		if (!name.startsWith(lockPrefix)) continue;
		const match = /^(\d{1,15})(-free)?$/.exec(name.slice(lockPrefix.length));
		if (match === null) continue;
		const number = Number(match[1]);
		const generation = found.get(number) ?? { number, created: false, freed: false };
		if (match[2] === undefined) generation.created = true;
		else generation.freed = true;
		found.set(number, generation);
	}
	return [...found.values()];
}

function latest(generations: Generation[]): Generation | undefined {
	let newest: Generation | undefined;
	for (const generation of generations) {
		if (newest === undefined || generation.number > newest.number) newest = generation;
	}
	return newest;
}

/** Whether a holder's file may be taken over: expired, unreadable, or its process is gone. */
async function isStale(path: string): Promise<boolean> {
	const holder = await readHolder(path);
	// Gone since the listing: released and cleaned up, so the next generation may be taken.
	if (holder === undefined) return true;
	// Holder files are never seen half written (they are linked into place whole), so one that
	// cannot be read was damaged, by a crash of the machine or by hand.
	if (holder === 'unreadable') return true;
	if (Date.now() >= holder.expiresAt) return true;
	return holder.host === hostname() && !isProcessAlive(holder.pid);
}

async function readHolder(path: string): Promise<Holder | 'unreadable' | undefined> {
	let text: string | undefined;
	try {
		text = await readTextIfExists(path);
	} catch (error) {
		if (error instanceof UnsafeFileError) return 'unreadable';
		throw error;
	}
	if (text === undefined) return undefined;
	try {
		const value = JSON.parse(text) as Partial<Holder> | null;
		if (
			typeof value?.owner === 'string' &&
			typeof value.host === 'string' &&
			Number.isSafeInteger(value.pid) &&
			(value.pid as number) > 0 &&
			typeof value.expiresAt === 'number'
		) {
			return value as Holder;
		}
	} catch {
		// Reported as unreadable below.
	}
	return 'unreadable';
}

function isProcessAlive(pid: number): boolean {
	try {
		// Signal 0 checks that the process exists without touching it.
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: it exists, under another user.
		return errorCode(error) !== 'ESRCH';
	}
}
