import { OAuth2Error } from './oauth2-error.js';

/**
 * Why a token request did not get an answer that could be judged:
 * - `network`: the connection failed or was reset;
 * - `timeout`: no answer within the request's timeout;
 * - `http`: a 5xx or 429 answer, still failing after the retries;
 * - `redirect`: the token endpoint redirected, which is never followed (secrets must not be re-posted);
 * - `backoff`: not sent: the last refresh failed (its error is the `cause`) and the session waits
 *   until `retryAt` before it tries again.
 */
export type TokenRequestFailure = 'network' | 'timeout' | 'http' | 'redirect' | 'backoff';

/**
 * A token request failed for a reason that says nothing about the grant: a network error, a timeout,
 * a 5xx or 429 answer. A session never ends for this error; it keeps its tokens and tries again later.
 */
export class TokenRequestError extends OAuth2Error {
	override name = 'TokenRequestError';
	/** What went wrong. */
	readonly reason: TokenRequestFailure;
	/** The HTTP status, for `http` and `redirect`. */
	readonly status: number | undefined;
	/** How many requests were made before giving up. */
	readonly attempts: number;
	/** For `backoff`: when the session tries to refresh again, in epoch milliseconds. */
	readonly retryAt: number | undefined;

	constructor(
		message: string,
		details: {
			reason: TokenRequestFailure;
			status?: number | undefined;
			attempts: number;
			retryAt?: number | undefined;
		},
		options: { cause?: unknown } = {},
	) {
		super(message, 'TOKEN_REQUEST_FAILED', options);
		this.reason = details.reason;
		this.status = details.status;
		this.attempts = details.attempts;
		this.retryAt = details.retryAt;
	}
}
