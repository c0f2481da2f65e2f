import type { ProtectedRequestHook } from '../protocol/profile.js';

/** A request ready to be sent, and sent again after a 401. */
export interface PreparedRequest {
	url: URL;
	/** The caller's init, with headers as a `Headers` and a body that can be sent again. */
	init: RequestInit & { headers: Headers };
	/** False when the body is a stream: it can be sent only once, so a 401 is not retried. */
	replayable: boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
const BODY_HEADERS = [
	'content-type',
	'content-length',
	'content-encoding',
	'content-language',
	'content-location',
];

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
		return {
			// As fetch does in a page: a relative URL resolves against the document when no baseUrl is set.
			url: new URL(
				input,
				baseUrl ?? (globalThis as { location?: { href: string } }).location?.href,
			),
			init: { ...init, headers: new Headers(init?.headers) },
			replayable: !isStream(body),
		};
	}
	return prepareFromRequest(input, init);
}

async function prepareFromRequest(
	input: Request,
	init: RequestInit | undefined,
): Promise<PreparedRequest> {
	const request = init === undefined ? input : new Request(input, init);
	const body = request.body === null ? undefined : await request.clone().arrayBuffer();
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
	return { url: new URL(request.url), init: copied, replayable: true };
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
 * Sends the request. Redirects are followed by hand (outside browsers) so that the
 * `Authorization` header is dropped, for good, at the first hop to a URL that may not have it.
 */
export async function sendFollowingRedirects(
	fetchFn: typeof fetch,
	prepared: PreparedRequest,
	mayCarryToken: (url: URL) => boolean,
): Promise<SentRequest> {
	const { url, init } = prepared;
	const userRedirect = init.redirect ?? 'follow';
	if (!followsRedirectsByHand || userRedirect !== 'follow') {
		const response = await fetchFn(url, init);
		// The platform followed any redirect and dropped the token at the first cross-origin hop.
		const moved =
			response.redirected && response.url !== '' && new URL(response.url).origin !== url.origin;
		return { response, tokenSent: !moved };
	}

	// Upper-cased, as ky does: fetch upper-cases only the standard methods, and a server may refuse
	// `patch` where it takes `PATCH`.
	let method = (init.method ?? 'GET').toUpperCase();
	let body: BodyInit | null = init.body ?? null;
	// The caller's copy is used as is; it is copied only if a redirect has to change it.
	let headers = init.headers;
	let current = url;
	// The first hop copies only what it must: every request takes this path, and copying method and
	// body in as well cost a third of the session's own time per request (bench:overhead).
	let hopInit: RequestInit = { ...init, redirect: 'manual' };
	if (init.method !== undefined) hopInit.method = method;
	for (let hop = 0; ; hop++) {
		const response = await fetchFn(current, hopInit);
		const location = REDIRECT_STATUSES.has(response.status)
			? response.headers.get('location')
			: null;
		if (location === null) return { response, tokenSent: headers.has('authorization') };
		if (hop === MAX_REDIRECTS || isStream(body)) {
			await response.body?.cancel();
			throw new TypeError(
				hop === MAX_REDIRECTS
					? 'Too many redirects'
					: 'Cannot follow a redirect with a streamed body',
			);
		}
		await response.body?.cancel();
		if (hop === 0) headers = new Headers(headers);
		const next = new URL(location, current);
		if (!mayCarryToken(next)) headers.delete('authorization');
		if (
			(response.status === 303 && method !== 'HEAD') ||
			((response.status === 301 || response.status === 302) && method === 'POST')
		) {
			method = 'GET';
			body = null;
			for (const name of BODY_HEADERS) headers.delete(name);
		}
		current = next;
		hopInit = { ...init, method, body, headers, redirect: 'manual' };
	}
}

/** A response, and whether the request that got it carried the token. */
export interface SentRequest {
	response: Response;
	/** False when a redirect left the allowed origins: a 401 from there says nothing of the token. */
	tokenSent: boolean;
}

/** Whether a 401 says the token lacks scope (RFC 6750 §3.1): a refresh would not help. */
export function isInsufficientScope(response: Response): boolean {
	const challenge = response.headers.get('www-authenticate');
	return challenge !== null && /error\s*=\s*"?insufficient_scope\b/i.test(challenge);
}

function isStream(body: unknown): boolean {
	return (
		(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) ||
		(typeof body === 'object' && body !== null && Symbol.asyncIterator in body)
	);
}
