import type { UseStore } from 'idb-keyval';
import type { LockOptions } from '../token-store.js';
import {
	lockTimeout,
	readModifyWrite,
	settledOrElapsed,
	unavailableOnError,
} from './transaction.js';

/** A lock held through a record in the object store, where Web Locks are missing. */
interface Lease {
	owner: string;
	/** Epoch milliseconds after which anyone may take the lease. */
	expiresAt: number;
}

/** Where a key's lease is kept: an array key, so it can never collide with a record's string key. */
const leaseKey = (key: string): IDBValidKey => ['lease', key];

/** Pause between tries while the lease is held: short at first, then at most this. */
const LONGEST_PAUSE = 100;

/**
 * Runs `fn` holding a lease record on `key`: taken inside a readwrite transaction only when absent
 * or expired, given back when `fn` settles or `ttl` passes. Waiters poll until `waitTimeout`.
 * A holder that dies (tab closed or crashed) keeps the lease until its `ttl` runs out: unlike a
 * Web Lock, nothing releases it sooner.
 */
export async function withLease<T>(
	useStore: UseStore,
	key: string,
	fn: () => Promise<T>,
	options: LockOptions,
): Promise<T> {
	const owner = randomOwner();
	const deadline = Date.now() + options.waitTimeout;
	for (let pause = 5; !(await tryTake(useStore, key, owner, options.ttl)); pause *= 2) {
		const left = deadline - Date.now();
		if (left <= 0) throw lockTimeout(key);
		// Jitter keeps waiting tabs from retrying in step.
		const wait = Math.min(pause, LONGEST_PAUSE) * (0.5 + Math.random());
		await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
	}
	const outcome = new Promise<T>((resolve) => resolve(fn()));
	await settledOrElapsed(outcome, options.ttl);
	try {
		await giveBack(useStore, key, owner);
	} catch {
		// The lease expires at its ttl anyway; failing a finished fn over it would lose its result.
	}
	return outcome;
}

function tryTake(useStore: UseStore, key: string, owner: string, ttl: number): Promise<boolean> {
	let taken = false;
	return unavailableOnError(key, 'take the lock on', async () => {
		await readModifyWrite(useStore, leaseKey(key), (store, current) => {
			const now = Date.now();
			if (isLease(current) && current.expiresAt > now) return;
			store.put({ owner, expiresAt: now + ttl } satisfies Lease, leaseKey(key));
			taken = true;
		});
		return taken;
	});
}

function giveBack(useStore: UseStore, key: string, owner: string): Promise<void> {
	// Only our own lease: after our ttl another holder may have taken it.
	return readModifyWrite(useStore, leaseKey(key), (store, current) => {
		if (isLease(current) && current.owner === owner) store.delete(leaseKey(key));
	});
}

function isLease(value: unknown): value is Lease {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as Lease).owner === 'string' &&
		typeof (value as Lease).expiresAt === 'number'
	);
}

function randomOwner(): string {
	// getRandomValues, unlike randomUUID, exists in insecure contexts, where this lock is most needed.
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
