import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { headersFrom } from '../utils/headers.js';
import type { ClientAuthentication } from './client-authentication.js';
import type { Grant } from './grants.js';
import { type Params, setParams } from './params.js';

/**
 * A token request before it is sent: what grants, client authentication and profile hooks
 * change. Every part is mutable on purpose; `toFetchArguments` turns it into `fetch` arguments.
 */
export interface TokenRequestParts {
	/** The token endpoint. For `GET`, `params` are added to its query when sent. */
	url: URL;
	/** The HTTP method. */
	method: 'POST' | 'GET';
	/** The request headers. */
	headers: Headers;
	/** The request parameters: the form body for `POST`, the query for `GET`. */
	params: URLSearchParams;
}

/** What `buildTokenRequest` builds a request from. */
export interface BuildTokenRequestOptions {
	/** The token endpoint, an absolute URL. */
	tokenEndpoint: string | URL;
	/** What is traded for a token: `authorizationCodeGrant(...)`, `refreshTokenGrant(...)`... */
	grant: Grant;
	/**
	 * How the client authenticates. Runs last, so it may read and change every parameter and header.
	 * @default none: nothing is added
	 */
	clientAuthentication?: ClientAuthentication | undefined;
	/**
	 * Extra parameters, such as `resource` or a provider's own. They replace a grant parameter of
	 * the same name; a list is sent as repeated parameters (several `resource`s); an `undefined`
	 * value is left out.
	 * @default {}
	 * @example { resource: ['https://api-a.example', 'https://api-b.example'] }
	 */
	params?: Params | undefined;
	/**
	 * The HTTP method. RFC 6749 says `POST`; old Facebook endpoints take `GET`.
	 * @default 'POST'
	 */
	method?: 'POST' | 'GET' | undefined;
	/**
	 * Extra headers. `Accept` is always `application/json`.
	 * @default {}
	 */
	headers?: HeadersInit | undefined;
	/**
	 * What joins a scope list in the grant's `scope`.
	 * @default ' '
	 */
	scopeSeparator?: ' ' | ',' | undefined;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Builds a token request (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6...): `grant_type`, the grant's
 * parameters, the extra parameters, then client authentication. Does no I/O.
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL, or the grant or method is wrong.
 */
export async function buildTokenRequest(
	options: BuildTokenRequestOptions,
): Promise<TokenRequestParts> {
	const method = options.method ?? 'POST';
	if (method !== 'POST' && method !== 'GET') {
		throw new InvalidOptionsError("The token request method must be 'POST' or 'GET'");
	}
	const grant = options.grant;
	if (typeof grant?.grantType !== 'string' || typeof grant.apply !== 'function') {
		throw new InvalidOptionsError(
			'A token request needs a grant, such as clientCredentialsGrant()',
		);
	}
	const headers = headersFrom(options.headers, 'headers');
	// Without it GitHub answers with a form; every server here speaks JSON when asked.
	headers.set('accept', 'application/json');
	const params = new URLSearchParams({ grant_type: grant.grantType });
	grant.apply(params, { scopeSeparator: options.scopeSeparator });
	setParams(params, options.params);
	const request: TokenRequestParts = {
		url: endpointUrl(options.tokenEndpoint),
		method,
		headers,
		params,
	};
	await options.clientAuthentication?.(request);
	return request;
}

/**
 * The `fetch(input, init)` arguments of a token request. `POST` sends the parameters as a form,
 * `GET` in the query. Redirects are not followed: a redirected `POST` would carry the client's
 * credentials to wherever the `Location` points.
 */
export function toFetchArguments(request: TokenRequestParts): [string, RequestInit] {
	const headers = new Headers(request.headers);
	const init: RequestInit = { method: request.method, headers, redirect: 'manual' };
	if (request.method === 'GET') {
		const url = new URL(request.url);
		for (const [key, value] of request.params) url.searchParams.append(key, value);
		return [url.href, init];
	}
	headers.set('content-type', `${FORM};charset=UTF-8`);
	return [request.url.href, { ...init, body: request.params.toString() }];
}

/**
 * Decodes a token endpoint body: JSON (RFC 6749 §5.1), a form (`application/x-www-form-urlencoded`),
 * or `text/plain` holding either (old Facebook). A repeated form key gives a list.
 *
 * @throws {TokenResponseError} `unparseable`: none of these. The body is kept on the error, not
 *   enumerable and never in the message, since a broken answer may still hold a token.
 */
export function decodeTokenResponseBody(
	text: string,
	contentType: string | null,
	status?: number,
): unknown {
	const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
	// No cause: JSON.parse's SyntaxError quotes the body, which may hold a token.
	const unparseable = (what: string) =>
		new TokenResponseError(
			`The token endpoint answered${status === undefined ? '' : ` (HTTP ${status})`} with ${what}`,
			{ problem: 'unparseable', status, body: text },
		);
	if (text.trim() === '') throw unparseable('an empty body');
	if (type === FORM) return decodeForm(text);
	const trimmed = text.trimStart();
	if (type.endsWith('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
		try {
			return JSON.parse(text);
		} catch {
			throw unparseable(`a body that is not valid JSON (content-type ${type || 'none'})`);
		}
	}
	if ((type === '' || type === 'text/plain') && looksLikeForm(text)) return decodeForm(text);
	throw unparseable(`a body that is neither JSON nor a form (content-type ${type || 'none'})`);
}

/**
 * Whether `redactEchoedSecrets` (in redact.ts, loaded with the first such answer) has anything to
 * do: the answer is an error answer.
 */
export function mayEchoSecrets(body: unknown, status?: number): body is object {
	if (typeof body !== 'object' || body === null) return false;
	return 'error' in body || (status !== undefined && (status < 200 || status > 299));
}

function decodeForm(text: string): Record<string, string | string[]> {
	const fields: Record<string, string | string[]> = {};
	for (const [key, value] of new URLSearchParams(text.trim())) {
		const previous = fields[key];
		fields[key] =
			previous === undefined
				? value
				: [...(Array.isArray(previous) ? previous : [previous]), value];
	}
	return fields;
}

function looksLikeForm(text: string): boolean {
	return /^[\w.%+-]+=[^&\s]*(&[\w.%+-]+=[^&\s]*)*$/.test(text.trim());
}

function endpointUrl(endpoint: string | URL): URL {
	try {
		return new URL(endpoint);
	} catch {
		throw new InvalidOptionsError('tokenEndpoint must be an absolute URL');
	}
}
