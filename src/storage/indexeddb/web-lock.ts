import { StorageError } from '../../errors/storage-error.js';
import type { LockOptions } from '../token-store.js';
import { lockTimeout, settledOrElapsed } from './transaction.js';

/**
 * Runs `fn` under an exclusive Web Lock named `name`. The browser releases the lock when the tab
 * or worker holding it goes away (closed, crashed, navigated), so a dead holder never blocks the
 * others; `ttl` bounds a holder that is alive but hung: after it, the lock is released while `fn`
 * may still run, and the caller still gets what `fn` settles with.
 */
export async function withWebLock<T>(
	locks: LockManager,
	name: string,
	key: string,
	fn: () => Promise<T>,
	options: LockOptions,
): Promise<T> {
	let outcome: Promise<T> | undefined;
	const hold = async (lock: Lock | null): Promise<void> => {
		// Only with ifAvailable: somebody else holds it and waiting was not allowed.
		if (lock === null) return;
		outcome = new Promise<T>((resolve) => resolve(fn()));
		await settledOrElapsed(outcome, options.ttl);
	};
	const signal = options.waitTimeout > 0 ? AbortSignal.timeout(options.waitTimeout) : undefined;
	try {
		await (signal === undefined
			? locks.request(name, { mode: 'exclusive', ifAvailable: true }, hold)
			: locks.request(name, { mode: 'exclusive', signal }, hold));
	} catch (error) {
		if (outcome !== undefined) return outcome;
		if (signal?.aborted) throw lockTimeout(key);
		throw new StorageError(
			`The Web Lock on "${key}" could not be requested`,
			{ problem: 'unavailable', key },
			{ cause: error },
		);
	}
	if (outcome === undefined) throw lockTimeout(key);
	return outcome;
}
