import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { setParams } from './params.js';

/** What a grant is applied with: settings of the request being built. */
export interface GrantContext {
	/**
	 * What joins a scope list. RFC 6749 §3.3 says a space; GitHub and Facebook use a comma, which
	 * their profiles set.
	 * @default ' '
	 */
	readonly scopeSeparator?: ' ' | ',' | undefined;
}

/**
 * An authorization grant (RFC 6749 §1.3): the credential a token request trades for a token.
 *
 * A small value: `grantType` says what it is, `apply` adds its parameters. Its secrets (code,
 * password, refresh token, assertion...) live in a closure, so logging a grant shows none of them.
 */
export interface Grant {
	/** The `grant_type` sent; the request builder sets that parameter from here. */
	readonly grantType: string;
	/** Adds the grant's parameters, other than `grant_type`, to a token request. */
	apply(params: URLSearchParams, context?: GrantContext): void;
}

/** A scope as a list, or as one string sent as is. */
export type Scope = string | readonly string[];

/**
 * A parameter value of `extensionGrant`: a list is sent as the parameter repeated (`scope`, joined),
 * `undefined` is left out.
 */
export type Value = string | readonly string[] | undefined;

/**
 * Turns a scope into its wire form: a list is joined with `separator`, a string is kept as given.
 *
 * @example formatScope(['repo', 'gist'], ',') // 'repo,gist'
 */
export function formatScope(
	scope: Scope | undefined,
	separator: ' ' | ',' = ' ',
): string | undefined {
	if (scope === undefined || typeof scope === 'string') return scope;
	return scope.join(separator);
}

/**
 * The authorization code grant (RFC 6749 §4.1.3), with the PKCE `code_verifier` (RFC 7636 §4.5).
 * `redirectUri` must be the one the authorization request carried, if it carried one.
 */
export function authorizationCodeGrant(options: {
	code: string;
	redirectUri?: string | undefined;
	codeVerifier?: string | undefined;
}): Grant {
	required(options, 'code', 'authorizationCodeGrant');
	optional(options, 'redirectUri', 'authorizationCodeGrant');
	optional(options, 'codeVerifier', 'authorizationCodeGrant');
	return grant('authorization_code', {
		code: options.code,
		redirect_uri: options.redirectUri,
		code_verifier: options.codeVerifier,
	});
}

/** The client credentials grant (RFC 6749 §4.4): the client acts on its own behalf. */
export function clientCredentialsGrant(options: { scope?: Scope | undefined } = {}): Grant {
	return grant('client_credentials', {}, scopeOf(options, 'clientCredentialsGrant'));
}

/**
 * The resource owner password credentials grant (RFC 6749 §4.3). Deprecated by OAuth 2.1;
 * only for first-party clients that cannot use another flow.
 */
export function passwordGrant(options: {
	username: string;
	password: string;
	scope?: Scope | undefined;
}): Grant {
	required(options, 'username', 'passwordGrant');
	required(options, 'password', 'passwordGrant');
	return grant(
		'password',
		{ username: options.username, password: options.password },
		scopeOf(options, 'passwordGrant'),
	);
}

/**
 * The refresh token grant (RFC 6749 §6). A `scope` may only narrow the one originally granted.
 */
export function refreshTokenGrant(options: {
	refreshToken: string;
	scope?: Scope | undefined;
}): Grant {
	required(options, 'refreshToken', 'refreshTokenGrant');
	return grant(
		'refresh_token',
		{ refresh_token: options.refreshToken },
		scopeOf(options, 'refreshTokenGrant'),
	);
}

/** The device authorization grant's token request (RFC 8628 §3.4). */
export function deviceCodeGrant(options: { deviceCode: string }): Grant {
	required(options, 'deviceCode', 'deviceCodeGrant');
	return grant('urn:ietf:params:oauth:grant-type:device_code', {
		device_code: options.deviceCode,
	});
}

/**
 * Token exchange (RFC 8693 §2.1). `audience` and `resource` lists are sent as repeated parameters,
 * as the RFC allows.
 */
export function tokenExchangeGrant(options: {
	subjectToken: string;
	subjectTokenType: string;
	actorToken?: string | undefined;
	actorTokenType?: string | undefined;
	requestedTokenType?: string | undefined;
	audience?: string | readonly string[] | undefined;
	resource?: string | readonly string[] | undefined;
	scope?: Scope | undefined;
}): Grant {
	const name = 'tokenExchangeGrant';
	required(options, 'subjectToken', name);
	required(options, 'subjectTokenType', name);
	optional(options, 'actorToken', name);
	optional(options, 'actorTokenType', name);
	optional(options, 'requestedTokenType', name);
	if ((options.actorToken === undefined) !== (options.actorTokenType === undefined)) {
		throw new InvalidOptionsError(`${name} needs actorToken and actorTokenType together`);
	}
	return grant(
		'urn:ietf:params:oauth:grant-type:token-exchange',
		{
			subject_token: options.subjectToken,
			subject_token_type: options.subjectTokenType,
			actor_token: options.actorToken,
			actor_token_type: options.actorTokenType,
			requested_token_type: options.requestedTokenType,
			audience: stringList(options.audience, 'audience', name),
			resource: stringList(options.resource, 'resource', name),
		},
		scopeOf(options, name),
	);
}

/** The JWT bearer grant (RFC 7523 §2.1): a signed assertion traded for a token. */
export function jwtBearerGrant(options: { assertion: string; scope?: Scope | undefined }): Grant {
	required(options, 'assertion', 'jwtBearerGrant');
	return grant(
		'urn:ietf:params:oauth:grant-type:jwt-bearer',
		{ assertion: options.assertion },
		scopeOf(options, 'jwtBearerGrant'),
	);
}

/** Facebook's exchange of a short-lived user token for a long-lived one. */
export function fbExchangeTokenGrant(options: { fbExchangeToken: string }): Grant {
	required(options, 'fbExchangeToken', 'fbExchangeTokenGrant');
	return grant('fb_exchange_token', { fb_exchange_token: options.fbExchangeToken });
}

/**
 * Any other grant type (RFC 6749 §4.5). A list value is sent as repeated parameters, except
 * `scope`, which is joined; an `undefined` value is left out.
 *
 * @example extensionGrant('urn:example:otp', { otp: '123456' })
 */
export function extensionGrant(
	grantType: string,
	params: Readonly<Record<string, Value>> = {},
): Grant {
	if (typeof grantType !== 'string' || grantType === '') {
		throw new InvalidOptionsError('extensionGrant needs a non-empty grant type');
	}
	const { scope, ...rest } = params;
	const values: Record<string, Value> = {};
	for (const [key, value] of Object.entries(rest)) {
		if (key === 'grant_type') {
			throw new InvalidOptionsError('extensionGrant takes the grant type as its first argument');
		}
		values[key] = stringList(value, key, 'extensionGrant');
	}
	return grant(grantType, values, scopeOf({ scope }, 'extensionGrant'));
}

function grant(grantType: string, values: Readonly<Record<string, Value>>, scope?: Scope): Grant {
	return Object.freeze({
		grantType,
		apply(params: URLSearchParams, context: GrantContext = {}): void {
			setParams(params, values);
			const formatted = formatScope(scope, context.scopeSeparator);
			if (formatted !== undefined) params.set('scope', formatted);
		},
	});
}

function required<T extends object>(options: T, field: keyof T & string, name: string): void {
	const value = (options as Record<string, unknown> | undefined)?.[field];
	if (typeof value !== 'string' || value === '') {
		throw new InvalidOptionsError(`${name} needs ${field} as a non-empty string`);
	}
}

function optional<T extends object>(options: T, field: keyof T & string, name: string): void {
	const value = (options as Record<string, unknown>)[field];
	if (value !== undefined && typeof value !== 'string') {
		throw new InvalidOptionsError(`${name}: ${field} must be a string when given`);
	}
}

function stringList(
	value: unknown,
	field: string,
	name: string,
): string | readonly string[] | undefined {
	if (value === undefined || typeof value === 'string') return value;
	if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
		return [...value];
	}
	throw new InvalidOptionsError(`${name}: ${field} must be a string or a list of strings`);
}

function scopeOf(options: { scope?: Scope | undefined }, name: string): Scope | undefined {
	const scope = stringList(options.scope, 'scope', name);
	// A scope token cannot hold a space (RFC 6749 §3.3); in a list it would silently split in two.
	if (Array.isArray(scope) && scope.some((item) => item === '' || /[\s,]/.test(item))) {
		throw new InvalidOptionsError(
			`${name}: each scope in a list must be non-empty, without spaces or commas`,
		);
	}
	return scope;
}
