import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { headersFrom } from '../utils/headers.js';
import type { ClientAuthentication } from './client-authentication.js';
import { throwIfErrorResponse, withoutErrorCode } from './error-response.js';
import { isRecord } from './fields.js';
import { type Params, setParams } from './params.js';
import { redactEchoedSecrets } from './redact.js';
import type { TokenRequestParts } from './token-request.js';

/**
 * What a request to an endpoint beside the token endpoint (revocation, introspection, device
 * authorization) may add to what the protocol step puts in it.
 */
export interface EndpointRequestOptions {
	/**
	 * How the client authenticates, as at the token endpoint (RFC 7009 §2.1, RFC 7662 §2.1,
	 * RFC 8628 §3.1). Runs last, so it sees the whole request.
	 * @default none: nothing is added (a public client passes `noneClientAuthentication(clientId)`)
	 * @example clientSecretBasic('app', process.env.CLIENT_SECRET)
	 */
	clientAuthentication?: ClientAuthentication | undefined;
	/**
	 * Extra parameters, such as a provider's own. They replace a parameter of the same name; a list
	 * is sent as repeated parameters; an `undefined` value is left out.
	 * @default {}
	 * @example { resource: 'https://api.example.com' }
	 */
	params?: Params | undefined;
	/**
	 * Extra headers. `Accept` is always `application/json`.
	 * @default {}
	 * @example { 'x-request-id': requestId }
	 */
	headers?: HeadersInit | undefined;
}

/**
 * Which kind of token is sent (RFC 7009 §2.1, RFC 7662 §2.1): a hint the server may use to find it
 * faster. Other values registered with IANA are allowed.
 */
export type TokenTypeHint = 'access_token' | 'refresh_token' | (string & {});

/** An endpoint's name as messages show it, such as `'revocation endpoint'`. */
export type EndpointName =
	| 'revocation endpoint'
	| 'introspection endpoint'
	| 'device authorization endpoint'
	| 'pushed authorization request endpoint';

/**
 * Builds a form `POST` to `endpoint`: `params`, the extra parameters, then client authentication.
 * Does no I/O.
 *
 * @throws {InvalidOptionsError} The endpoint (named `option` in the message) is not an absolute URL.
 */
export async function buildEndpointRequest(
	endpoint: string | URL,
	option: string,
	params: URLSearchParams,
	options: EndpointRequestOptions,
): Promise<TokenRequestParts> {
	let url: URL;
	try {
		url = new URL(endpoint);
	} catch {
		throw new InvalidOptionsError(`${option} must be an absolute URL`);
	}
	const headers = headersFrom(options.headers, 'headers');
	headers.set('accept', 'application/json');
	setParams(params, options.params);
	const request: TokenRequestParts = { url, method: 'POST', headers, params };
	await options.clientAuthentication?.(request);
	return request;
}

/** The `token` and `token_type_hint` parameters shared by revocation and introspection. */
export function tokenParams(
	options: { token: string; tokenTypeHint?: string | undefined },
	name: string,
): URLSearchParams {
	if (typeof options.token !== 'string' || options.token === '') {
		throw new InvalidOptionsError(`${name} needs token as a non-empty string`);
	}
	if (options.tokenTypeHint !== undefined && typeof options.tokenTypeHint !== 'string') {
		throw new InvalidOptionsError(`${name}: tokenTypeHint must be a string when given`);
	}
	const params = new URLSearchParams({ token: options.token });
	if (options.tokenTypeHint) params.set('token_type_hint', options.tokenTypeHint);
	return params;
}

/**
 * `redactEchoedSecrets`, kept by this name for the endpoints beside the token endpoint: the
 * `token` parameter of revocation and introspection is among the secrets it redacts.
 */
export function redactSentSecrets(
	body: unknown,
	params: URLSearchParams,
	headers?: Headers,
	status?: number,
): unknown {
	return redactEchoedSecrets(body, params, headers, status);
}

/**
 * Throws `OAuth2ResponseError` when a decoded answer carries an `error` code, whatever the status,
 * and `TokenResponseError` for any other answer outside 2xx. Returns otherwise.
 */
export function throwIfEndpointError(
	body: unknown,
	status: number,
	endpoint: EndpointName,
	response?: Response,
): void {
	if (isRecord(body)) throwIfErrorResponse(body, status, response, endpoint);
	if (isRecord(body) && (status < 200 || status > 299)) {
		throw withoutErrorCode(body, status, endpoint);
	}
	if (status < 200 || status > 299) {
		throw new TokenResponseError(
			`The ${endpoint} answered HTTP ${status} without an OAuth 2 error code`,
			{ problem: 'missing-error-code', status },
		);
	}
}
