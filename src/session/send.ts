import type { ProtectedRequestHook } from '../protocol/profile.js';

/** A request ready to be sent, and sent again after a 401. */
export interface PreparedRequest {
	url: URL;
	/**
	 * The caller's init, with headers as a `Headers`, a body that can be sent again, the method
	 * upper-cased, and `redirect: 'manual'` when the session follows redirects itself.
	 */
	init: RequestInit & { headers: Headers };
	/** False when the body is a stream: it can be sent only once, so a 401 is not retried. */
	replayable: boolean;
	/** The session follows redirects by hand (see `followRedirects`), not fetch. */
	followsRedirects: boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
// Fetch standard, HTTP-redirect fetch: the body headers go with the body when a redirect drops
// it; the credentials go at a hop to another origin (undici, which Node's fetch is, adds Cookie and
// Host to the standard's list, as browsers drop them by other means).
const BODY_HEADERS = [
	'content-type',
	'content-length',
	'content-encoding',
	'content-language',
	'content-location',
];
const CROSS_ORIGIN_HEADERS = ['proxy-authorization', 'cookie', 'host'];

// Browsers hide manual redirects (an opaque response), and strip Authorization on cross-origin
// redirects themselves (Fetch standard); elsewhere the session follows redirects by hand.
const followsRedirectsByHand =
	typeof (globalThis as { document?: unknown }).document === 'undefined' &&
	typeof (globalThis as { importScripts?: unknown }).importScripts === 'undefined';

/**
 * Resolves the URL and makes the body replayable. A `Request` is read into a buffer (its body
 * would otherwise be consumed by the first send); a `ReadableStream` body is left as it is.
 * A URL needs no reading, so it is prepared at once, without a promise: every `session.fetch`
 * pays for each turn of the microtask queue it adds (bench:overhead).
 */
export function prepareRequest(
	input: RequestInfo | URL,
	init: RequestInit | undefined,
	baseUrl: URL | undefined,
): PreparedRequest | Promise<PreparedRequest> {
	if (typeof input === 'string' || input instanceof URL) {
		const body = init?.body;
		const copied = { ...init, headers: new Headers(init?.headers) };
		return {
			// As fetch does in a page: a relative URL resolves against the document when no baseUrl is set.
			url: new URL(
				input,
				baseUrl ?? (globalThis as { location?: { href: string } }).location?.href,
			),
			init: copied,
			replayable: !isStream(body),
			followsRedirects: forSending(copied),
		};
	}
	return prepareFromRequest(input, init);
}

/**
 * Upper-cases the method, as ky does: fetch upper-cases only the standard methods, and a server
 * may refuse `patch` where it takes `PATCH`. Sets `redirect: 'manual'` where the session follows
 * redirects itself, and says whether it does.
 */
function forSending(init: RequestInit): boolean {
	if (init.method !== undefined) init.method = init.method.toUpperCase();
	const byHand = followsRedirectsByHand && (init.redirect ?? 'follow') === 'follow';
	if (byHand) init.redirect = 'manual';
	return byHand;
}

function prepareFromRequest(
	input: Request,
	init: RequestInit | undefined,
): PreparedRequest | Promise<PreparedRequest> {
	const request = init === undefined ? input : new Request(input, init);
	// Without a body there is nothing to read: no promise (a GET through createKy takes this path).
	return request.body === null
		? fromRequest(request, init)
		: request
				.clone()
				.arrayBuffer()
				.then((body) => fromRequest(request, init, body));
}

function fromRequest(
	request: Request,
	init: RequestInit | undefined,
	body?: ArrayBuffer,
): PreparedRequest {
	const copied: RequestInit & { headers: Headers } = {
		// Options fetch takes beyond the standard ones (Node's dispatcher, duplex) survive too.
		...init,
		method: request.method,
		headers: new Headers(request.headers),
		signal: request.signal,
		credentials: request.credentials,
		cache: request.cache,
		redirect: request.redirect,
		referrerPolicy: request.referrerPolicy,
		integrity: request.integrity,
		keepalive: request.keepalive,
	};
	if (body !== undefined) copied.body = body;
	const followsRedirects = forSending(copied);
	return { url: new URL(request.url), init: copied, replayable: true, followsRedirects };
}

/** Runs a profile's protected-request hooks; they may change the URL, method and headers. */
export async function applyProtectedRequestHooks(
	prepared: PreparedRequest,
	hooks: readonly ProtectedRequestHook[],
): Promise<PreparedRequest> {
	if (hooks.length === 0) return prepared;
	let request = new Request(prepared.url, {
		method: prepared.init.method ?? 'GET',
		headers: prepared.init.headers,
	});
	for (const hook of hooks) request = (await hook(request)) ?? request;
	return {
		...prepared,
		url: new URL(request.url),
		init: { ...prepared.init, method: request.method, headers: new Headers(request.headers) },
	};
}

/**
 * The answer to the first send, and whether the token reached the server that gave it, unless it
 * is a redirect the session follows itself (`undefined`: call `followRedirects`). Where the
 * platform followed a redirect, it dropped the token at the first hop to another origin (Fetch
 * standard).
 */
export function firstAnswer(
	prepared: PreparedRequest,
	response: Response,
): SentRequest | undefined {
	if (prepared.followsRedirects) {
		return REDIRECT_STATUSES.has(response.status) && response.headers.has('location')
			? undefined
			: { response, tokenSent: true };
	}
	const moved =
		response.redirected &&
		response.url !== '' &&
		new URL(response.url).origin !== prepared.url.origin;
	return { response, tokenSent: !moved };
}

/**
 * Follows the redirect `first` answered with, and the ones after it, by hand (outside browsers),
 * as the Fetch standard does, except that the `Authorization` header is dropped, for good, at the
 * first hop to a URL that may not have it rather than at any hop to another origin.
 */
export async function followRedirects(
	fetchFn: typeof fetch,
	prepared: PreparedRequest,
	first: Response,
	mayCarryToken: (url: URL) => boolean,
): Promise<SentRequest> {
	const { url, init } = prepared;
	let method = init.method ?? 'GET';
	let body: BodyInit | null = init.body ?? null;
	// The caller's headers are copied before the first change.
	let headers = init.headers;
	let current = url;
	let response = first;
	for (let hop = 0; ; hop++) {
		const { status } = response;
		const location = REDIRECT_STATUSES.has(status) ? response.headers.get('location') : null;
		if (location === null) return { response, tokenSent: headers.has('authorization') };
		await response.body?.cancel();
		const next = new URL(location, current);
		// The same refusals as fetch's, as the same error: a network error is a TypeError. A 303
		// drops the body, so a stream need not be sent again.
		if (
			hop === MAX_REDIRECTS ||
			!/^https?:$/.test(next.protocol) ||
			(status !== 303 && isStream(body))
		) {
			throw new TypeError(
				'Redirect not followed: over 20, not to http(s), or with a streamed body',
			);
		}
		if (hop === 0) headers = new Headers(headers);
		if (!mayCarryToken(next)) {
			headers.delete('authorization');
			// A DPoP proof is signed for the first URL, and names the key: it goes with the token.
			headers.delete('dpop');
		}
		if (next.origin !== current.origin) {
			for (const name of CROSS_ORIGIN_HEADERS) headers.delete(name);
		}
		if (
			(status === 303 && method !== 'GET' && method !== 'HEAD') ||
			((status === 301 || status === 302) && method === 'POST')
		) {
			method = 'GET';
			body = null;
			for (const name of BODY_HEADERS) headers.delete(name);
		}
		current = next;
		response = await fetchFn(current, { ...init, method, body, headers });
	}
}

/** A response, and whether the request that got it carried the token. */
export interface SentRequest {
	response: Response;
	/** False when a redirect left the allowed origins: a 401 from there says nothing of the token. */
	tokenSent: boolean;
}

function isStream(body: unknown): boolean {
	return (
		(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) ||
		(typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
	);
}
