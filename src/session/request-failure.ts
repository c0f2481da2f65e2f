// Why a token-style request got no usable answer: a redirect, a 5xx or 429, a timeout, a network
// error, a body too large or that cannot be decoded. request-token.ts loads this module on the
// first such failure, so a page whose requests are answered never downloads the messages.
import { OAuth2Error } from '../errors/oauth2-error.js';
import { TokenRequestError } from '../errors/token-request-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { redactText, sentSecrets } from '../protocol/redact.js';
import type { TokenRequestParts } from '../protocol/token-request.js';

/** What a failure's message names: the endpoint, where it is, and how many attempts were made. */
export interface FailedAttempt {
	name: string;
	origin: string;
	attempts: number;
}

// The wait a transient answer asked for; kept off the error so it stays plain data.
const retryAfter = new WeakMap<Error, number>();

/** The wait, in milliseconds, that the answer behind `error` asked for with `Retry-After`. */
export function retryAfterOf(error: Error): number | undefined {
	return retryAfter.get(error);
}

/**
 * The error of a redirect (never followed, so credentials are not sent on) or of a 5xx or 429
 * answer, which is retried: its `Retry-After` is kept for `retryAfterOf`.
 */
export function answerFailure(
	response: Response,
	{ name, origin, attempts }: FailedAttempt,
	now: number,
): TokenRequestError {
	if (response.status < 500 && response.status !== 429) {
		return new TokenRequestError(
			`The ${name} at ${origin} redirected (HTTP ${response.status}); token requests do not follow redirects, so credentials are not sent on`,
			{ reason: 'redirect', status: response.status || undefined, attempts },
		);
	}
	const error = new TokenRequestError(
		`The ${name} at ${origin} answered HTTP ${response.status} (${count(attempts)})`,
		{ reason: 'http', status: response.status, attempts },
	);
	const wait = retryAfterDelay(response.headers.get('retry-after'), now);
	if (wait !== undefined) retryAfter.set(error, wait);
	return error;
}

/** The error of an attempt that got no answer: it timed out, or fetch failed (a `TypeError`). */
export function noAnswer(
	error: unknown,
	timedOut: boolean,
	{ name, origin, attempts }: FailedAttempt,
	url: string,
	timeout: number,
): TokenRequestError {
	if (timedOut) {
		return new TokenRequestError(
			`The ${name} at ${origin} did not answer within ${timeout} ms (${count(attempts)})`,
			{ reason: 'timeout', attempts },
			{ cause: error },
		);
	}
	// fetch rejects with a TypeError for every network failure; which one is not exposed portably.
	// Its message stays out of ours: some fetch implementations put the URL, query and all, in it.
	return new TokenRequestError(
		`Could not reach the ${name} at ${origin}: network error (${count(attempts)})`,
		{ reason: 'network', attempts },
		{ cause: error instanceof TypeError ? withoutQuery(error, url) : error },
	);
}

/** The error of a body over `maxResponseSize`, which was not read whole. */
export function tooLarge(
	response: Response,
	{ name, origin }: FailedAttempt,
	maxResponseSize: number,
): TokenResponseError {
	return new TokenResponseError(
		`The ${name} at ${origin} answered with a body over ${maxResponseSize} bytes (maxResponseSize)`,
		{ problem: 'too-large', status: response.status },
	);
}

/**
 * The error of a body the decoder could not read (`custom` when it was the caller's decoder), the
 * kept body redacted of what the request sent: a server's error page may quote the form or headers.
 */
export function undecodable(
	error: unknown,
	custom: boolean,
	text: string,
	response: Response,
	request: TokenRequestParts,
): unknown {
	const failure =
		custom && !(error instanceof OAuth2Error)
			? new TokenResponseError(
					`The custom decoder could not read the token endpoint's answer (HTTP ${response.status})`,
					{ problem: 'unparseable', status: response.status, body: text },
					{ cause: withoutMessage(error) },
				)
			: error;
	if (!(failure instanceof TokenResponseError) || failure.body === undefined) return failure;
	return new TokenResponseError(
		failure.message,
		{
			problem: failure.problem,
			status: failure.status,
			body: redactText(failure.body, sentSecrets(request.params, request.headers)),
		},
		{ cause: failure.cause },
	);
}

/** The error's kind without its message: a parser's message quotes the text (JSON.parse does). */
function withoutMessage(error: unknown): Error {
	const message = 'left out: it may quote the answer';
	const copy = error instanceof SyntaxError ? new SyntaxError(message) : new Error(message);
	if (error instanceof Error) copy.name = error.name;
	return copy;
}

/**
 * How long a `Retry-After` header asks to wait, in milliseconds (RFC 9110 §10.2.3): a number of
 * seconds or an HTTP date. `undefined` when absent or unreadable; `0` for a date in the past.
 */
export function retryAfterDelay(header: string | null, now: number): number | undefined {
	if (header === null) return undefined;
	const value = header.trim();
	if (/^\d+$/.test(value)) return Number(value) * 1000;
	const date = /^[A-Za-z]{3},/.test(value) ? Date.parse(value) : Number.NaN;
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error, or a copy without the request's query when it quotes it (a GET carries secrets there). */
function withoutQuery(error: TypeError, url: string): TypeError {
	const start = url.indexOf('?');
	const query = start === -1 ? '' : url.slice(start);
	if (query === '' || !error.message.includes(query)) return error;
	return new TypeError(error.message.split(query).join('?[redacted]'));
}

function count(attempts: number): string {
	return `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}`;
}
