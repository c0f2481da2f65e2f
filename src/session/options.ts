import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import {
	type ClientAuthentication,
	clientSecretBasic,
	clientSecretPost,
	noneClientAuthentication,
} from '../protocol/client-authentication.js';
import type { AuthorizationServerMetadata } from '../protocol/discovery.js';
import type { Grant } from '../protocol/grants.js';
import type { Params } from '../protocol/params.js';
import type { ProviderProfile } from '../protocol/profile.js';
import type { Token } from '../protocol/token.js';
import type { TokenInput } from '../protocol/token-record.js';
import { MemoryStore } from '../storage/memory.js';
import type { TokenStore } from '../storage/token-store.js';
import { isLoopbackHost } from '../utils/secure-transport.js';
import type { RetryOptions } from './request-token.js';

/** How the session deals with an expired access token (requests-oauthlib's three modes). */
export type RefreshMode = 'auto' | 'raise-updated' | 'manual';

/**
 * What `session.fetch` does with an `insufficient_scope` refusal (RFC 6750 §3.1): hand the response
 * back (`'return'`), or throw `InsufficientScopeError` (`'throw'`).
 */
export type InsufficientScopeMode = 'return' | 'throw';

/** The names of the client authentication methods built in (RFC 6749 §2.3, OpenID Connect). */
export type ClientAuthenticationMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/**
 * One API of the session's `resources` option: what the token endpoint is asked for to get a token
 * that API accepts.
 */
export interface ResourceOptions {
	/**
	 * The RFC 8707 resource indicator(s) sent as `resource` when getting this API's token; a list is
	 * sent as repeated parameters.
	 * @default the API's origin, unless `audience` is given
	 */
	resource?: string | readonly string[] | undefined;
	/**
	 * The `audience` parameter, for servers that use it instead of `resource` (Auth0).
	 * @default none
	 */
	audience?: string | readonly string[] | undefined;
	/**
	 * The scope to ask for with this API's token (a narrower one than the sign-in's, RFC 8707 §2.2).
	 * @default none: the server's choice, usually what the grant holds for the resource
	 */
	scope?: string | readonly string[] | undefined;
}

/** Options of a DPoP session (RFC 9449), beyond `dpop: true`. */
export interface DPoPOptions {
	/**
	 * Your own key pair, instead of one the session makes and stores: ES256 (P-256), EdDSA
	 * (Ed25519), RS256 or PS256 (2048 bits or more), its public key exportable. The store then
	 * keeps only its thumbprint, and every context sharing the store must be given the same pair.
	 * @default undefined: an ES256 key pair made on first use and kept in the store with the token
	 */
	keyPair?: CryptoKeyPair | undefined;
	/**
	 * Accepts a `Bearer` token from a token endpoint asked for a DPoP-bound one (a server without
	 * DPoP support). Off, such an answer fails with a `DPoPError` (`bearer-downgrade`).
	 * @default false
	 */
	allowBearer?: boolean | undefined;
}

/** Options of `new OAuth2Session(...)`. Only `clientId` is required. */
export interface OAuth2SessionOptions {
	/** The client identifier issued by the authorization server. */
	clientId: string;
	/** The client secret, for confidential clients. Never appears in any message or log. */
	clientSecret?: string | undefined;
	/**
	 * How the client authenticates at the token endpoint: a method name, or a function that adds
	 * parameters and headers (`privateKeyJwt(...)`, `clientSecretJwt(...)` or your own).
	 * @default 'client_secret_basic' with a `clientSecret`, else 'none'
	 */
	clientAuthentication?: ClientAuthenticationMethod | ClientAuthentication | undefined;
	/** The token endpoint. Needed to fetch and refresh tokens. */
	tokenEndpoint?: string | URL | undefined;
	/** The revocation endpoint (RFC 7009), for `session.logout()`. */
	revocationEndpoint?: string | URL | undefined;
	/** The authorization endpoint, for `session.authorizationUrl()`. */
	authorizationEndpoint?: string | URL | undefined;
	/**
	 * The pushed authorization request endpoint (RFC 9126). With one, `session.authorizationUrl()`
	 * first POSTs the request's parameters there (with the session's client authentication) and
	 * returns a URL carrying only `client_id` and the `request_uri` answered. `false` sends the
	 * parameters in the URL even when `metadata` has the endpoint, unless it requires pushing.
	 * @default `metadata.pushed_authorization_request_endpoint`, else none: nothing is pushed
	 */
	pushedAuthorizationRequestEndpoint?: string | URL | false | undefined;
	/**
	 * The authorization server's issuer identifier. Callbacks carrying RFC 9207 `iss` must carry
	 * this one, or they are refused (mix-up attack).
	 * @default `metadata.issuer`, else none: `iss` is not checked
	 */
	issuer?: string | undefined;
	/**
	 * The authorization server's metadata, as `discover()` returns it. It gives `issuer`, the
	 * endpoints not given as options, and whether callbacks must carry `iss`
	 * (`authorization_response_iss_parameter_supported`).
	 * @default none
	 */
	metadata?: AuthorizationServerMetadata | undefined;
	/** The redirect URI registered for this client. */
	redirectUri?: string | undefined;
	/** The scopes to ask for in `authorizationUrl()` and grants that take a scope. */
	scope?: string | readonly string[] | undefined;
	/**
	 * A token to start with: a `Token`, `{ accessToken, ... }`, or a requests-oauthlib style record
	 * (`{ access_token, expires_at }` in seconds, or `expires_in` counted from now). A record found
	 * in `store` under `storeKey` wins over this.
	 */
	token?: TokenInput | undefined;
	/**
	 * The grant used by `fetchToken()` without arguments, and to get a new token when there is no
	 * refresh token: `clientCredentialsGrant()` makes a daemon session that renews itself.
	 */
	grant?: Grant | undefined;
	/**
	 * The origins the access token may be sent to, such as `['https://api.example.com']`: `http:`
	 * or `https:` URLs (another scheme is an `InvalidOptionsError`). A request to any other origin
	 * fails with `OriginNotAllowedError`.
	 * @default [] (only `baseUrl`'s origin, if given)
	 */
	allowedOrigins?: readonly string[] | undefined;
	/**
	 * APIs that each take a token of their own (RFC 8707 resource indicators, or Auth0 audiences),
	 * by origin: a request to one of these origins carries that API's token, obtained and refreshed
	 * with the session's refresh token and that API's `resource`, and never the token of another
	 * API. The tokens share the session's store record and lock: a refresh token rotated by any
	 * of them is the one all use. An origin here may not be in `allowedOrigins` too.
	 * @default {} (one token, for `allowedOrigins`)
	 * @example { 'https://api-a.example': {}, 'https://api-b.example': { scope: 'read' } }
	 */
	resources?: Readonly<Record<string, ResourceOptions>> | undefined;
	/** A base URL that relative request URLs resolve against. Its origin is allowed. */
	baseUrl?: string | URL | undefined;
	/**
	 * What happens when the access token has expired:
	 * - `'auto'`: refresh, save, and send the request with the new token;
	 * - `'raise-updated'`: refresh, save, and throw `TokenUpdated` without sending the request;
	 * - `'manual'`: throw `TokenExpiredError`; call `session.refreshToken()` yourself.
	 * @default 'auto'
	 */
	refresh?: RefreshMode | undefined;
	/**
	 * Extra parameters sent with every refresh request (requests-oauthlib's `auto_refresh_kwargs`).
	 * A list is sent as repeated parameters.
	 * @default {}
	 */
	refreshParams?: Params | undefined;
	/**
	 * Called with each token the session obtains (refresh or `fetchToken`), after it is saved to
	 * `store` (requests-oauthlib's `token_updater`). A rejection is reported as a `storeError` event.
	 */
	onTokenUpdated?: ((token: Token) => void | Promise<void>) | undefined;
	/**
	 * Where the token is kept. A store with `lock` and `subscribe` (file, IndexedDB, Redis) lets
	 * tabs, processes and machines share one token with one refresh per expiry.
	 * @default new MemoryStore()
	 */
	store?: TokenStore | undefined;
	/**
	 * The key of this session's record in `store`.
	 * @default 'default'
	 */
	storeKey?: string | undefined;
	/**
	 * The `fetch` used for API and token requests.
	 * @default globalThis.fetch, looked up at each call
	 */
	fetch?: typeof fetch | undefined;
	/** A provider profile (`github`, `facebook`, ...) that adapts the session to a provider's quirks. */
	profile?: ProviderProfile | undefined;
	/**
	 * Allows plain `http:` to hosts that are not loopback. Only for test setups you control.
	 * @default false
	 */
	allowInsecure?: boolean | undefined;
	/**
	 * How long before `expiresAt` a token counts as expired, in milliseconds. It is capped at a
	 * quarter of the token's lifetime, so short-lived tokens are not refreshed continually.
	 * @default 30_000
	 */
	leeway?: number | undefined;
	/**
	 * Refresh in the background shortly before expiry (with jitter), so requests never wait.
	 * @default true
	 */
	proactiveRefresh?: boolean | undefined;
	/**
	 * The longest a refresh may take, retries included, in milliseconds. A caller aborting its own
	 * request does not cancel a refresh other callers share; this bounds it instead.
	 * @default 60_000
	 */
	refreshTimeout?: number | undefined;
	/**
	 * How long before the refresh token's own expiry (when the server says, as Keycloak and GitHub
	 * Apps do) the `refreshTokenExpiring` event fires, in milliseconds. Capped at a quarter of the
	 * refresh token's lifetime.
	 * @default 86_400_000 (one day)
	 */
	refreshTokenWarning?: number | undefined;
	/**
	 * Retries of token requests on network errors, 5xx and 429 (never on an OAuth error answer).
	 * `false` turns them off.
	 * @default { retries: 2 }
	 */
	retry?: RetryOptions | false | undefined;
	/**
	 * How long to back off after a refresh failed, in milliseconds, doubled for each failure in a
	 * row up to 64 times this. Meanwhile a still-valid token is used, and a request that needs a new
	 * one fails at once with a `TokenRequestError` (reason `backoff`, `retryAt`, the last failure as
	 * `cause`) instead of asking the server again.
	 * @default 5_000
	 */
	refreshBackoff?: number | undefined;
	/**
	 * The shortest time between two automatic refreshes, in milliseconds. A token answered with an
	 * `expires_in` that leaves less (`-1`, `0.001`, `"-3600"`: a misconfigured server) is used for
	 * about this long anyway, and reported by a `tokenLifetimeClamped` event, instead of being
	 * refreshed again at once.
	 * @default 2_000
	 */
	minRefreshInterval?: number | undefined;
	/**
	 * How long a request whose token is due but still valid waits for the refresh, in
	 * milliseconds. After that it goes with the current token while the refresh goes on, so a slow
	 * or failing token endpoint does not hold up requests that do not need it.
	 * @default 300
	 */
	refreshWait?: number | undefined;
	/**
	 * How long, in milliseconds, the token a 401 refreshed to is not refreshed again by a 401,
	 * counted from its issue. An API that refused the old token and then its fresh successor would
	 * refuse the next one too: it gets one refresh per interval, not one per request. An answer
	 * other than 401 with the token lifts this (a later 401 means it was revoked). `0` refreshes
	 * on every 401.
	 * @default 60_000
	 */
	unauthorizedRefreshInterval?: number | undefined;
	/**
	 * The largest answer body read from the token and revocation endpoints, in bytes; a longer one
	 * is refused while it streams in (see `SendTokenRequestOptions.maxResponseSize`).
	 * @default 1_048_576 (1 MiB)
	 */
	maxResponseSize?: number | undefined;
	/**
	 * What a 401 or 403 answered with `WWW-Authenticate: Bearer error="insufficient_scope"` does:
	 * `'return'` hands the response back, as any other; `'throw'` throws `InsufficientScopeError`
	 * with the `scope` the resource server asked for. Either way nothing is refreshed: a new token
	 * would carry the same scopes.
	 * @default 'return'
	 */
	insufficientScope?: InsufficientScopeMode | undefined;
	/**
	 * Reads the token endpoint's answers (of `fetchToken()` and of every refresh) instead of the
	 * built-in JSON-or-form decoder, for an endpoint that answers otherwise (XML, a custom text).
	 * It gets the body as text and the response (its body already read), returns the fields as
	 * RFC 6749 names them (`access_token`, `expires_in`, or `error` for an error answer), and runs
	 * before the profile's response hooks. A throw becomes a `TokenResponseError` (`unparseable`)
	 * whose message does not quote the answer.
	 * @default the built-in decoder: JSON, or a form (`application/x-www-form-urlencoded`)
	 * @example
	 * ```ts
	 * decoder: (text) => Object.fromEntries(new URLSearchParams(text.replaceAll(';', '&'))),
	 * ```
	 */
	decoder?: ((text: string, response: Response) => unknown) | undefined;
	/**
	 * Sender-constrained tokens (DPoP, RFC 9449): every token request carries a proof signed with
	 * the session's key, the tokens are bound to that key, and every request to an allowed origin
	 * carries `Authorization: DPoP <token>` and a fresh proof. The key is kept with the token in
	 * `store`, so every context sharing the record signs with the same key. `true` makes an ES256
	 * key on first use; `{ keyPair }` takes yours.
	 * @default false
	 * @example new OAuth2Session({ clientId: 'app', tokenEndpoint, store, dpop: true })
	 */
	dpop?: boolean | DPoPOptions | undefined;
}

/** The options with every default applied: what the session works from. */
export interface NormalizedOAuth2SessionOptions {
	clientId: string;
	clientAuthentication: ClientAuthentication;
	tokenEndpoint: URL | undefined;
	authorizationEndpoint: URL | undefined;
	revocationEndpoint: URL | undefined;
	/**
	 * The option as given: `authorizationUrl()` falls back on the metadata's and checks it, so a
	 * page that only calls APIs does not carry that code.
	 */
	pushedAuthorizationRequestEndpoint: string | URL | false | undefined;
	/** The server's metadata, for what only sign-in reads (`require_pushed_authorization_requests`). */
	metadata: AuthorizationServerMetadata | undefined;
	redirectUri: string | undefined;
	/** The issuer callbacks' `iss` is checked against. */
	issuer: string | undefined;
	/** Whether a callback without `iss` is refused. */
	requireIssuer: boolean;
	scope: string | readonly string[] | undefined;
	grant: Grant | undefined;
	allowedOrigins: ReadonlySet<string>;
	/**
	 * The allowed origins the token may go to over their scheme: `https:`, loopback, or anything
	 * with `allowInsecure`. Worked out once, since every request and redirect hop asks.
	 */
	tokenOrigins: ReadonlySet<string>;
	/** The `resources` APIs, by origin. */
	resources: ReadonlyMap<string, ResourceOptions>;
	baseUrl: URL | undefined;
	refresh: RefreshMode;
	refreshParams: Params;
	/** Called with the store key too: an `OAuth2Client`'s callback is told whose token it is. */
	onTokenUpdated: ((token: Token, storeKey: string) => void | Promise<void>) | undefined;
	store: TokenStore;
	storeKey: string;
	fetch: typeof fetch;
	profile: ProviderProfile | undefined;
	allowInsecure: boolean;
	leeway: number;
	proactiveRefresh: boolean;
	refreshTimeout: number;
	retry: RetryOptions | false;
	refreshBackoff: number;
	refreshTokenWarning: number;
	minRefreshInterval: number;
	refreshWait: number;
	unauthorizedRefreshInterval: number;
	maxResponseSize: number | undefined;
	insufficientScope: InsufficientScopeMode;
	decoder: ((text: string, response: Response) => unknown) | undefined;
	/** DPoP, when on. */
	dpop: { keyPair: CryptoKeyPair | undefined; allowBearer: boolean } | undefined;
}

/** Every default, in one place. */
export const defaults = {
	refresh: 'auto',
	storeKey: 'default',
	allowInsecure: false,
	leeway: 30_000,
	proactiveRefresh: true,
	refreshTimeout: 60_000,
	retry: { retries: 2 },
	refreshBackoff: 5_000,
	refreshTokenWarning: 86_400_000,
	minRefreshInterval: 2_000,
	refreshWait: 300,
	unauthorizedRefreshInterval: 60_000,
	insufficientScope: 'return',
} as const satisfies Partial<NormalizedOAuth2SessionOptions>;

const refreshModes: readonly RefreshMode[] = ['auto', 'raise-updated', 'manual'];

/** Checks the options and applies the defaults. @throws {InvalidOptionsError} */
export function normalizeOptions(options: OAuth2SessionOptions): NormalizedOAuth2SessionOptions {
	if (typeof options !== 'object' || options === null) {
		throw new InvalidOptionsError('OAuth2Session needs an options object');
	}
	if (typeof options.clientId !== 'string' || options.clientId === '') {
		throw new InvalidOptionsError('OAuth2Session needs a clientId');
	}
	const refresh = oneOf(options.refresh, defaults.refresh, refreshModes, 'refresh');
	const baseUrl = options.baseUrl === undefined ? undefined : webUrl(options.baseUrl, 'baseUrl');
	const allowedOrigins = new Set(
		(options.allowedOrigins ?? []).map((origin) => webUrl(origin, 'allowedOrigins').origin),
	);
	if (baseUrl !== undefined) allowedOrigins.add(baseUrl.origin);
	const allowInsecure = options.allowInsecure ?? defaults.allowInsecure;
	const resources = resourcesFrom(options.resources, allowedOrigins);
	const userFetch = options.fetch;
	const { metadata } = options;
	const issuer = options.issuer ?? metadata?.issuer;
	if (metadata !== undefined && issuer !== metadata.issuer) {
		throw new InvalidOptionsError('issuer differs from the issuer of metadata');
	}
	const tokenEndpoint = options.tokenEndpoint ?? metadata?.token_endpoint;
	const authorizationEndpoint = options.authorizationEndpoint ?? metadata?.authorization_endpoint;
	const revocationEndpoint = options.revocationEndpoint ?? metadata?.revocation_endpoint;
	return {
		clientId: options.clientId,
		clientAuthentication: clientAuthenticationFrom(options),
		tokenEndpoint: tokenEndpoint === undefined ? undefined : toUrl(tokenEndpoint, 'tokenEndpoint'),
		authorizationEndpoint:
			authorizationEndpoint === undefined
				? undefined
				: toUrl(authorizationEndpoint, 'authorizationEndpoint'),
		revocationEndpoint:
			revocationEndpoint === undefined
				? undefined
				: toUrl(revocationEndpoint, 'revocationEndpoint'),
		pushedAuthorizationRequestEndpoint: options.pushedAuthorizationRequestEndpoint,
		metadata,
		redirectUri: options.redirectUri,
		issuer,
		requireIssuer: metadata?.authorization_response_iss_parameter_supported === true,
		scope: options.scope,
		grant: options.grant,
		allowedOrigins,
		tokenOrigins: new Set(
			[...allowedOrigins].filter((origin) => {
				const { protocol, hostname } = new URL(origin);
				return protocol === 'https:' || allowInsecure || isLoopbackHost(hostname);
			}),
		),
		resources,
		baseUrl,
		refresh,
		refreshParams: options.refreshParams ?? {},
		onTokenUpdated: options.onTokenUpdated,
		store: options.store ?? new MemoryStore(),
		storeKey: options.storeKey ?? defaults.storeKey,
		// Looked up per call so test interceptors and polyfills installed later are used.
		fetch: userFetch ?? ((input, init) => globalThis.fetch(input, init)),
		profile: options.profile,
		allowInsecure,
		leeway: nonNegative(options.leeway, defaults.leeway, 'leeway'),
		proactiveRefresh: options.proactiveRefresh ?? defaults.proactiveRefresh,
		refreshTimeout: nonNegative(options.refreshTimeout, defaults.refreshTimeout, 'refreshTimeout'),
		retry: options.retry ?? defaults.retry,
		refreshBackoff: nonNegative(options.refreshBackoff, defaults.refreshBackoff, 'refreshBackoff'),
		refreshTokenWarning: nonNegative(
			options.refreshTokenWarning,
			defaults.refreshTokenWarning,
			'refreshTokenWarning',
		),
		minRefreshInterval: nonNegative(
			options.minRefreshInterval,
			defaults.minRefreshInterval,
			'minRefreshInterval',
		),
		refreshWait: nonNegative(options.refreshWait, defaults.refreshWait, 'refreshWait'),
		unauthorizedRefreshInterval: nonNegative(
			options.unauthorizedRefreshInterval,
			defaults.unauthorizedRefreshInterval,
			'unauthorizedRefreshInterval',
		),
		// Checked, and defaulted, where it is used.
		maxResponseSize: options.maxResponseSize,
		insufficientScope: oneOf(
			options.insufficientScope,
			defaults.insufficientScope,
			['return', 'throw'],
			'insufficientScope',
		),
		decoder: functionOrUndefined(options.decoder, 'decoder'),
		// The key pair is checked when the DPoP module loads, so other sessions never carry the check.
		dpop:
			options.dpop === undefined || options.dpop === false
				? undefined
				: {
						keyPair: options.dpop === true ? undefined : options.dpop.keyPair,
						allowBearer: options.dpop !== true && options.dpop.allowBearer === true,
					},
	};
}

function resourcesFrom(
	resources: OAuth2SessionOptions['resources'],
	allowedOrigins: ReadonlySet<string>,
): ReadonlyMap<string, ResourceOptions> {
	const normalized = new Map<string, ResourceOptions>();
	for (const [key, api] of Object.entries(resources ?? {})) {
		const { origin } = webUrl(key, 'resources');
		// One origin, one token: the other could reach an API that must not see it.
		if (allowedOrigins.has(origin) || normalized.has(origin)) {
			throw new InvalidOptionsError(`${origin} is named twice in resources and allowedOrigins`);
		}
		normalized.set(origin, api ?? {});
	}
	return normalized;
}

function clientAuthenticationFrom(options: OAuth2SessionOptions): ClientAuthentication {
	const method =
		options.clientAuthentication ??
		(options.clientSecret === undefined ? 'none' : 'client_secret_basic');
	if (typeof method === 'function') return method;
	if (method === 'none') return noneClientAuthentication(options.clientId);
	if (options.clientSecret === undefined) {
		throw new InvalidOptionsError(`clientAuthentication '${method}' needs a clientSecret`);
	}
	if (method === 'client_secret_basic')
		return clientSecretBasic(options.clientId, options.clientSecret);
	if (method === 'client_secret_post')
		return clientSecretPost(options.clientId, options.clientSecret);
	throw new InvalidOptionsError(
		"clientAuthentication must be 'client_secret_basic', 'client_secret_post', 'none' or a function",
	);
}

function toUrl(value: string | URL, option: string): URL {
	try {
		return new URL(value);
	} catch {
		throw new InvalidOptionsError(`${option} must be an absolute URL`);
	}
}

// The token goes only over HTTP: another scheme (capacitor:, file:) has no origin to compare.
function webUrl(value: string | URL, option: string): URL {
	const url = toUrl(value, option);
	if (!/^https?:$/.test(url.protocol)) {
		throw new InvalidOptionsError(`${option} takes http: or https: URLs, not ${String(value)}`);
	}
	return url;
}

function nonNegative(value: number | undefined, fallback: number, option: string): number {
	if (value === undefined) return fallback;
	if (typeof value !== 'number' || !(value >= 0)) {
		throw new InvalidOptionsError(`${option} must be a number of milliseconds, 0 or more`);
	}
	return value;
}

function oneOf<T extends string>(
	value: T | undefined,
	fallback: T,
	allowed: readonly T[],
	option: string,
): T {
	if (value === undefined) return fallback;
	if (!allowed.includes(value)) {
		throw new InvalidOptionsError(`${option} must be one of ${allowed.join(', ')}`);
	}
	return value;
}

function functionOrUndefined<T>(value: T | undefined, option: string): T | undefined {
	if (value !== undefined && typeof value !== 'function') {
		throw new InvalidOptionsError(`${option} must be a function`);
	}
	return value;
}
