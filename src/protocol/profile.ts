import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import type { Grant } from './grants.js';
import { bodyObject, deadGrantHook } from './profiles/answer-fixes.js';
import type { TokenRequestParts } from './token-request.js';

/** A token endpoint answer as response hooks see it: the body is already decoded. */
export interface TokenHttpResponse {
	/** The HTTP status. */
	status: number;
	/** The response headers. */
	headers: Headers;
	/** The decoded body: usually an object, whatever the decoder gave. */
	body: unknown;
}

/** Changes a token request before it is sent (its parameters, headers, URL or method). */
export type TokenRequestHook = (request: TokenRequestParts) => void | Promise<void>;

/** Reads a token answer before it is parsed; returns a replacement, or nothing to keep it. */
// biome-ignore lint/suspicious/noConfusingVoidType: void lets a hook that returns nothing type-check.
export type TokenResponseHook = (response: TokenHttpResponse) => TokenHttpResponse | void;

/** Changes an API request the session sends with the access token; returns a replacement or nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: void lets a hook that returns nothing type-check.
export type ProtectedRequestHook = (request: Request) => Request | void | Promise<Request | void>;

/**
 * A provider's fixes, each on one named hook point (requests-oauthlib's compliance hooks).
 * Each list runs in order.
 */
export interface ProfileHooks {
	/** Before a token request for any grant but `refresh_token` is sent. @default [] */
	readonly accessTokenRequest?: readonly TokenRequestHook[] | undefined;
	/** After its answer is decoded, before it is parsed. @default [] */
	readonly accessTokenResponse?: readonly TokenResponseHook[] | undefined;
	/** Before a `refresh_token` request is sent. @default [] */
	readonly refreshTokenRequest?: readonly TokenRequestHook[] | undefined;
	/** After a refresh answer is decoded, before it is parsed. @default [] */
	readonly refreshTokenResponse?: readonly TokenResponseHook[] | undefined;
	/** Before each API request the session sends with the token. @default [] */
	readonly protectedRequest?: readonly ProtectedRequestHook[] | undefined;
}

/**
 * How a provider departs from RFC 6749, for the session to adapt to. Make one with
 * `defineProfile`: it checks the fields and turns `tokenRequestHeaders`, `answerScopeSeparator`
 * and `deadGrant` into hooks, which a plain object would not have.
 */
export interface ProviderProfile {
	/** A name for logs and errors, such as `'github'`. */
	readonly name: string;
	/**
	 * What separates scopes, sent (authorization URLs, token requests) and received (token answers).
	 * @default ' '
	 */
	readonly scopeSeparator?: ' ' | ',' | undefined;
	/**
	 * What separates scopes in token answers, where it is not what is sent: LinkedIn wants spaces in
	 * its authorization URL and answers with commas. `defineProfile` makes it the last response
	 * hook of both phases, which reads the answer's `scope` into a list.
	 * @default scopeSeparator
	 * @example ','
	 */
	readonly answerScopeSeparator?: ' ' | ',' | undefined;
	/**
	 * The HTTP method of token requests.
	 * @default 'POST'
	 */
	readonly tokenEndpointMethod?: 'POST' | 'GET' | undefined;
	/**
	 * Parameters the session adds to each authorization URL it builds, such as Google's
	 * `access_type=offline`. A parameter the caller passes in `params` wins over the profile's.
	 * @default {}
	 * @example { access_type: 'offline', prompt: 'consent' }
	 */
	readonly authorizationParams?: Readonly<Record<string, string>> | undefined;
	/**
	 * Scopes the session adds to the scope of each authorization URL it builds, when missing, such
	 * as `offline_access` where a refresh token is only issued for it (Microsoft, Auth0).
	 * @default []
	 * @example ['offline_access']
	 */
	readonly authorizationScopes?: readonly string[] | undefined;
	/**
	 * Headers sent with every request to the token endpoint (code, refresh, client credentials,
	 * device code) and with the session's revocation, such as the `User-Agent` Reddit asks of each
	 * app. A header the request already has (the caller's `headers`) is kept. `defineProfile` makes
	 * them the first `accessTokenRequest` and `refreshTokenRequest` hook.
	 * @default {}
	 * @example { 'user-agent': 'web:com.example.app:v1.2 (by /u/example)' }
	 */
	readonly tokenRequestHeaders?: Readonly<Record<string, string>> | undefined;
	/**
	 * Which refresh answers mean the refresh token can no longer be used, where the provider says
	 * so with a code of its own or the wrong RFC code: a list of `error` codes, or a test of the
	 * answer (seen after the hooks). Such an answer becomes `invalid_grant`, its own code kept at
	 * the start of `error_description`, so the session ends (`ReauthenticationRequiredError`)
	 * instead of trying the dead refresh token again. Other answers (a code exchange's) are left to
	 * the hooks: `renameErrorCodes` there. `defineProfile` makes it the last `refreshTokenResponse`
	 * hook (so only the code that defines profiles carries it), replacing one it made before.
	 * @default []
	 * @example ['interaction_required', 'consent_required']
	 * @example ({ body }) => bodyObject({ body })?.reason === 'Invalid Token!'
	 */
	readonly deadGrant?: readonly string[] | DeadGrantTest | undefined;
	/**
	 * Fixes run at named points of the protocol.
	 * @default {}
	 */
	readonly hooks?: ProfileHooks | undefined;
}

/** Whether a decoded refresh answer says the refresh token can no longer be used. */
export type DeadGrantTest = (response: TokenHttpResponse) => boolean;

/** Which pair of token hooks applies: refresh requests have their own. */
export type TokenPhase = 'accessToken' | 'refreshToken';

const hookNames = [
	'accessTokenRequest',
	'accessTokenResponse',
	'refreshTokenRequest',
	'refreshTokenResponse',
	'protectedRequest',
] as const;

// The hooks defineProfile made of tokenRequestHeaders and deadGrant, so that defining a profile
// again from one replaces them rather than adding a second set.
const madeHooks = new WeakSet<object>();

/**
 * Checks a profile and freezes a copy of it, hook lists included, so a shared profile cannot be
 * changed by one of its users.
 *
 * @throws {InvalidOptionsError} A field has the wrong form or a hook point is unknown.
 */
export function defineProfile(profile: ProviderProfile): ProviderProfile {
	if (typeof profile?.name !== 'string' || profile.name === '') {
		throw new InvalidOptionsError('A provider profile needs a name');
	}
	const where = `Profile ${profile.name}`;
	for (const field of ['scopeSeparator', 'answerScopeSeparator'] as const) {
		if (![undefined, ' ', ','].includes(profile[field])) {
			throw new InvalidOptionsError(`${where}: ${field} must be ' ' or ','`);
		}
	}
	if (![undefined, 'POST', 'GET'].includes(profile.tokenEndpointMethod)) {
		throw new InvalidOptionsError(`${where}: tokenEndpointMethod must be 'POST' or 'GET'`);
	}
	const params = stringMap(profile.authorizationParams, `${where}: authorizationParams`);
	const headers = stringMap(profile.tokenRequestHeaders, `${where}: tokenRequestHeaders`);
	const scopes = profile.authorizationScopes ?? [];
	if (
		!Array.isArray(scopes) ||
		!scopes.every((scope) => typeof scope === 'string' && /^[^\s,]+$/.test(scope))
	) {
		throw new InvalidOptionsError(
			`${where}: authorizationScopes must be a list of scopes without spaces or commas`,
		);
	}
	const deadGrant = profile.deadGrant;
	if (
		deadGrant !== undefined &&
		typeof deadGrant !== 'function' &&
		!(
			Array.isArray(deadGrant) && deadGrant.every((code) => typeof code === 'string' && code !== '')
		)
	) {
		throw new InvalidOptionsError(
			`${where}: deadGrant must be a list of error codes or a function`,
		);
	}
	const hooks: Record<string, readonly unknown[]> = {};
	for (const [point, list] of Object.entries(profile.hooks ?? {})) {
		if (!(hookNames as readonly string[]).includes(point)) {
			throw new InvalidOptionsError(`${where}: unknown hook point ${point}`);
		}
		if (list === undefined) continue;
		if (!Array.isArray(list) || !list.every((hook) => typeof hook === 'function')) {
			throw new InvalidOptionsError(`${where}: hooks.${point} must be a list of functions`);
		}
		hooks[point] = Object.freeze(list.filter((hook) => !madeHooks.has(hook)));
	}
	if (profile.tokenRequestHeaders !== undefined) {
		const entries = Object.entries(headers);
		// new Headers() checks each name and value, so a bad one throws here rather than per request.
		try {
			new Headers(entries);
		} catch {
			throw new InvalidOptionsError(`${where}: tokenRequestHeaders has an invalid header`);
		}
		const addHeaders: TokenRequestHook = (request) => {
			for (const [name, value] of entries) {
				if (!request.headers.has(name)) request.headers.set(name, value);
			}
		};
		madeHooks.add(addHeaders);
		for (const point of ['accessTokenRequest', 'refreshTokenRequest'] as const) {
			hooks[point] = Object.freeze([addHeaders, ...(hooks[point] ?? [])]);
		}
	}
	const separator = profile.answerScopeSeparator;
	if (separator !== undefined && separator !== (profile.scopeSeparator ?? ' ')) {
		const splitScope: TokenResponseHook = (response) => {
			const scope = bodyObject(response)?.scope;
			if (typeof scope !== 'string') return undefined;
			const list = scope.split(separator).map((item) => item.trim());
			return {
				...response,
				body: { ...(response.body as object), scope: list.filter((item) => item !== '') },
			};
		};
		madeHooks.add(splitScope);
		for (const point of ['accessTokenResponse', 'refreshTokenResponse'] as const) {
			hooks[point] = Object.freeze([...(hooks[point] ?? []), splitScope]);
		}
	}
	const codes = Array.isArray(deadGrant) ? Object.freeze([...deadGrant]) : undefined;
	if (deadGrant !== undefined) {
		const hook = deadGrantHook(
			codes === undefined
				? (deadGrant as DeadGrantTest)
				: ({ body }) => codes.includes((body as Record<string, unknown>).error as string),
		);
		madeHooks.add(hook);
		hooks.refreshTokenResponse = Object.freeze([...(hooks.refreshTokenResponse ?? []), hook]);
	}
	return Object.freeze({
		...profile,
		...(profile.authorizationParams === undefined
			? {}
			: { authorizationParams: Object.freeze({ ...params }) }),
		...(profile.authorizationScopes === undefined
			? {}
			: { authorizationScopes: Object.freeze([...scopes]) }),
		...(codes === undefined ? {} : { deadGrant: codes }),
		...(profile.tokenRequestHeaders === undefined
			? {}
			: { tokenRequestHeaders: Object.freeze({ ...headers }) }),
		hooks: Object.freeze(hooks) as ProfileHooks,
	});
}

function stringMap(value: unknown, what: string): Readonly<Record<string, string>> {
	const map = value ?? {};
	if (
		typeof map !== 'object' ||
		map === null ||
		Array.isArray(map) ||
		!Object.values(map).every((item) => typeof item === 'string')
	) {
		throw new InvalidOptionsError(`${what} must map names to strings`);
	}
	return map as Readonly<Record<string, string>>;
}

/** The phase of a grant: `refreshToken` for `refresh_token`, `accessToken` for every other. */
export function tokenPhaseOf(grant: Pick<Grant, 'grantType'>): TokenPhase {
	return grant.grantType === 'refresh_token' ? 'refreshToken' : 'accessToken';
}

/** Runs a profile's request hooks of a phase on a token request, in order. */
export async function runTokenRequestHooks(
	profile: ProviderProfile | undefined,
	phase: TokenPhase,
	request: TokenRequestParts,
): Promise<void> {
	for (const hook of profile?.hooks?.[`${phase}Request`] ?? []) await hook(request);
}

/** Runs a profile's response hooks of a phase on a decoded answer, in order; returns the result. */
export function runTokenResponseHooks(
	profile: ProviderProfile | undefined,
	phase: TokenPhase,
	response: TokenHttpResponse,
): TokenHttpResponse {
	let current = response;
	for (const hook of profile?.hooks?.[`${phase}Response`] ?? []) current = hook(current) ?? current;
	return current;
}
