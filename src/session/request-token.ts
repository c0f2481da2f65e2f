import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { TokenRequestError } from '../errors/token-request-error.js';
import {
	type ProviderProfile,
	runTokenRequestHooks,
	runTokenResponseHooks,
	type TokenHttpResponse,
	tokenPhaseOf,
} from '../protocol/profile.js';
import type { Token } from '../protocol/token.js';
import {
	type BuildTokenRequestOptions,
	buildTokenRequest,
	decodeTokenResponseBody,
	mayEchoSecrets,
	type TokenRequestParts,
	toFetchArguments,
} from '../protocol/token-request.js';
import { isErrorAnswer, tokenFromAnswer } from '../protocol/token-response.js';
import { assertSecureTransport } from '../utils/secure-transport.js';
import type { NormalizedRetry } from './retry.js';

/** When and how often a token request is tried again after a transient failure. */
export interface RetryOptions {
	/**
	 * How many times to retry after the first attempt.
	 * @default 2
	 */
	retries?: number | undefined;
	/**
	 * The wait before the first retry, in milliseconds; it doubles each time, with jitter.
	 * @default 500
	 */
	minTimeout?: number | undefined;
	/**
	 * The longest wait between two retries, in milliseconds (a `Retry-After` may ask for longer).
	 * @default 5_000
	 */
	maxTimeout?: number | undefined;
	/**
	 * The longest `Retry-After` (429 or 503) honoured, in milliseconds. A server asking for a
	 * longer wait gets no retry: the request fails at once, as ky does, rather than hold the caller.
	 * @default 60_000
	 */
	maxRetryAfter?: number | undefined;
	/**
	 * The most time retrying may take, waits included, in milliseconds. No retry starts after it.
	 * @default 120_000
	 */
	maxRetryTime?: number | undefined;
}

/** How a token request is sent: everything but what the request says. */
export interface SendTokenRequestOptions {
	/**
	 * The `fetch` to send with.
	 * @default globalThis.fetch, looked up at each call (so test interceptors installed later work)
	 */
	fetch?: typeof fetch | undefined;
	/**
	 * Retries of network errors, timeouts, 5xx and 429 answers. Never of an answer the server
	 * meant, such as `invalid_grant`. `false` sends once.
	 * @default { retries: 2, minTimeout: 500, maxTimeout: 5_000, maxRetryAfter: 60_000, maxRetryTime: 120_000 }
	 */
	retry?: RetryOptions | false | undefined;
	/**
	 * How long one attempt may take, answer body included, in milliseconds.
	 * @default 30_000
	 */
	timeout?: number | undefined;
	/**
	 * The largest answer body read, in bytes. A longer body is refused while it streams in, and one
	 * whose `Content-Length` says more before it is read, with a `TokenResponseError` (`too-large`):
	 * a broken or hostile server cannot fill the memory.
	 * @default 1_048_576 (1 MiB)
	 */
	maxResponseSize?: number | undefined;
	/**
	 * Aborts the request, its retries and the waits between them; the promise rejects with its reason.
	 * @default undefined: only the timeout and the retry budget end it
	 */
	signal?: AbortSignal | undefined;
	/**
	 * Allows plain `http:` to hosts that are not loopback. Only for test setups you control.
	 * @default false
	 */
	allowInsecure?: boolean | undefined;
	/**
	 * Decodes the answer body instead of `decodeTokenResponseBody` (JSON or a form).
	 * @default decodeTokenResponseBody
	 */
	decoder?: ((text: string, response: Response) => unknown) | undefined;
	/**
	 * What the endpoint is called in error messages.
	 * @default 'token endpoint'
	 */
	endpointName?: string | undefined;
	/**
	 * The clock, in epoch milliseconds: when each attempt starts, and `Retry-After` dates.
	 * @default Date.now
	 */
	now?: (() => number) | undefined;
}

/**
 * What a DPoP session adds to a token request (RFC 9449 §5, §8): a fresh proof on each attempt, and
 * the nonces the token endpoint answers with.
 */
export interface TokenRequestProofs {
	/**
	 * The `DPoP` header of one attempt; it may wait for another request's nonce first, unless
	 * `signal` aborts.
	 */
	proof(method: string, url: URL, signal?: AbortSignal): Promise<string>;
	/** Takes the answer's `DPoP-Nonce`; whether to send once more with it (`use_dpop_nonce`). */
	answered(url: URL, answer: TokenHttpResponse): boolean;
	/** Called as each attempt's fetch settles, with its response, or none when it failed. */
	ended?(response: Response | undefined): void;
}

/** Options of `requestToken`: what to send, and how. */
export interface RequestTokenOptions extends BuildTokenRequestOptions, SendTokenRequestOptions {
	/**
	 * DPoP proofs for the request; the answer may then be a `DPoP` token.
	 * @default undefined: no proof, only `Bearer` tokens accepted
	 */
	dpop?: TokenRequestProofs | undefined;
	/**
	 * A provider profile: its token endpoint method, scope separator and token hooks are used.
	 * `method` and `scopeSeparator`, when given, win over the profile's.
	 * @default undefined: plain RFC 6749
	 */
	profile?: ProviderProfile | undefined;
}

/** An answer of a token-style endpoint that is neither transient nor a redirect. */
export interface TokenEndpointAnswer extends TokenHttpResponse {
	/** When the attempt that got this answer started, in epoch milliseconds. */
	requestedAt: number;
	/** How many attempts were made, this one included. */
	attempts: number;
	/** The raw response; its body has been read. */
	response: Response;
}

/** Every default of sending a token request, in one place. */
export const sendTokenRequestDefaults = {
	timeout: 30_000,
	maxResponseSize: 1_048_576,
	retry: {
		retries: 2,
		minTimeout: 500,
		maxTimeout: 5_000,
		maxRetryAfter: 60_000,
		maxRetryTime: 120_000,
	},
} as const;

/**
 * Sends a token request and parses the answer into a `Token` (RFC 6749 §5): builds the request
 * (grant, parameters, client authentication, the profile's hooks for the grant's phase), sends it
 * with retries of transient failures, decodes the answer and runs the profile's response hooks.
 *
 * @throws {OAuth2ResponseError} The server answered with an OAuth 2 error, such as `invalid_grant`.
 * @throws {TokenResponseError} The answer cannot be read or has no access token.
 * @throws {TokenRequestError} No usable answer: network error, timeout, 5xx or 429 after the
 *   retries, or a redirect.
 * @throws {InsecureTransportError} The endpoint is `http:` on a host that is not loopback.
 */
export async function requestToken(options: RequestTokenOptions): Promise<Token> {
	const { profile } = options;
	const phase = tokenPhaseOf(options.grant ?? { grantType: '' });
	const scopeSeparator = options.scopeSeparator ?? profile?.scopeSeparator ?? ' ';
	const build = {
		...options,
		scopeSeparator,
		method: options.method ?? profile?.tokenEndpointMethod,
	};
	const { dpop } = options;
	let sent: TokenRequestParts | undefined;
	const prepare = async () => {
		sent = await buildTokenRequest(build);
		await runTokenRequestHooks(profile, phase, sent);
		// Last, and on every attempt: each proof has its own jti, and covers the final URL.
		if (dpop !== undefined) {
			sent.headers.set('dpop', await dpop.proof(sent.method, sent.url, options.signal));
		}
		return sent;
	};
	const sendOptions =
		dpop?.ended === undefined ? options : { ...options, fetch: endingTurns(dpop, options.fetch) };
	let answer = await sendTokenRequest(prepare, sendOptions);
	// One more try, with the nonce the server just gave (RFC 9449 §8); a form body replays.
	if (dpop !== undefined && sent !== undefined && dpop.answered(sent.url, answer)) {
		answer = await sendTokenRequest(prepare, sendOptions);
		dpop.answered(sent.url, answer);
	}
	const { status, body } = runTokenResponseHooks(profile, phase, answer);
	let redacted = body;
	if (sent !== undefined && mayEchoSecrets(body, status)) {
		// Loaded with the first error answer: a successful answer echoes no secret to hide.
		const { redactEchoedSecrets } = await import('../protocol/redact.js');
		redacted = redactEchoedSecrets(body, sent.params, sent.headers, status);
	}
	if (isErrorAnswer(redacted, status)) {
		// Loaded on first use, as sign-in is: a page whose refreshes succeed never reads an error
		// answer, nor downloads the error classes and the specification's text for each code.
		const { throwErrorAnswer } = await import('../protocol/error-response.js');
		throwErrorAnswer(redacted, status, answer.response);
	}
	return tokenFromAnswer(redacted, {
		requestedAt: answer.requestedAt,
		status,
		scopeSeparator,
		response: answer.response,
		tokenTypes: dpop === undefined ? undefined : ['DPoP', 'Bearer'],
	});
}

/** `fetchFn` telling `dpop` as each attempt's fetch settles: token requests held for its nonce go on. */
function endingTurns(dpop: TokenRequestProofs, fetchFn: typeof fetch | undefined): typeof fetch {
	return async (input, init) => {
		let response: Response | undefined;
		try {
			response = await (fetchFn ?? globalThis.fetch)(input, init);
			return response;
		} finally {
			dpop.ended?.(response);
		}
	};
}

/**
 * Sends a request to a token-style endpoint (token, revocation, introspection, device
 * authorization) and decodes the answer, retrying transient failures. `request` may be a function,
 * called for each attempt, so a client assertion gets a fresh `jti` each time.
 *
 * Returns every answer that is not transient, error answers included: judging them is the caller's.
 *
 * @throws {TokenRequestError} Network error, timeout, 5xx or 429 after the retries, or a redirect.
 * @throws {TokenResponseError} The body cannot be decoded (`unparseable`).
 * @throws {InsecureTransportError} The endpoint is `http:` on a host that is not loopback.
 */
export async function sendTokenRequest(
	request: TokenRequestParts | (() => TokenRequestParts | Promise<TokenRequestParts>),
	options: SendTokenRequestOptions = {},
): Promise<TokenEndpointAnswer> {
	const timeout = positive(options.timeout, sendTokenRequestDefaults.timeout, 'timeout');
	const maxResponseSize = positive(
		options.maxResponseSize,
		sendTokenRequestDefaults.maxResponseSize,
		'maxResponseSize',
		'bytes',
	);
	const now = options.now ?? Date.now;
	const send = (attemptNumber: number) =>
		sendOnce(typeof request === 'function' ? request : () => request, attemptNumber, {
			...options,
			timeout,
			maxResponseSize,
			now,
		});
	const retry = options.retry === false ? undefined : normalizeRetry(options.retry ?? {});
	const started = performance.now();
	// The first attempt is sent as p-retry sends it, without p-retry: it loads only when a
	// transient failure is to be retried, which a page whose refreshes succeed never sees.
	try {
		options.signal?.throwIfAborted();
		const answer = await send(1);
		options.signal?.throwIfAborted();
		return answer;
	} catch (error) {
		options.signal?.throwIfAborted();
		if (!isTransient(error)) throw error instanceof Error ? error : new Error(String(error));
		if (retry === undefined || retry.retries === 0) throw error;
		const { retryAfterFirstFailure } = await import('./retry.js');
		return retryAfterFirstFailure(error, retry, {
			send,
			isTransient,
			started,
			signal: options.signal,
		});
	}
}

type Prepare = () => TokenRequestParts | Promise<TokenRequestParts>;
type SendOptions = SendTokenRequestOptions & {
	timeout: number;
	maxResponseSize: number;
	now: () => number;
};

async function sendOnce(
	prepare: Prepare,
	attempts: number,
	options: SendOptions,
): Promise<TokenEndpointAnswer> {
	const request = await prepare();
	assertSecureTransport(request.url, options.allowInsecure ?? false);
	const [url, init] = toFetchArguments(request);
	const timeoutSignal = AbortSignal.timeout(options.timeout);
	const signal =
		options.signal === undefined ? timeoutSignal : AbortSignal.any([options.signal, timeoutSignal]);
	const fetchFn = options.fetch ?? globalThis.fetch;
	const attempt = {
		name: options.endpointName ?? 'token endpoint',
		origin: request.url.origin,
		attempts,
	};
	const requestedAt = options.now();
	let response: Response;
	let text: string;
	try {
		response = await fetchFn(url, { ...init, signal });
		if (isRedirect(response) || response.status >= 500 || response.status === 429) {
			await discardBody(response);
			const now = options.now();
			const { answerFailure } = await import('./request-failure.js');
			throw answerFailure(response, attempt, now);
		}
		const read = await readText(response, options.maxResponseSize);
		if (read === undefined) {
			const { tooLarge } = await import('./request-failure.js');
			throw tooLarge(response, attempt, options.maxResponseSize);
		}
		text = read;
	} catch (error) {
		if (error instanceof TokenRequestError) throw error;
		if (options.signal?.aborted) throw options.signal.reason;
		const timedOut = timeoutSignal.aborted;
		if (timedOut || error instanceof TypeError) {
			const { noAnswer } = await import('./request-failure.js');
			throw noAnswer(error, timedOut, attempt, url, options.timeout);
		}
		throw error;
	}
	let body: unknown;
	try {
		body =
			options.decoder === undefined
				? decodeTokenResponseBody(text, response.headers.get('content-type'), response.status)
				: options.decoder(text, response);
	} catch (error) {
		const { undecodable } = await import('./request-failure.js');
		throw undecodable(error, options.decoder !== undefined, text, response, request);
	}
	return {
		status: response.status,
		headers: response.headers,
		body,
		requestedAt,
		attempts,
		response,
	};
}

/**
 * The body as text, stopped and cancelled as soon as it passes `limit` bytes (or refused unread
 * when its `Content-Length` does): `response.text()` would hold any size in memory first.
 * `undefined` when it is over the limit.
 */
async function readText(response: Response, limit: number): Promise<string | undefined> {
	if (Number(response.headers.get('content-length')) > limit) {
		await discardBody(response);
		return undefined;
	}
	const reader = response.body?.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
		size += read.value.byteLength;
		if (size > limit) {
			await reader?.cancel().catch(() => {});
			return undefined;
		}
		chunks.push(read.value);
	}
	return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

/** A failure worth another attempt: no answer, a timeout, a 5xx or a 429 (not a redirect). */
function isTransient(error: unknown): error is TokenRequestError {
	return error instanceof TokenRequestError && error.reason !== 'redirect';
}

function isRedirect(response: Response): boolean {
	// In browsers a manual redirect is an opaque response with status 0; in Node, the 3xx itself.
	return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
}

async function discardBody(response: Response): Promise<void> {
	// An unread body keeps its connection busy until garbage collection.
	await response.body?.cancel().catch(() => {});
}

function positive(
	value: number | undefined,
	fallback: number,
	option: string,
	unit = 'milliseconds',
): number {
	if (value === undefined) return fallback;
	if (typeof value !== 'number' || !(value > 0)) {
		throw new InvalidOptionsError(`${option} must be a number of ${unit} above 0`);
	}
	return value;
}

function normalizeRetry(retry: RetryOptions): NormalizedRetry {
	const defaults = sendTokenRequestDefaults.retry;
	const normalized: NormalizedRetry = {
		retries: retry.retries ?? defaults.retries,
		minTimeout: retry.minTimeout ?? defaults.minTimeout,
		maxTimeout: retry.maxTimeout ?? defaults.maxTimeout,
		maxRetryAfter: retry.maxRetryAfter ?? defaults.maxRetryAfter,
		maxRetryTime: retry.maxRetryTime ?? defaults.maxRetryTime,
	};
	// Checked before the first attempt, since p-retry, which would refuse them, loads only after it.
	for (const [option, value] of Object.entries(normalized)) {
		const form =
			option === 'retries'
				? Number.isInteger(value) || value === Number.POSITIVE_INFINITY
				: option !== 'minTimeout' || Number.isFinite(value);
		if (typeof value !== 'number' || !(value >= 0) || !form) {
			throw new InvalidOptionsError(
				`retry.${option} must be ${option === 'retries' ? 'a whole number' : 'a number of milliseconds'}, 0 or more`,
			);
		}
	}
	return normalized;
}
