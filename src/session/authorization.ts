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
import type { PushAuthorizationRequestOptions } from './pushed-authorization.js';

/** Options of `session.authorizationUrl()`: the session's own settings are the defaults. */
export type SessionAuthorizationUrlOptions = Partial<
	Omit<AuthorizationUrlOptions, 'clientId' | 'authorizationEndpoint' | 'profile'>
> & {
	/** @default the session's `authorizationEndpoint` */
	authorizationEndpoint?: string | URL;
	/**
	 * Where to push the request's parameters (RFC 9126), or `false` to put them in the URL (refused
	 * when the server's metadata requires pushing).
	 * @default the session's `pushedAuthorizationRequestEndpoint`
	 */
	pushedAuthorizationRequestEndpoint?: string | URL | false;
	/**
	 * Aborts the push (and its retries), when the request is pushed.
	 * @default undefined
	 */
	signal?: AbortSignal;
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

/**
 * What the session adds to a push beyond its options: the DPoP binding of the code (RFC 9449
 * §10), `dpop_jkt` and a proof per attempt, when the session has a DPoP key. An authorization URL
 * that is not pushed carries `dpop_jkt` as well.
 */
export type PushHooks = Pick<PushAuthorizationRequestOptions, 'dpopJkt' | 'prepareRequest'>;

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

/**
 * Builds the authorization request from the session's settings, its profile's and the caller's,
 * and pushes it first (RFC 9126) when the session or the call names a push endpoint.
 */
export async function sessionAuthorizationUrl(
	session: NormalizedOAuth2SessionOptions,
	options: SessionAuthorizationUrlOptions,
	hooks: PushHooks = {},
): Promise<AuthorizationRequest> {
	const {
		pushedAuthorizationRequestEndpoint: given,
		signal,
		authorizationEndpoint,
		stepUp,
		...rest
	} = options;
	const endpoint = authorizationEndpoint ?? session.authorizationEndpoint;
	if (endpoint === undefined) {
		throw new InvalidOptionsError('authorizationUrl() needs an authorizationEndpoint');
	}
	const redirectUri = options.redirectUri ?? session.redirectUri;
	const scope = options.scope ?? session.scope;
	const acrValues = options.acrValues ?? stepUp?.acrValues;
	const maxAge = options.maxAge ?? stepUp?.maxAge;
	// The grant must cover every API the session will ask a token for (RFC 8707 §2.1).
	const resource = [...session.resources].flatMap(
		([origin, api]) => api.resource ?? (api.audience === undefined ? origin : []),
	);
	const request = {
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
	};
	const pushTo =
		given ??
		session.pushedAuthorizationRequestEndpoint ??
		session.metadata?.pushed_authorization_request_endpoint;
	if (pushTo === undefined || pushTo === false) {
		if (session.metadata?.require_pushed_authorization_requests === true) {
			throw new InvalidOptionsError(
				'The authorization server requires pushed authorization requests (its metadata says require_pushed_authorization_requests), but the session has no pushedAuthorizationRequestEndpoint',
			);
		}
		// Bound only where the metadata says the server does DPoP: a server that does not may still
		// bind the code and then refuse it to a token request without a proof (oidc-provider does),
		// where `allowBearer` would have taken its Bearer token. The key is in the store already, so
		// whichever context the callback reaches signs with it.
		const dpopJkt =
			session.metadata?.dpop_signing_alg_values_supported === undefined ? undefined : hooks.dpopJkt;
		return authorizationUrl(
			dpopJkt === undefined
				? request
				: { ...request, params: { dpop_jkt: dpopJkt, ...request.params } },
		);
	}
	// Loaded only by sessions that push: its answer's checks are not needed by those that do not.
	const { pushAuthorizationRequest } = await import('./pushed-authorization.js');
	return pushAuthorizationRequest({
		...request,
		...hooks,
		pushedAuthorizationRequestEndpoint: pushTo,
		clientAuthentication: session.clientAuthentication,
		fetch: session.fetch,
		retry: session.retry,
		allowInsecure: session.allowInsecure,
		maxResponseSize: session.maxResponseSize,
		...(signal === undefined ? {} : { signal }),
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
