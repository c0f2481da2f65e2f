// Pushed authorization requests (RFC 9126): the authorization request's parameters go to the
// server in a back-channel POST, and the user's browser carries only a reference to them.
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import {
	type AuthorizationRequest,
	type AuthorizationUrlOptions,
	authorizationEndpointUrl,
	authorizationParameters,
} from './authorization-url.js';
import { endpointObject, invalidField } from './endpoint-object.js';
import {
	buildEndpointRequest,
	type EndpointRequestOptions,
	throwIfEndpointError,
} from './endpoint-request.js';
import type { TokenRequestParts } from './token-request.js';

/** What `pushedAuthorizationRequest` builds a request from. */
export interface PushedAuthorizationRequestOptions
	extends Omit<AuthorizationUrlOptions, 'authorizationEndpoint'>,
		Pick<EndpointRequestOptions, 'clientAuthentication' | 'headers'> {
	/**
	 * The pushed authorization request endpoint, an absolute URL: the
	 * `pushed_authorization_request_endpoint` of the server's metadata.
	 * @example 'https://as.example.com/par'
	 */
	pushedAuthorizationRequestEndpoint: string | URL;
	/**
	 * The JWK thumbprint (RFC 7638) of the DPoP key the authorization code is bound to, sent as
	 * `dpop_jkt` (RFC 9449 §10). The DPoP proof itself, if any, goes in `headers`.
	 * @default none: the code is not bound to a key
	 */
	dpopJkt?: string | undefined;
}

/** A pushed authorization request before it is sent, and what to keep for the callback. */
export interface PushedAuthorizationRequestParts
	extends Pick<AuthorizationRequest, 'state' | 'codeVerifier' | 'nonce'> {
	/** The `POST` to the pushed authorization request endpoint. */
	request: TokenRequestParts;
}

/** What the server answered a pushed authorization request with (RFC 9126 §2.2). */
export interface PushedAuthorization {
	/** The reference to the pushed parameters, for `pushedAuthorizationUrl()`. */
	readonly requestUri: string;
	/** How long `requestUri` is valid, in seconds, as sent. */
	readonly expiresIn: number;
	/** When `requestUri` expires, in epoch milliseconds: the user must be sent before then. */
	readonly expiresAt: number;
}

// RFC 9126 §2.1: the pushed parameters must not themselves refer to pushed (or hosted) parameters.
const NOT_PUSHED = ['request_uri'];
// What the authorization URL of a pushed request carries (RFC 9126 §4), besides the endpoint's own.
const URL_PARAMS = new Set(['client_id', 'request_uri']);
// A base64url SHA-256 thumbprint is 43 characters; other hashes give other lengths.
const THUMBPRINT = /^[\w-]+$/;

/**
 * Builds a pushed authorization request (RFC 9126 §2.1): a form `POST` of the parameters
 * `authorizationUrl()` would put in the URL (PKCE S256 and a fresh `state` by default), `dpop_jkt`,
 * then client authentication. Keep the returned `state` and `codeVerifier` for the callback. Does
 * no I/O.
 *
 * @example
 * const { request, state, codeVerifier } = await pushedAuthorizationRequest({
 *   pushedAuthorizationRequestEndpoint: metadata.pushed_authorization_request_endpoint,
 *   clientId: 'app',
 *   redirectUri: 'https://app.example.com/callback',
 *   clientAuthentication: clientSecretBasic('app', process.env.CLIENT_SECRET),
 * });
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL, an option has the wrong form
 *   (as for `authorizationUrl()`), `params` sets `request_uri`, or `dpopJkt` is not a thumbprint.
 */
export async function pushedAuthorizationRequest(
	options: PushedAuthorizationRequestOptions,
): Promise<PushedAuthorizationRequestParts> {
	for (const name of NOT_PUSHED) {
		if (options.params?.[name] !== undefined) {
			throw new InvalidOptionsError(`params cannot set ${name} in a pushed authorization request`);
		}
	}
	const { dpopJkt } = options;
	if (dpopJkt !== undefined && (typeof dpopJkt !== 'string' || !THUMBPRINT.test(dpopJkt))) {
		throw new InvalidOptionsError('dpopJkt must be a base64url JWK thumbprint');
	}
	const { params, ...keep } = await authorizationParameters(options);
	if (dpopJkt !== undefined) params.set('dpop_jkt', dpopJkt);
	const request = await buildEndpointRequest(
		options.pushedAuthorizationRequestEndpoint,
		'pushedAuthorizationRequestEndpoint',
		params,
		{ clientAuthentication: options.clientAuthentication, headers: options.headers },
	);
	return { request, ...keep };
}

/**
 * Reads a pushed authorization answer (RFC 9126 §2.2, usually HTTP 201): `request_uri` and
 * `expires_in`, a positive JSON number.
 *
 * @throws {OAuth2ResponseError} An error answer (RFC 9126 §2.3): `invalid_request`,
 *   `invalid_client`, `use_dpop_nonce`...
 * @throws {TokenResponseError} The answer is not an object, an answer outside 2xx has no error code,
 *   or `request_uri` or `expires_in` is missing or wrong (`invalid-field`).
 */
export function parsePushedAuthorizationResponse(
	body: unknown,
	options: {
		/** When the request was started, in epoch milliseconds: `expires_in` counts from here. */
		requestedAt: number;
		/** The HTTP status of the answer. */
		status: number;
		/** The raw response, kept (not enumerable) on an `OAuth2ResponseError`. */
		response?: Response | undefined;
	},
): PushedAuthorization {
	const endpoint = 'pushed authorization request endpoint';
	throwIfEndpointError(body, options.status, endpoint, options.response);
	// Checked by hand, not with zod: an SPA that signs in with PAR would carry zod (6 kB gzipped)
	// for these two fields.
	const { request_uri: requestUri, expires_in: expiresIn } = endpointObject(
		body,
		options.status,
		endpoint,
	);
	if (typeof requestUri !== 'string' || requestUri === '') {
		throw invalidField(endpoint, 'request_uri', options.status);
	}
	// A JSON number, as RFC 9126 §2.2 says: one that is not, or not above 0, cannot be trusted to
	// say when to give up on the reference.
	if (typeof expiresIn !== 'number' || !(expiresIn > 0) || !Number.isFinite(expiresIn)) {
		throw invalidField(endpoint, 'expires_in', options.status);
	}
	return Object.freeze({
		requestUri,
		expiresIn,
		expiresAt: options.requestedAt + expiresIn * 1000,
	});
}

/**
 * The URL to send the user to after a push (RFC 9126 §4): the authorization endpoint, its own
 * query kept, with only `client_id` and `request_uri`.
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute http(s) URL, has a fragment or
 *   already has `client_id` or `request_uri`; `clientId` or `requestUri` is empty.
 */
export function pushedAuthorizationUrl(options: {
	/** The authorization endpoint. */
	authorizationEndpoint: string | URL;
	/** The client identifier the request was pushed for. */
	clientId: string;
	/** The `requestUri` of the push's answer. */
	requestUri: string;
}): string {
	const url = authorizationEndpointUrl(options.authorizationEndpoint, URL_PARAMS);
	for (const field of ['clientId', 'requestUri'] as const) {
		if (typeof options[field] !== 'string' || options[field] === '') {
			throw new InvalidOptionsError(`${field} must be a non-empty string`);
		}
	}
	url.searchParams.set('client_id', options.clientId);
	url.searchParams.set('request_uri', options.requestUri);
	return url.href;
}
