import { TokenResponseError } from '../errors/token-response-error.js';
import { throwErrorAnswer } from './error-response.js';
import { type FieldKind, firstInvalidField, isRecord, otherFields } from './fields.js';
import { isSendableToken, normalizeTokenType, Token } from './token.js';

/** How a token response is read. */
export interface ParseTokenResponseOptions {
	/**
	 * When the token request was started, in epoch milliseconds. Expiry is counted from here, not
	 * from when the answer arrived, so a slow answer can only make the token look older than it is.
	 */
	requestedAt: number;
	/**
	 * The HTTP status of the answer.
	 * @default 200
	 */
	status?: number | undefined;
	/**
	 * What separates scopes in `scope`. RFC 6749 says a space; some providers (GitHub) use a comma,
	 * which their profile sets.
	 * @default ' '
	 */
	scopeSeparator?: ' ' | ',' | undefined;
	/** The raw response, attached (not enumerable) to the errors thrown. */
	response?: Response | undefined;
	/**
	 * The token types accepted (as `normalizeTokenType` writes them); a DPoP session adds `DPoP`.
	 * @default ['Bearer']
	 */
	tokenTypes?: readonly string[] | undefined;
}

const successFields = {
	access_token: 'token',
	token_type: 'string',
	expires_in: 'seconds',
	refresh_token: 'string',
	scope: 'scope',
	id_token: 'string',
	refresh_expires_in: 'seconds',
	refresh_token_expires_in: 'seconds',
} as const satisfies Record<string, FieldKind>;

/** A success answer whose fields `firstInvalidField` found of their kind. */
interface SuccessBody {
	access_token: string;
	token_type?: string | null;
	expires_in?: number | string | null;
	refresh_token?: string | null;
	scope?: string | string[] | null;
	id_token?: string | null;
	refresh_expires_in?: number | string | null;
	refresh_token_expires_in?: number | string | null;
}

// Dates past ±8.64e15 ms are invalid; a server sending a huge expires_in must not make one.
const MAX_TIME = 8.64e15;

/**
 * Reads a decoded token endpoint answer (RFC 6749 §5.1 and §5.2) into a `Token`.
 *
 * Tolerates what real servers send: `expires_in` as a numeric string, negative (already expired),
 * `0` or `null` (no known expiry); no `token_type` (Bearer); `scope` as a list or `null`.
 *
 * @throws {OAuth2ResponseError} The body carries an `error` code, whatever the HTTP status
 *   (GitHub and Slack answer errors with 200).
 * @throws {TokenResponseError} The body is not an object, an error answer has no code, a success has
 *   no access token, or a field has the wrong type.
 */
export function parseTokenResponse(body: unknown, options: ParseTokenResponseOptions): Token {
	if (isErrorAnswer(body, options.status)) throwErrorAnswer(body, options.status, options.response);
	return tokenFromAnswer(body, options);
}

/**
 * Whether a decoded token endpoint answer is an error answer: an object with an `error` field, or
 * an object answered outside 2xx. `throwErrorAnswer` (in `error-response.ts`, which the session
 * loads on first use) throws its error; anything else is for `tokenFromAnswer`.
 */
export function isErrorAnswer(body: unknown, status = 200): body is Record<string, unknown> {
	return (
		isRecord(body) &&
		((body.error !== undefined && body.error !== null) || status < 200 || status > 299)
	);
}

/** `parseTokenResponse` for an answer `isErrorAnswer` said is none. */
export function tokenFromAnswer(body: unknown, options: ParseTokenResponseOptions): Token {
	const status = options.status ?? 200;
	if (!isRecord(body)) {
		throw new TokenResponseError(
			`The token endpoint answered (HTTP ${status}) with ${describe(body)}, not a JSON object`,
			{ problem: 'not-an-object', status },
		);
	}
	const field = firstInvalidField(body, successFields);
	if (field === 'access_token') {
		throw new TokenResponseError(
			'The token endpoint answered without an access token (access_token is missing or not a non-empty string)',
			{ problem: 'missing-access-token', status },
		);
	}
	if (field !== undefined) {
		throw new TokenResponseError(
			`The token endpoint answered with an invalid ${field} (wrong type)`,
			{ problem: 'invalid-field', status },
		);
	}
	const data = body as unknown as SuccessBody;
	if (!isSendableToken(data.access_token)) {
		throw new TokenResponseError(
			'The token endpoint answered with an access_token no header can carry',
			{ problem: 'invalid-field', status },
		);
	}
	const tokenType = normalizeTokenType(data.token_type ?? undefined);
	const accepted = options.tokenTypes ?? ['Bearer'];
	if (!accepted.includes(tokenType)) {
		// Named only when it is a short plain word: the field is the server's, and may hold anything.
		const named = /^[\w.-]{1,20}$/.test(tokenType) ? ` ${tokenType}` : '';
		throw new TokenResponseError(
			`The token endpoint answered with token_type${named}; only ${accepted.join(' or ')} can be sent`,
			{ problem: 'unsupported-token-type', status },
		);
	}
	const extra = otherFields(body, successFields);

	return new Token({
		accessToken: data.access_token,
		tokenType,
		expiresAt: expiryFrom(data.expires_in, 'expires_in', options.requestedAt, status),
		issuedAt: options.requestedAt,
		refreshToken: data.refresh_token || undefined,
		refreshTokenExpiresAt: expiryFrom(
			data.refresh_expires_in ?? data.refresh_token_expires_in,
			data.refresh_expires_in == null ? 'refresh_token_expires_in' : 'refresh_expires_in',
			options.requestedAt,
			status,
		),
		scope: parseScope(data.scope, options.scopeSeparator ?? ' '),
		idToken: data.id_token || undefined,
		extra,
	});
}

/** Splits a `scope` value into scopes; a list is kept, `null` means "not said". */
export function parseScope(
	scope: string | readonly string[] | null | undefined,
	separator: ' ' | ',' = ' ',
): string[] | undefined {
	if (scope === undefined || scope === null) return undefined;
	if (typeof scope !== 'string') return [...scope];
	const parts = separator === ',' ? scope.split(',') : scope.split(/\s+/);
	return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/**
 * Reads a number of seconds sent as a number or a numeric string.
 * `undefined` for absent, `null`, or `0` (no known expiry).
 */
export function parseSeconds(
	value: number | string | null | undefined,
	field: string,
	status = 200,
): number | undefined {
	if (value === undefined || value === null) return undefined;
	const number =
		typeof value === 'number'
			? value
			: /^\s*-?\d+(\.\d+)?\s*$/.test(value)
				? Number(value)
				: Number.NaN;
	if (!Number.isFinite(number)) {
		throw new TokenResponseError(
			`The token endpoint answered with an invalid ${field} (not a number)`,
			{
				problem: 'invalid-field',
				status,
			},
		);
	}
	return number === 0 ? undefined : number;
}

function expiryFrom(
	value: number | string | null | undefined,
	field: string,
	requestedAt: number,
	status: number,
): number | undefined {
	const secondsLeft = parseSeconds(value, field, status);
	if (secondsLeft === undefined) return undefined;
	return Math.min(MAX_TIME, Math.max(-MAX_TIME, requestedAt + secondsLeft * 1000));
}

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	return `a ${typeof value}`;
}
