import {
	buildEndpointRequest,
	type EndpointRequestOptions,
	type TokenTypeHint,
	throwIfEndpointError,
	tokenParams,
} from './endpoint-request.js';
import { decodeTokenResponseBody, type TokenRequestParts } from './token-request.js';

/** What `revocationRequest` builds a request from. */
export interface RevocationRequestOptions extends EndpointRequestOptions {
	/**
	 * The revocation endpoint, an absolute URL: the `revocation_endpoint` of the server's metadata.
	 * @example 'https://auth.example.com/oauth/revoke'
	 */
	revocationEndpoint: string | URL;
	/**
	 * The token to revoke. Revoking a refresh token usually revokes its access tokens too.
	 * @example token.refreshToken
	 */
	token: string;
	/**
	 * Which kind of token `token` is.
	 * @default undefined: no hint is sent, and the server searches every kind
	 * @example 'refresh_token'
	 */
	tokenTypeHint?: TokenTypeHint | undefined;
}

/**
 * Builds a token revocation request (RFC 7009 §2.1): a form `POST` of `token` and
 * `token_type_hint`, then client authentication. Does no I/O.
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL, or the token is empty.
 */
export async function revocationRequest(
	options: RevocationRequestOptions,
): Promise<TokenRequestParts> {
	return buildEndpointRequest(
		options.revocationEndpoint,
		'revocationEndpoint',
		tokenParams(options, 'revocationRequest'),
		options,
	);
}

/**
 * Judges a revocation answer (RFC 7009 §2.2). Any 2xx is a success, whatever the body, even for a
 * token the server did not know (it may have been revoked already).
 *
 * @throws {OAuth2ResponseError} An error answer, such as `unsupported_token_type` or `invalid_client`.
 * @throws {TokenResponseError} `missing-error-code`: an answer outside 2xx without an error code.
 */
export function parseRevocationResponse(
	body: unknown,
	options: { status: number; response?: Response | undefined },
): void {
	throwIfEndpointError(body, options.status, 'revocation endpoint', options.response);
}

/**
 * Decodes a revocation answer. A 2xx body is not needed (RFC 7009 §2.2: its content is ignored), so
 * an empty or unreadable one is `undefined`; any other body is decoded as a token answer would be.
 *
 * @throws {TokenResponseError} `unparseable`: an answer outside 2xx that is neither JSON nor a form.
 */
export function decodeRevocationResponseBody(text: string, response: Response): unknown {
	const decode = () =>
		decodeTokenResponseBody(text, response.headers.get('content-type'), response.status);
	if (!response.ok) return decode();
	try {
		return decode();
	} catch {
		return undefined;
	}
}
