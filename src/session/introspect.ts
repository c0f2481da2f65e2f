import {
	type IntrospectionRequestOptions,
	introspectionRequest,
	parseIntrospectionResponse,
	type TokenIntrospection,
} from '../protocol/introspection.js';
import type { SendTokenRequestOptions } from './request-token.js';
import { sendEndpointRequest } from './send-endpoint-request.js';

/** Options of `introspectToken`: what to ask about, and how the request is sent. */
export interface IntrospectTokenOptions
	extends IntrospectionRequestOptions,
		SendTokenRequestOptions {
	/**
	 * What separates scopes in the answer's `scope`.
	 * @default ' '
	 */
	scopeSeparator?: ' ' | ',' | undefined;
}

/**
 * Asks the introspection endpoint about a token (RFC 7662). An inactive token (expired, revoked,
 * unknown) is the answer `{ active: false }`, not an error.
 *
 * @example
 * const info = await introspectToken({
 *   introspectionEndpoint: metadata.introspection_endpoint,
 *   token: bearer,
 *   clientAuthentication: clientSecretBasic('api', process.env.API_SECRET),
 * });
 * if (!info.active || !info.scope?.includes('orders:read')) return new Response(null, { status: 401 });
 *
 * @throws {OAuth2ResponseError} An error answer, such as `invalid_client`.
 * @throws {TokenResponseError} An answer without a boolean `active`, or with a field of the wrong type.
 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
 * @throws {InsecureTransportError} The endpoint is `http:` on a host that is not loopback.
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL, or the token is empty.
 */
export async function introspectToken(
	options: IntrospectTokenOptions,
): Promise<TokenIntrospection> {
	const answer = await sendEndpointRequest(() => introspectionRequest(options), {
		endpointName: 'introspection endpoint',
		...options,
	});
	return parseIntrospectionResponse(answer.body, {
		status: answer.status,
		response: answer.response,
		scopeSeparator: options.scopeSeparator,
	});
}
