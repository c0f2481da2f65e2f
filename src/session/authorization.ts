// What OAuth2Session needs only where an app signs in: building the authorization URL and reading
// the callback. The session loads this module with `import()` on first use, so bundlers put it in
// a chunk of its own and an app's pages that only call APIs do not carry it.
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import type { StepUpRequiredError } from '../errors/step-up-required-error.js';
import {
	type CallbackOptions,
	parseAuthorizationCallback,
	parseImplicitCallback,
} from '../protocol/authorization-callback.js';
import {
	type AuthorizationRequest,
	type AuthorizationUrlOptions,
	authorizationUrl,
} from '../protocol/authorization-url.js';
import { authorizationCodeGrant, type Grant } from '../protocol/grants.js';
import type { Params } from '../protocol/params.js';
import type { Token } from '../protocol/token.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';

/** Options of `session.authorizationUrl()`: the session's own settings are the defaults. */
export type SessionAuthorizationUrlOptions = Partial<
	Omit<AuthorizationUrlOptions, 'clientId' | 'authorizationEndpoint' | 'profile'>
> & {
	/** @default the session's `authorizationEndpoint` */
	authorizationEndpoint?: string | URL;
	/**
	 * A `StepUpRequiredError` (or what it carries) to answer: its `acrValues` and `maxAge` are
	 * asked for, unless `acrValues` or `maxAge` are given as well, which win.
	 * @default none
	 * @example
	 * ```ts
	 * const { url } = await session.authorizationUrl({ stepUp: error });
	 * ```
	 */
	stepUp?: Pick<StepUpRequiredError, 'acrValues' | 'maxAge'> | undefined;
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
	/**
	 * The issuer to check RFC 9207 `iss` against.
	 * @default the session's `issuer` (or its metadata's)
	 */
	issuer?: string | undefined;
	/**
	 * Refuse a callback without `iss`.
	 * @default true when the session's metadata says `authorization_response_iss_parameter_supported`
	 */
	requireIssuer?: boolean | undefined;
	/** @default the session's `redirectUri` */
	redirectUri?: string | undefined;
	/** Extra token request parameters, such as `resource`; they replace the grant's own. */
	params?: Params;
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
	/**
	 * The issuer to check RFC 9207 `iss` against.
	 * @default the session's `issuer` (or its metadata's)
	 */
	issuer?: string | undefined;
	/**
	 * Refuse a callback without `iss`.
	 * @default true when the session's metadata says `authorization_response_iss_parameter_supported`
	 */
	requireIssuer?: boolean | undefined;
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
	const { stepUp, ...rest } = options;
	const acrValues = options.acrValues ?? stepUp?.acrValues;
	const maxAge = options.maxAge ?? stepUp?.maxAge;
	// The grant must cover every API the session will ask a token for (RFC 8707 §2.1).
	const resource = [...session.resources.values()].flatMap((api) => api.resource ?? []);
	return authorizationUrl({
		...rest,
		...(acrValues === undefined ? {} : { acrValues }),
		...(maxAge === undefined ? {} : { maxAge }),
		...(resource.length === 0 || options.params?.resource !== undefined
			? {}
			: { params: { resource, ...options.params } }),
		authorizationEndpoint: endpoint,
		clientId: session.clientId,
		// What the profile needs (Google's access_type=offline, Microsoft's offline_access...).
		profile: session.profile,
		...(scope === undefined ? {} : { scope }),
		...(redirectUri === undefined ? {} : { redirectUri }),
	});
}

/**
 * How the session checks a callback: its state, and RFC 9207 `iss` against the issuer the call
 * names, else the session's own (its `issuer` option or metadata).
 */
function callbackChecks(
	session: NormalizedOAuth2SessionOptions,
	options: { issuer?: string | undefined; requireIssuer?: boolean | undefined },
	expectedState: string,
): CallbackOptions {
	return {
		expectedState,
		issuer: options.issuer ?? session.issuer,
		requireIssuer: options.requireIssuer ?? session.requireIssuer,
	};
}

/** The authorization code grant of a callback URL, its state and issuer checked first. */
export function grantFromCallback(
	session: NormalizedOAuth2SessionOptions,
	options: AuthorizationResponseOptions,
	expectedState: string,
	codeVerifier: string | undefined,
	redirectUri: string | undefined,
): Grant {
	const callback = parseAuthorizationCallback(
		options.authorizationResponse,
		callbackChecks(session, options, expectedState),
	);
	return authorizationCodeGrant({
		code: callback.code,
		...(redirectUri === undefined ? {} : { redirectUri }),
		...(codeVerifier === undefined ? {} : { codeVerifier }),
	});
}

/** The token in an implicit flow callback's fragment, its state and issuer checked first. */
export function tokenFromImplicitCallback(
	session: NormalizedOAuth2SessionOptions,
	options: ImplicitResponseOptions,
	expectedState: string,
): Token {
	return parseImplicitCallback(
		options.implicitResponse,
		callbackChecks(session, options, expectedState),
	).token;
}
