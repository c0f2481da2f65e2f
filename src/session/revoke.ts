import {
	decodeRevocationResponseBody,
	parseRevocationResponse,
	type RevocationRequestOptions,
	revocationRequest,
} from '../protocol/revocation.js';
import type { Token } from '../protocol/token.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';
import type { SendTokenRequestOptions } from './request-token.js';
import { sendEndpointRequest } from './send-endpoint-request.js';

/** Options of `revokeToken`: what to revoke, and how the request is sent. */
export interface RevokeTokenOptions extends RevocationRequestOptions, SendTokenRequestOptions {}

/**
 * Revokes a token at the revocation endpoint (RFC 7009). Resolves once the server answered 2xx,
 * which it also does for a token it does not know. A 503 (with or without `Retry-After`), other
 * 5xx, 429, network errors and timeouts are retried as token requests are.
 *
 * @example
 * await revokeToken({
 *   revocationEndpoint: metadata.revocation_endpoint,
 *   token: token.refreshToken,
 *   tokenTypeHint: 'refresh_token',
 *   clientAuthentication: clientSecretBasic('app', process.env.CLIENT_SECRET),
 * });
 *
 * @throws {OAuth2ResponseError} An error answer: `unsupported_token_type`, `invalid_client`...
 * @throws {TokenResponseError} An answer outside 2xx without an error code.
 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
 * @throws {InsecureTransportError} The endpoint is `http:` on a host that is not loopback.
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL, or the token is empty.
 */
export async function revokeToken(options: RevokeTokenOptions): Promise<void> {
	const answer = await sendEndpointRequest(() => revocationRequest(options), {
		endpointName: 'revocation endpoint',
		...options,
		decoder: options.decoder ?? decodeRevocationResponseBody,
	});
	parseRevocationResponse(answer.body, answer);
}

/**
 * What `session.logout()` revokes: the refresh token, or the access token when there is none, sent
 * as the session sends its token requests.
 */
export function revokeSessionToken(
	options: NormalizedOAuth2SessionOptions,
	revocationEndpoint: URL,
	token: Token,
): Promise<void> {
	return revokeToken({
		revocationEndpoint,
		token: token.refreshToken ?? token.accessToken,
		tokenTypeHint: token.refreshToken === undefined ? 'access_token' : 'refresh_token',
		clientAuthentication: options.clientAuthentication,
		headers: options.profile?.tokenRequestHeaders,
		fetch: options.fetch,
		retry: options.retry,
		allowInsecure: options.allowInsecure,
		maxResponseSize: options.maxResponseSize,
	});
}
