/**
 * Waits for a shared promise on behalf of one caller: the caller's abort rejects its own wait at
 * once, and leaves the promise (a refresh other callers share) running.
 */
export function whileNotAborted<T>(
	promise: Promise<T>,
	signal: AbortSignal | null | undefined,
): Promise<T> {
	if (signal === undefined || signal === null) return promise;
	return new Promise<T>((resolve, reject) => {
		signal.throwIfAborted();
		const onAbort = () => reject(signal.reason);
		signal.addEventListener('abort', onAbort, { once: true });
		promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
	});
}
