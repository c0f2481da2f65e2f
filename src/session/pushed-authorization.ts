import type { AuthorizationRequest } from '../protocol/authorization-url.js';
import {
	type PushedAuthorizationRequestOptions,
	type PushedAuthorizationRequestParts,
	parsePushedAuthorizationResponse,
	pushedAuthorizationRequest,
	pushedAuthorizationUrl,
} from '../protocol/par.js';
import type { ProviderProfile } from '../protocol/profile.js';
import type { TokenRequestParts } from '../protocol/token-request.js';
import type { SendTokenRequestOptions } from './request-token.js';
import { sendEndpointRequest } from './send-endpoint-request.js';

/** Options of `pushAuthorizationRequest`: what to ask for, where, and how the push is sent. */
export interface PushAuthorizationRequestOptions
	extends Omit<PushedAuthorizationRequestOptions, 'profile'>,
		SendTokenRequestOptions {
	/**
	 * The authorization endpoint the user is sent to with the `request_uri`.
	 * @example metadata.authorization_endpoint
	 */
	authorizationEndpoint: string | URL;
	/**
	 * A provider profile: its authorization parameters and scopes are pushed, as
	 * `authorizationUrl()` would send them, and its `tokenRequestHeaders` are sent (the caller's
	 * `headers` win).
	 * @default undefined: none
	 */
	profile?: ProviderProfile | undefined;
	/**
	 * Called with each attempt's request, client authentication done, just before it is sent: where
	 * a header made per request goes, such as a DPoP proof (RFC 9449 §10) for the push endpoint.
	 * @default undefined
	 * @example async (request) => request.headers.set('dpop', await proof('POST', request.url))
	 */
	prepareRequest?: ((request: TokenRequestParts) => void | Promise<void>) | undefined;
}

/**
 * Pushes an authorization request (RFC 9126): POSTs its parameters (PKCE S256 and a fresh `state`
 * by default) to the pushed authorization request endpoint with client authentication, and
 * returns the URL to send the user to, which carries only `client_id` and the `request_uri` the
 * server answered. Keep `state` and `codeVerifier` for the callback; send the user before
 * `expiresAt`. Network errors, timeouts, 5xx and 429 are retried with the same `state` and
 * verifier, as token requests are.
 *
 * @example
 * const { url, state, codeVerifier } = await pushAuthorizationRequest({
 *   pushedAuthorizationRequestEndpoint: metadata.pushed_authorization_request_endpoint,
 *   authorizationEndpoint: metadata.authorization_endpoint,
 *   clientId: 'app',
 *   redirectUri: 'https://app.example.com/callback',
 *   clientAuthentication: clientSecretBasic('app', process.env.CLIENT_SECRET),
 * });
 *
 * @throws {OAuth2ResponseError} An error answer: `invalid_request`, `invalid_client`...
 * @throws {TokenResponseError} The answer lacks `request_uri` or a positive `expires_in`, or is
 *   larger than `maxResponseSize`.
 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
 * @throws {InsecureTransportError} The endpoint is `http:` on a host that is not loopback.
 * @throws {InvalidOptionsError} An option has the wrong form; nothing was sent.
 */
export async function pushAuthorizationRequest(
	options: PushAuthorizationRequestOptions,
): Promise<AuthorizationRequest> {
	// Refused before anything is pushed: the URL could not be built from the answer.
	pushedAuthorizationUrl({ ...options, requestUri: 'unsent' });
	const headers = new Headers(options.profile?.tokenRequestHeaders);
	for (const [name, value] of new Headers(options.headers)) headers.set(name, value);
	let kept: Omit<PushedAuthorizationRequestParts, 'request'> | undefined;
	const answer = await sendEndpointRequest(
		async () => {
			// A retry pushes the same state and verifier: the caller keeps the first ones.
			const { request, ...keep } = await pushedAuthorizationRequest({
				...options,
				headers,
				...(kept === undefined ? {} : { state: kept.state, codeVerifier: kept.codeVerifier }),
			});
			kept ??= keep;
			await options.prepareRequest?.(request);
			return request;
		},
		{ endpointName: 'pushed authorization request endpoint', ...options },
	);
	const pushed = parsePushedAuthorizationResponse(answer.body, answer);
	// `kept` is set: a push was sent to get an answer at all.
	const { state, codeVerifier, nonce } = kept as NonNullable<typeof kept>;
	return {
		url: pushedAuthorizationUrl({ ...options, requestUri: pushed.requestUri }),
		state,
		codeVerifier,
		nonce,
		requestUri: pushed.requestUri,
		expiresAt: pushed.expiresAt,
	};
}
