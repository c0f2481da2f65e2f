import * as z from 'zod/mini';
import { OAuth2ResponseError } from '../errors/oauth2-response-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { Token } from './token.js';

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
}

const seconds = z.optional(z.nullable(z.union([z.number(), z.string()])));
const optionalString = z.optional(z.nullable(z.string()));

const successSchema = z.looseObject({
	access_token: z.string().check(z.minLength(1)),
	token_type: optionalString,
	expires_in: seconds,
	refresh_token: optionalString,
	scope: z.optional(z.nullable(z.union([z.string(), z.array(z.string())]))),
	id_token: optionalString,
	refresh_expires_in: seconds,
	refresh_token_expires_in: seconds,
});

const knownFields = new Set(Object.keys(successSchema.def.shape));
const secretFields = ['access_token', 'refresh_token', 'id_token'] as const;

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
	const status = options.status ?? 200;
	if (!isRecord(body)) {
		throw new TokenResponseError(
			`The token endpoint answered (HTTP ${status}) with ${describe(body)}, not a JSON object`,
			{ problem: 'not-an-object', status },
		);
	}
	throwIfErrorResponse(body, status, options.response);
	if (status < 200 || status > 299) {
		throw new TokenResponseError(
			`The token endpoint answered HTTP ${status} without an OAuth 2 error code`,
			{ problem: 'missing-error-code', status },
		);
	}

	const parsed = z.safeParse(successSchema, body);
	if (!parsed.success) {
		const field = String(parsed.error.issues[0]?.path[0] ?? 'body');
		if (field === 'access_token') {
			throw new TokenResponseError(
				'The token endpoint answered without an access token (access_token is missing or not a non-empty string)',
				{ problem: 'missing-access-token', status },
			);
		}
		throw new TokenResponseError(
			`The token endpoint answered with an invalid ${field} (wrong type)`,
			{ problem: 'invalid-field', status },
		);
	}
	const data = parsed.data;
	const extra: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(body)) {
		if (!knownFields.has(key)) extra[key] = value;
	}

	return new Token({
		accessToken: data.access_token,
		tokenType: data.token_type ?? undefined,
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

/**
 * Throws `OAuth2ResponseError` when a decoded answer carries an `error` code (RFC 6749 §5.2), and
 * `TokenResponseError` when an `error` field is there but is not a code. Returns otherwise.
 * Shared by every endpoint that answers in that form (token, revocation, device authorization).
 *
 * `endpoint` names where the answer came from in the message (`token endpoint` by default).
 */
export function throwIfErrorResponse(
	body: Record<string, unknown>,
	status: number,
	response?: Response,
	endpoint = 'token endpoint',
): void {
	if (body.error === undefined || body.error === null) return;
	if (typeof body.error !== 'string' || body.error === '') {
		throw new TokenResponseError('The answer has an error field that is not an error code', {
			problem: 'missing-error-code',
			status,
		});
	}
	const secrets = secretFields
		.map((field) => body[field])
		.filter((value): value is string => typeof value === 'string' && value.length >= 6);
	throw new OAuth2ResponseError(
		{
			error: redact(body.error, secrets),
			errorDescription:
				typeof body.error_description === 'string'
					? redact(body.error_description, secrets)
					: undefined,
			errorUri: typeof body.error_uri === 'string' ? redact(body.error_uri, secrets) : undefined,
			status,
			response,
		},
		{ context: `The ${endpoint}` },
	);
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

function redact(text: string, secrets: readonly string[]): string {
	return secrets.reduce((result, secret) => result.split(secret).join('[redacted]'), text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	return `a ${typeof value}`;
}
