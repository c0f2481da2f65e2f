import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { type Params, setParams } from './params.js';
import {
	type CodeChallengeMethod,
	computeCodeChallenge,
	generateCodeVerifier,
	generateState,
} from './pkce.js';
import type { ProviderProfile } from './profile.js';
import { parseScope } from './token-response.js';

/** What `authorizationUrl()` builds an authorization request (RFC 6749 §4.1.1, §4.2.1) from. */
export interface AuthorizationUrlOptions {
	/**
	 * The authorization endpoint: an absolute `https:` (or `http:`) URL without a fragment. Its query,
	 * if any (Azure AD B2C's `p=...`), is kept.
	 * @example 'https://accounts.google.com/o/oauth2/v2/auth'
	 */
	authorizationEndpoint: string | URL;
	/** The client identifier. */
	clientId: string;
	/**
	 * Where the server sends the user back. Absolute, no fragment (RFC 6749 §3.1.2).
	 * @default none: the server uses the one registered for the client (GitHub allows that)
	 */
	redirectUri?: string | undefined;
	/**
	 * The scopes to ask for. A list is joined with `scopeSeparator`; a string is sent as given.
	 * @default none
	 * @example ['openid', 'email']
	 */
	scope?: string | readonly string[] | undefined;
	/**
	 * What joins a scope list. RFC 6749 says a space; some providers (GitHub, Facebook) take commas.
	 * @default ' '
	 */
	scopeSeparator?: ' ' | ',' | undefined;
	/**
	 * The anti-CSRF `state`. Keep it and pass it to `parseAuthorizationCallback()`.
	 * @default a fresh random value of 256 bits
	 */
	state?: string | undefined;
	/**
	 * `code` for the authorization code flow, `token` for the (legacy) implicit flow.
	 * @default 'code'
	 */
	responseType?: 'code' | 'token' | undefined;
	/**
	 * The PKCE method (RFC 7636), or `false` for none. PKCE only applies to `responseType: 'code'`.
	 * @default 'S256' for `responseType: 'code'`, `false` for `'token'`
	 */
	pkce?: CodeChallengeMethod | false | undefined;
	/**
	 * The PKCE code verifier. Keep it secret and send it with the token request.
	 * @default a fresh random verifier of 64 characters, when `pkce` is on
	 */
	codeVerifier?: string | undefined;
	/**
	 * The OpenID Connect `nonce`.
	 * @default none
	 */
	nonce?: string | undefined;
	/**
	 * The authentication context classes to ask for (OpenID Connect `acr_values`), most wanted
	 * first; what a `StepUpRequiredError` carries (RFC 9470 §4). A list is joined with spaces.
	 * @default none
	 * @example ['phr']
	 */
	acrValues?: string | readonly string[] | undefined;
	/**
	 * The most seconds since the user last authenticated actively (OpenID Connect `max_age`); `0`
	 * asks the user to authenticate again now. What a `StepUpRequiredError` carries (RFC 9470 §4).
	 * @default none
	 */
	maxAge?: number | undefined;
	/**
	 * Other parameters, sent after the standard ones; a list is sent as repeated parameters (several
	 * RFC 8707 `resource`s); `undefined` values are left out. They cannot set a parameter this
	 * function owns (`client_id`, `state`, `code_challenge`...): that throws.
	 * @default {}
	 * @example { access_type: 'offline', prompt: 'consent' }
	 */
	params?: Params | undefined;
	/**
	 * A provider profile: its `authorizationParams` go before `params` (which win), its
	 * `authorizationScopes` (Microsoft's and Auth0's `offline_access`) are added to `scope` when
	 * missing, and its `scopeSeparator` is the default. What `session.authorizationUrl()` does.
	 * @default undefined: none
	 */
	profile?:
		| Pick<ProviderProfile, 'authorizationParams' | 'authorizationScopes' | 'scopeSeparator'>
		| undefined;
}

/** An authorization request: where to send the user, and what to keep for the callback. */
export interface AuthorizationRequest {
	/** The URL to redirect the user to. */
	url: string;
	/** The state sent; check the callback against it. */
	state: string;
	/** The PKCE code verifier, for the token request; `undefined` without PKCE. A secret. */
	codeVerifier: string | undefined;
	/** The nonce sent, if any. */
	nonce: string | undefined;
	/**
	 * The `request_uri` the URL carries when the parameters were pushed (RFC 9126).
	 * @default undefined: the URL carries the parameters themselves
	 */
	requestUri?: string | undefined;
	/**
	 * When `requestUri` expires, in epoch milliseconds: send the user before then.
	 * @default undefined: nothing was pushed
	 */
	expiresAt?: number | undefined;
}

// The parameters this function sets: a caller's `params` or the endpoint's own query must not
// replace them, or a stale state or a foreign client_id would be sent without anyone noticing.
const OWN_PARAMS = new Set([
	'response_type',
	'client_id',
	'redirect_uri',
	'scope',
	'state',
	'code_challenge',
	'code_challenge_method',
	'nonce',
]);

/**
 * Builds the URL to send the user to for authorization (RFC 6749 §4.1.1 and §4.2.1), with PKCE
 * (RFC 7636) S256 by default and a fresh `state`. Keep the returned `state` and `codeVerifier`
 * (server side, tied to the user's session) for the callback and the token request.
 *
 * Parameters come in a fixed order: the endpoint's own query, `response_type`, `client_id`,
 * `redirect_uri`, `scope`, `state`, `code_challenge`, `code_challenge_method`, `nonce`,
 * `acr_values`, `max_age`, then `params`.
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute http(s) URL or has a fragment, an
 *   option has the wrong form, `params` (or the endpoint's query) sets a parameter this function owns,
 *   or PKCE is asked for the implicit flow.
 */
export async function authorizationUrl(
	options: AuthorizationUrlOptions,
): Promise<AuthorizationRequest> {
	const url = authorizationEndpointUrl(options.authorizationEndpoint, OWN_PARAMS);
	const { params, ...request } = await authorizationParameters(options);
	// A parameter also in the endpoint's query replaces it; a list (several `resource`s) stays whole.
	for (const name of new Set(params.keys())) url.searchParams.delete(name);
	for (const [name, value] of params) url.searchParams.append(name, value);
	return { url: url.href, ...request };
}

/**
 * The parameters of an authorization request, in the order of `authorizationUrl()`, and what to
 * keep for the callback: what a pushed authorization request (RFC 9126) sends in its body.
 *
 * @throws {InvalidOptionsError} As `authorizationUrl()`, the endpoint aside.
 */
export async function authorizationParameters(
	options: Omit<AuthorizationUrlOptions, 'authorizationEndpoint'>,
): Promise<
	Pick<AuthorizationRequest, 'state' | 'codeVerifier' | 'nonce'> & { params: URLSearchParams }
> {
	const responseType = options.responseType ?? 'code';
	if (responseType !== 'code' && responseType !== 'token') {
		throw new InvalidOptionsError("responseType must be 'code' or 'token'");
	}
	requireNonEmpty(options.clientId, 'clientId');
	if (options.redirectUri !== undefined) absoluteUrl(options.redirectUri, 'redirectUri');
	const state = options.state ?? generateState();
	requireNonEmpty(state, 'state');
	if (options.nonce !== undefined) requireNonEmpty(options.nonce, 'nonce');
	const pkce = pkceMethod(options, responseType);
	const codeVerifier =
		pkce === false ? undefined : (options.codeVerifier ?? generateCodeVerifier());

	const query = new URLSearchParams();
	query.set('response_type', responseType);
	query.set('client_id', options.clientId);
	if (options.redirectUri !== undefined) query.set('redirect_uri', options.redirectUri);
	const { profile } = options;
	const separator = options.scopeSeparator ?? profile?.scopeSeparator ?? ' ';
	const scope = joinScope(
		withScopes(options.scope, profile?.authorizationScopes ?? [], separator),
		separator,
	);
	if (scope !== undefined) query.set('scope', scope);
	query.set('state', state);
	if (pkce !== false && codeVerifier !== undefined) {
		query.set('code_challenge', await computeCodeChallenge(codeVerifier, pkce));
		query.set('code_challenge_method', pkce);
	}
	if (options.nonce !== undefined) query.set('nonce', options.nonce);
	const stepUp = stepUpParams(options);
	for (const [name, value] of stepUp) query.set(name, value);
	const extra = { ...profile?.authorizationParams, ...options.params };
	for (const name of Object.keys(extra)) {
		if (OWN_PARAMS.has(name) || stepUp.has(name)) {
			throw new InvalidOptionsError(
				`params cannot set ${name}: it is set from the options of authorizationUrl()`,
			);
		}
	}
	setParams(query, extra);
	return { params: query, state, codeVerifier, nonce: options.nonce };
}

/**
 * The authorization endpoint as a URL, checked: absolute, `http(s):`, no fragment, and none of
 * `owned` in its query.
 *
 * @throws {InvalidOptionsError} It is not.
 */
export function authorizationEndpointUrl(endpoint: string | URL, owned: ReadonlySet<string>): URL {
	const url = absoluteUrl(endpoint, 'authorizationEndpoint');
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new InvalidOptionsError('authorizationEndpoint must be an http: or https: URL');
	}
	for (const name of url.searchParams.keys()) {
		if (owned.has(name)) {
			throw new InvalidOptionsError(
				`authorizationEndpoint already has a ${name} parameter; pass it as an option instead`,
			);
		}
	}
	return url;
}

/**
 * `acr_values` and `max_age`, when asked for. Not parameters this function always owns: an app
 * may still send them through `params`, but not both ways at once.
 */
function stepUpParams(
	options: Pick<AuthorizationUrlOptions, 'acrValues' | 'maxAge'>,
): Map<string, string> {
	const params = new Map<string, string>();
	const { acrValues, maxAge } = options;
	if (acrValues !== undefined) {
		const list = typeof acrValues === 'string' ? [acrValues] : acrValues;
		if (!list.every((value) => typeof value === 'string' && /^[^\s]+$/.test(value))) {
			throw new InvalidOptionsError('Each of acrValues must be a non-empty string without spaces');
		}
		if (list.length > 0) params.set('acr_values', list.join(' '));
	}
	if (maxAge !== undefined) {
		if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
			throw new InvalidOptionsError('maxAge must be a whole number of seconds, 0 or more');
		}
		params.set('max_age', String(maxAge));
	}
	return params;
}

function pkceMethod(
	options: Pick<AuthorizationUrlOptions, 'pkce' | 'codeVerifier'>,
	responseType: 'code' | 'token',
): CodeChallengeMethod | false {
	const pkce = options.pkce ?? (responseType === 'code' ? 'S256' : false);
	if (pkce !== false && pkce !== 'S256' && pkce !== 'plain') {
		throw new InvalidOptionsError("pkce must be 'S256', 'plain' or false");
	}
	if (pkce !== false && responseType === 'token') {
		throw new InvalidOptionsError("pkce applies only to responseType 'code'; set pkce: false");
	}
	if (pkce === false && options.codeVerifier !== undefined) {
		// A verifier that is never sent as a challenge would make the token request fail later, far
		// from the cause.
		throw new InvalidOptionsError('codeVerifier was given but pkce is false');
	}
	return pkce;
}

/**
 * The scopes asked for, plus those a profile needs (`offline_access`...) that are missing; the
 * scope as it is when none are.
 */
export function withScopes(
	scope: string | readonly string[] | undefined,
	needed: readonly string[],
	separator: ' ' | ',',
): string | readonly string[] | undefined {
	if (needed.length === 0) return scope;
	const list =
		typeof scope === 'string' ? (parseScope(scope, separator) ?? []) : [...(scope ?? [])];
	for (const item of needed) if (!list.includes(item)) list.push(item);
	return list;
}

function joinScope(
	scope: string | readonly string[] | undefined,
	separator: ' ' | ',',
): string | undefined {
	if (scope === undefined) return undefined;
	if (typeof scope === 'string') return scope === '' ? undefined : scope;
	for (const item of scope) {
		if (typeof item !== 'string' || item === '' || /\s/.test(item) || item.includes(separator)) {
			throw new InvalidOptionsError(
				`Each scope in the list must be a non-empty string without whitespace or "${separator}"`,
			);
		}
	}
	return scope.length === 0 ? undefined : scope.join(separator);
}

function absoluteUrl(value: string | URL, option: string): URL {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new InvalidOptionsError(`${option} must be an absolute URL`);
	}
	// `href` keeps an empty "#", which `hash` reports as "".
	if (url.href.includes('#')) {
		throw new InvalidOptionsError(`${option} must not have a fragment (RFC 6749 §3.1)`);
	}
	return url;
}

function requireNonEmpty(value: unknown, option: string): void {
	if (typeof value !== 'string' || value === '') {
		throw new InvalidOptionsError(`${option} must be a non-empty string`);
	}
}
