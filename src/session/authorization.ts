// What OAuth2Session needs only where an app signs in: building the authorization URL and reading
// the callback. The session loads this module with `import()` on first use, so bundlers put it in
// a chunk of its own and an app's pages that only call APIs do not carry it.
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import {
	parseAuthorizationCallback,
	parseImplicitCallback,
} from '../protocol/authorization-callback.js';
import {
	type AuthorizationRequest,
	type AuthorizationUrlOptions,
	authorizationUrl,
} from '../protocol/authorization-url.js';
import { authorizationCodeGrant, type Grant } from '../protocol/grants.js';
import type { Token } from '../protocol/token.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';

/** Options of `session.authorizationUrl()`: the session's own settings are the defaults. */
export type SessionAuthorizationUrlOptions = Partial<
	Omit<AuthorizationUrlOptions, 'clientId' | 'authorizationEndpoint' | 'profile'>
> & {
	/** @default the session's `authorizationEndpoint` */
	authorizationEndpoint?: string | URL;
};

/** `fetchToken()`'s options when it reads an authorization code callback. */
export interface AuthorizationResponseOptions {
	/**
	 * The full callback URL the authorization server redirected to. Its state is checked
	 * against `state` (default: the one from this session's last `authorizationUrl()`).
	 */
	authorizationResponse: string | URL;
	/** @default the state of this session's last `authorizationUrl()` */
	state?: string | undefined;
	/** @default the verifier of this session's last `authorizationUrl()` */
	codeVerifier?: string | undefined;
	/** The issuer to check RFC 9207 `iss` against, when known. */
	issuer?: string | undefined;
	/**
	 * Refuse a callback without `iss`: set it when the server's metadata says
	 * `authorization_response_iss_parameter_supported`.
	 * @default false
	 */
	requireIssuer?: boolean | undefined;
	/** @default the session's `redirectUri` */
	redirectUri?: string | undefined;
	/** Extra token request parameters, such as `resource`; they replace the grant's own. */
	params?: Record<string, string>;
	/** Aborts the request (and its retries). */
	signal?: AbortSignal;
}

/** `fetchToken()`'s options when it reads an implicit flow callback. */
export interface ImplicitResponseOptions {
	/**
	 * The callback URL of the implicit flow (`response_type=token`), the token in its fragment.
	 * Its state is checked against `state` (default: this session's last `authorizationUrl()`).
	 */
	implicitResponse: string | URL;
	/** @default the state of this session's last `authorizationUrl()` */
	state?: string | undefined;
}

/** Builds the authorization request from the session's settings, its profile's and the caller's. */
export function sessionAuthorizationUrl(
	session: NormalizedOAuth2SessionOptions,
	options: SessionAuthorizationUrlOptions,
): Promise<AuthorizationRequest> {
	const endpoint = options.authorizationEndpoint ?? session.authorizationEndpoint;
	if (endpoint === undefined) {
		throw new InvalidOptionsError('authorizationUrl() needs an authorizationEndpoint');
	}
	const redirectUri = options.redirectUri ?? session.redirectUri;
	const scope = options.scope ?? session.scope;
	return authorizationUrl({
		...options,
		authorizationEndpoint: endpoint,
		clientId: session.clientId,
		// What the profile needs (Google's access_type=offline, Microsoft's offline_access...).
		profile: session.profile,
		...(scope === undefined ? {} : { scope }),
		...(redirectUri === undefined ? {} : { redirectUri }),
	});
}

/** The authorization code grant of a callback URL, its state checked first. */
export function grantFromCallback(
	options: AuthorizationResponseOptions,
	expectedState: string,
	codeVerifier: string | undefined,
	redirectUri: string | undefined,
): Grant {
	const callback = parseAuthorizationCallback(options.authorizationResponse, {
		expectedState,
		...(options.issuer === undefined ? {} : { issuer: options.issuer }),
		...(options.requireIssuer === undefined ? {} : { requireIssuer: options.requireIssuer }),
	});
	return authorizationCodeGrant({
		code: callback.code,
		...(redirectUri === undefined ? {} : { redirectUri }),
		...(codeVerifier === undefined ? {} : { codeVerifier }),
	});
}

/** The token in an implicit flow callback's fragment, its state checked first. */
export function tokenFromImplicitCallback(
	options: ImplicitResponseOptions,
	expectedState: string,
): Token {
	return parseImplicitCallback(options.implicitResponse, { expectedState }).token;
}
