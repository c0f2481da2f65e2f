// What follows a first transient failure of a token request: p-retry, and how each retry is
// judged. request-token.ts loads this module then, so a page whose token requests succeed at once
// never downloads it.
import pRetry, { AbortError } from 'p-retry';
import { delay } from '../utils/delay.js';
import { retryAfterOf } from './request-failure.js';

/** The retry options with every default filled in. */
export interface NormalizedRetry {
	retries: number;
	minTimeout: number;
	maxTimeout: number;
	maxRetryAfter: number;
	maxRetryTime: number;
}

/** What retrying needs from the request it goes on with. */
export interface RetryContext<T> {
	/** Sends attempt number `attemptNumber` (2, 3...). */
	send: (attemptNumber: number) => Promise<T>;
	/** Whether a failure is worth another attempt; any other ends the retries. */
	isTransient: (error: unknown) => boolean;
	/** When the first attempt started, from `performance.now()`. */
	started: number;
	signal: AbortSignal | undefined;
}

/**
 * Goes on retrying a request whose first attempt failed with `first`, as p-retry would have had
 * it sent that attempt: p-retry judges `first` as its own first failure. The clock it keeps for
 * `maxRetryTime` starts now, so it gets what is left of it.
 */
export function retryAfterFirstFailure<T>(
	first: Error,
	retry: NormalizedRetry,
	context: RetryContext<T>,
): Promise<T> {
	const attempt = (attemptNumber: number) =>
		attemptNumber === 1
			? Promise.reject(first)
			: context.send(attemptNumber).catch((error: unknown) => {
					if (context.isTransient(error)) throw error;
					throw new AbortError(error instanceof Error ? error : new Error(String(error)));
				});
	return pRetry(attempt, {
		retries: retry.retries,
		minTimeout: retry.minTimeout,
		maxTimeout: retry.maxTimeout,
		maxRetryTime: Math.max(0, retry.maxRetryTime - (performance.now() - context.started)),
		// Jitter, so clients that failed together do not all come back at the same moment.
		randomize: true,
		signal: context.signal,
		shouldRetry: async ({ error, retryDelay }) => {
			const wanted = retryAfterOf(error);
			if (wanted === undefined) return true;
			const elapsed = performance.now() - context.started;
			if (wanted > retry.maxRetryAfter || elapsed + wanted > retry.maxRetryTime) return false;
			// p-retry waits retryDelay after this; only the rest of what the server asked is waited here.
			await delay(wanted - retryDelay, context.signal);
			return true;
		},
	});
}
