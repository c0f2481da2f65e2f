import { AuthorizationResponseError } from '../errors/authorization-response-error.js';
import { InvalidCallbackError } from '../errors/invalid-callback-error.js';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { StateMismatchError } from '../errors/state-mismatch-error.js';
import type { Token } from './token.js';
import { tokenFromAnswer } from './token-response.js';

/** How an authorization callback is checked. */
export interface CallbackOptions {
	/**
	 * The `state` the authorization request was sent with. A required key on purpose: pass
	 * `undefined` only when the request deliberately had no state, which leaves the callback open
	 * to CSRF. When defined, a callback with no state or another state throws `StateMismatchError`.
	 */
	expectedState: string | undefined;
	/**
	 * The authorization server's issuer identifier (RFC 9207). When given, an `iss` in the callback
	 * must equal it exactly, or the callback may come from another server (mix-up attack).
	 * @default none: `iss` is returned but not checked
	 */
	issuer?: string | undefined;
	/**
	 * Refuse a callback without `iss`. Set it when the server's metadata has
	 * `authorization_response_iss_parameter_supported: true`. Needs `issuer`.
	 * @default false
	 */
	requireIssuer?: boolean | undefined;
}

/** What an authorization code callback carried, once checked. */
export interface AuthorizationCallback {
	/** The authorization code, to exchange at the token endpoint. Short-lived and single-use. */
	code: string;
	/** The state the callback carried. */
	state: string | undefined;
	/** The RFC 9207 `iss` the callback carried. */
	issuer: string | undefined;
}

/** How an implicit flow callback is checked and read. */
export interface ImplicitCallbackOptions extends CallbackOptions {
	/**
	 * When the authorization request was made, in epoch milliseconds; `expires_in` counts from here.
	 * @default Date.now()
	 */
	requestedAt?: number | undefined;
}

/** What an implicit flow callback carried, once checked. */
export interface ImplicitCallback {
	/** The token from the URL fragment. */
	token: Token;
	/** The state the callback carried. */
	state: string | undefined;
	/** The RFC 9207 `iss` the callback carried. */
	issuer: string | undefined;
}

// The parameters a server puts in an authorization response (RFC 6749 §4.1.2, §4.1.2.1, RFC 9207),
// plus Facebook's legacy error_reason and description. The redirect URI's own query may carry
// anything else, so only these are looked for and checked for repeats.
const RESPONSE_PARAMS = [
	'code',
	'state',
	'iss',
	'error',
	'error_description',
	'error_uri',
	'error_reason',
	'description',
];
const SECRET_PARAMS = ['code', 'access_token', 'refresh_token', 'id_token'];
// Bounds on what is parsed, far above any real callback (a few kB with an id_token): beyond them
// a callback is an attack on the parser, and checking repeats costs the square of the count.
const MAX_CALLBACK_LENGTH = 32_768;
const MAX_CALLBACK_PARAMS = 100;

/**
 * Reads and checks the URL the authorization server redirected to after an authorization code
 * request (RFC 6749 §4.1.2). Parameters are read from the query, or from the fragment when the query
 * has no response parameter (`response_mode=fragment`); never from both.
 *
 * Checks run in this order, so that nothing from a forged callback is believed: repeated
 * parameters, then the state (before anything else, a forged error answer included), then the
 * issuer, then an `error` answer, then the code.
 *
 * The URL must be absolute: a server framework's path-only `req.url` needs its origin first.
 *
 * @example
 * ```ts
 * const url = new URL(req.url, 'https://app.example.com');
 * const { code } = parseAuthorizationCallback(url, { expectedState: saved.state });
 * ```
 * @throws {InvalidCallbackError} `malformed` (not an absolute URL, a repeated parameter, an empty
 *   `error`), `too-large` (over 32,768 characters or 100 parameters), `issuer-mismatch`,
 *   `missing-issuer` or `missing-code`.
 * @throws {StateMismatchError} The state is missing or differs from `expectedState`.
 * @throws {AuthorizationResponseError} The server answered `error=...` (or Facebook's
 *   `error_reason=user_denied`).
 * @throws {InvalidOptionsError} `expectedState` is empty or not a string, or `requireIssuer` has no
 *   `issuer`.
 */
export function parseAuthorizationCallback(
	url: string | URL,
	options: CallbackOptions,
): AuthorizationCallback {
	const params = readCallback(url, options, 'query');
	const code = params.get('code');
	if (!code) {
		throw new InvalidCallbackError('The authorization callback carries no code', 'missing-code');
	}
	return {
		code,
		state: params.get('state') ?? undefined,
		issuer: params.get('iss') ?? undefined,
	};
}

/**
 * Reads and checks the URL the authorization server redirected to after an implicit flow request
 * (RFC 6749 §4.2.2): the token is read from the fragment only (the query may carry an error
 * answer, never a token). The same checks as `parseAuthorizationCallback` run first, in the same
 * order; the token fields are then read by `parseTokenResponse`.
 *
 * @throws {InvalidCallbackError} As for `parseAuthorizationCallback`; `missing-code` means no
 *   `access_token`.
 * @throws {StateMismatchError} The state is missing or differs from `expectedState`.
 * @throws {AuthorizationResponseError} The server answered `error=...`.
 * @throws {TokenResponseError} A token field has the wrong form (a non-numeric `expires_in`).
 * @throws {InvalidOptionsError} As for `parseAuthorizationCallback`.
 */
export function parseImplicitCallback(
	url: string | URL,
	options: ImplicitCallbackOptions,
): ImplicitCallback {
	const params = readCallback(url, options, 'fragment');
	if (!params.get('access_token')) {
		throw new InvalidCallbackError(
			'The implicit flow callback carries no access_token in its fragment',
			'missing-code',
		);
	}
	const body: Record<string, string> = Object.fromEntries(params);
	delete body.state;
	delete body.iss;
	return {
		// An error answer was thrown above, so this reads a token's fields, as parseTokenResponse does.
		token: tokenFromAnswer(body, { requestedAt: options.requestedAt ?? Date.now() }),
		state: params.get('state') ?? undefined,
		issuer: params.get('iss') ?? undefined,
	};
}

/** Parses the URL, picks query or fragment, and runs every check shared by both flows. */
function readCallback(
	url: string | URL,
	options: CallbackOptions,
	prefer: 'query' | 'fragment',
): URLSearchParams {
	const { expectedState } = options;
	if (expectedState !== undefined && (typeof expectedState !== 'string' || expectedState === '')) {
		throw new InvalidOptionsError(
			'expectedState must be a non-empty string, or undefined when the request sent no state',
		);
	}
	if (options.requireIssuer && options.issuer === undefined) {
		throw new InvalidOptionsError('requireIssuer needs the issuer option to check iss against');
	}
	const { params, fromFragment } = pickParams(url, prefer);
	// A fragment is all the server's, so no parameter in it may repeat; a query may also hold the
	// redirect URI's own parameters, which are not ours to judge.
	const checked = fromFragment ? new Set(params.keys()) : RESPONSE_PARAMS;
	for (const name of checked) {
		if (params.getAll(name).length > 1) {
			throw new InvalidCallbackError(
				`The authorization callback repeats the ${name} parameter`,
				'malformed',
			);
		}
	}
	checkState(params.get('state'), expectedState);
	checkIssuer(params.get('iss'), options);
	throwIfErrorAnswer(params);
	return params;
}

function pickParams(
	url: string | URL,
	prefer: 'query' | 'fragment',
): { params: URLSearchParams; fromFragment: boolean } {
	if (String(url).length > MAX_CALLBACK_LENGTH) throw tooLarge(`${MAX_CALLBACK_LENGTH} characters`);
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new InvalidCallbackError(
			'The authorization callback is not an absolute URL',
			'malformed',
		);
	}
	const query = parsed.searchParams;
	const fragment = new URLSearchParams(parsed.hash.slice(1));
	if (query.size + fragment.size > MAX_CALLBACK_PARAMS) {
		throw tooLarge(`${MAX_CALLBACK_PARAMS} parameters`);
	}
	// The implicit flow's token is in the fragment, never in the query (RFC 6749 §4.2.2), which
	// the query may carry only an error answer of.
	const useFragment =
		prefer === 'fragment'
			? fragment.size > 0 || !query.has('error')
			: !RESPONSE_PARAMS.some((name) => query.has(name)) && fragment.size > 0;
	return useFragment
		? { params: fragment, fromFragment: true }
		: { params: query, fromFragment: false };
}

function tooLarge(limit: string): InvalidCallbackError {
	return new InvalidCallbackError(
		`The authorization callback is over the limit of ${limit}`,
		'too-large',
	);
}

function checkState(received: string | null, expected: string | undefined): void {
	if (expected === undefined) return;
	if (received === null) throw new StateMismatchError('missing');
	if (!constantTimeEqual(received, expected)) throw new StateMismatchError('different');
}

function checkIssuer(received: string | null, options: CallbackOptions): void {
	if (received === null) {
		if (options.requireIssuer) {
			throw new InvalidCallbackError(
				`The authorization callback carries no iss, but ${options.issuer} always sends one (RFC 9207)`,
				'missing-issuer',
			);
		}
		return;
	}
	// RFC 9207 §2.4: a simple string comparison, no normalization.
	if (options.issuer !== undefined && received !== options.issuer) {
		throw new InvalidCallbackError(
			`The authorization callback comes from another issuer than ${options.issuer} (RFC 9207)`,
			'issuer-mismatch',
		);
	}
}

function throwIfErrorAnswer(params: URLSearchParams): void {
	if (!params.has('error') && !params.has('error_reason')) return;
	// Facebook sends error=access_denied&error_reason=user_denied, and once sent error_reason alone.
	const error = params.get('error') || params.get('error_reason');
	if (!error) {
		throw new InvalidCallbackError(
			'The authorization callback has an empty error parameter',
			'malformed',
		);
	}
	// A server that echoes the code or a token in its description must not put it in a log. Values
	// shorter than 6 characters are no secrets, and redacting them would garble the text.
	const secrets = SECRET_PARAMS.map((name) => params.get(name)).filter(
		(value): value is string => value !== null && value.length >= 6,
	);
	const clean = (value: string | null) =>
		value === null
			? undefined
			: secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), value);
	throw new AuthorizationResponseError({
		error: clean(error) as string,
		errorDescription: clean(params.get('error_description') ?? params.get('description')),
		errorUri: clean(params.get('error_uri')),
		state: params.get('state') ?? undefined,
	});
}

// Compares every character whatever the first difference, so the time taken does not tell an
// attacker how much of a guessed state was right.
function constantTimeEqual(a: string, b: string): boolean {
	let difference = a.length ^ b.length;
	for (let i = 0; i < b.length; i++) {
		difference |= (a.charCodeAt(i % Math.max(a.length, 1)) || 0) ^ b.charCodeAt(i);
	}
	return difference === 0;
}
