/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface AuthenticationChallenge {
	/** The scheme, lower-cased (`bearer`, `dpop`, `basic`...): schemes are case-insensitive. */
	scheme: string;
	/** The auth-params, names lower-cased, quoted strings unescaped; the first of a repeated name wins. */
	params: Readonly<Record<string, string>>;
	/** The token68 form (`Basic dXNlcg==`), when the challenge uses it instead of parameters. */
	token68?: string | undefined;
}

// A header longer than this is not a challenge a resource server writes; refusing to scan it keeps
// a hostile API from making each 401 cost time in proportion to what it sends.
const MAX_HEADER_LENGTH = 8192;

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const TOKEN68 = /[A-Za-z0-9._~+/-]+=*(?=[ \t]*(?:,|$))/y;
const SPACE = /[ \t]*/y;

/**
 * Reads every challenge of a `WWW-Authenticate` value: several challenges, quoted strings with
 * escapes, token68. Never throws: what cannot be read ends the list where it stands, so a
 * malformed header yields the challenges before the fault.
 */
export function parseWwwAuthenticate(header: string | null | undefined): AuthenticationChallenge[] {
	if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return [];
	const challenges: AuthenticationChallenge[] = [];
	let position = 0;
	let current: { scheme: string; params: Record<string, string>; token68?: string } | undefined;

	const match = (pattern: RegExp): string | undefined => {
		pattern.lastIndex = position;
		const found = pattern.exec(header);
		if (found === null || found[0].length === 0) return undefined;
		position = pattern.lastIndex;
		return found[0];
	};
	const skipSpace = () => {
		SPACE.lastIndex = position;
		SPACE.exec(header);
		position = SPACE.lastIndex;
	};
	const quoted = (): string | undefined => {
		let value = '';
		for (let i = position + 1; i < header.length; i++) {
			const char = header[i];
			if (char === '"') {
				position = i + 1;
				return value;
			}
			if (char === '\\' && i + 1 < header.length) i++;
			value += header[i];
		}
		return undefined;
	};

	while (position < header.length) {
		skipSpace();
		if (header[position] === ',') {
			position++;
			continue;
		}
		const name = match(TOKEN);
		if (name === undefined) break;
		const afterName = position;
		skipSpace();
		// A word followed by `=` is a parameter of the current challenge; any other word is a scheme.
		if (current !== undefined && current.token68 === undefined && header[position] === '=') {
			position++;
			skipSpace();
			const value = header[position] === '"' ? quoted() : match(TOKEN);
			if (value === undefined) break;
			const key = name.toLowerCase();
			if (!Object.hasOwn(current.params, key)) current.params[key] = value;
			continue;
		}
		position = afterName;
		current = { scheme: name.toLowerCase(), params: Object.create(null) };
		if (header[position] === ' ' || header[position] === '\t') skipSpace();
		challenges.push(current);
		const token68 = match(TOKEN68);
		// `Bearer realm="x"` starts like a token68 (`realm`): only a value that ends the challenge is one.
		if (token68 !== undefined) current.token68 = token68;
	}
	return challenges;
}

/**
 * The challenge a bearer-token request can act on: among the `Bearer` and `DPoP` challenges, the
 * first that carries an `error`, those of the `scheme` the request used first (a server offering
 * both schemes says what went wrong in the one that was used, RFC 9449 §7.1); else the first.
 */
export function tokenChallenge(
	challenges: readonly AuthenticationChallenge[],
	scheme?: string,
): AuthenticationChallenge | undefined {
	const candidates = challenges.filter((c) => c.scheme === 'bearer' || c.scheme === 'dpop');
	const used = scheme?.toLowerCase();
	const ordered = [
		...candidates.filter((c) => c.scheme === used),
		...candidates.filter((c) => c.scheme !== used),
	];
	return ordered.find((c) => c.params.error !== undefined) ?? candidates[0];
}

/** A 401 whose token is the problem (`invalid_token`, or no error code): a refresh may help. */
export interface TokenProblem {
	/** The cause's kind. */
	kind: 'token';
}

/** A 401 asking the user to authenticate again, more strongly or more recently (RFC 9470 §3). */
export interface StepUpProblem {
	/** The cause's kind. */
	kind: 'step-up';
	/** The challenge's `acr_values`, in its order. */
	acrValues: string[];
	/** The challenge's `max_age` in seconds, when it is a whole number. */
	maxAge: number | undefined;
}

/** A 401 or 403 saying the token lacks a scope (RFC 6750 §3.1). */
export interface ScopeProblem {
	/** The cause's kind. */
	kind: 'scope';
	/** The scopes the challenge says the request needs. */
	scope: string[];
}

/** A 401 with any other error code (`invalid_request`...): a new token would meet the same answer. */
export interface OtherProblem {
	/** The cause's kind. */
	kind: 'other';
	/** The challenge's `error` code. */
	error: string;
}

/** What a 401 says is wrong, read from its bearer challenge. */
export type UnauthorizedCause = TokenProblem | StepUpProblem | ScopeProblem | OtherProblem;

const words = (value: string | undefined): string[] =>
	value === undefined ? [] : value.split(' ').filter((word) => word !== '');

/**
 * Sorts a 401 by its cause; see {@link UnauthorizedCause}. `scheme` is the one the request's
 * `Authorization` used (`Bearer`, `DPoP`): its challenge is read first. Error codes are compared
 * without case, as servers that upper-case them mean the same.
 */
export function unauthorizedCause(
	header: string | null | undefined,
	scheme?: string,
): UnauthorizedCause {
	const params = tokenChallenge(parseWwwAuthenticate(header), scheme)?.params;
	const error = params?.error?.toLowerCase();
	if (params === undefined || error === undefined || error === 'invalid_token') {
		return { kind: 'token' };
	}
	if (error === 'insufficient_user_authentication') {
		const maxAge = params.max_age === undefined ? Number.NaN : Number(params.max_age);
		return {
			kind: 'step-up',
			acrValues: words(params.acr_values),
			maxAge: Number.isSafeInteger(maxAge) && maxAge >= 0 ? maxAge : undefined,
		};
	}
	if (error === 'insufficient_scope') return { kind: 'scope', scope: words(params.scope) };
	return { kind: 'other', error };
}
