import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { type FieldKind, firstInvalidField, isRecord, otherFields } from './fields.js';
import { Token, type TokenInit } from './token.js';
import { parseScope, parseSeconds } from './token-response.js';

/**
 * A token as a plain snake_case record, the shape of requests-oauthlib's token dict: a token saved
 * by a Python daemon loads here and the reverse. `expires_at` is in seconds since the epoch.
 */
export interface TokenRecord {
	/** The access token. */
	access_token: string;
	/** The token type. */
	token_type?: string | undefined;
	/** The refresh token. */
	refresh_token?: string | undefined;
	/** The scopes, as a list (requests-oauthlib's form) or a space-separated string. */
	scope?: string | string[] | undefined;
	/** Seconds left when the record was written (informational when `expires_at` is there). */
	expires_in?: number | string | undefined;
	/** When the access token expires, in seconds since the epoch (may be fractional). */
	expires_at?: number | string | undefined;
	/** The OpenID Connect ID token. */
	id_token?: string | undefined;
	/** When the refresh token expires, in seconds since the epoch. */
	refresh_token_expires_at?: number | undefined;
	/** When the token was requested, in seconds since the epoch (ours; requests-oauthlib ignores it). */
	issued_at?: number | undefined;
	/** Any other field the server sent. */
	[field: string]: unknown;
}

const recordFields = {
	access_token: 'token',
	token_type: 'string',
	refresh_token: 'string',
	scope: 'scope',
	expires_in: 'seconds',
	expires_at: 'seconds',
	id_token: 'string',
	refresh_token_expires_at: 'number',
	issued_at: 'number',
} as const satisfies Record<string, FieldKind>;

/** Writes a token as a requests-oauthlib compatible record. Keeps every secret: store it with care. */
export function tokenToRecord(token: Token, now: number = Date.now()): TokenRecord {
	const record: TokenRecord = {
		// A server's own field named like a record field (an ISO `expires_at`) would be misread on load.
		...Object.fromEntries(
			Object.entries(token.extra).filter(([key]) => !Object.hasOwn(recordFields, key)),
		),
		access_token: token.accessToken,
		token_type: token.tokenType,
	};
	if (token.refreshToken !== undefined) record.refresh_token = token.refreshToken;
	if (token.scope !== undefined) record.scope = [...token.scope];
	if (token.expiresAt !== undefined) {
		record.expires_in = Math.round((token.expiresAt - now) / 1000);
		record.expires_at = token.expiresAt / 1000;
	}
	if (token.idToken !== undefined) record.id_token = token.idToken;
	if (token.issuedAt !== undefined) record.issued_at = token.issuedAt / 1000;
	if (token.refreshTokenExpiresAt !== undefined) {
		record.refresh_token_expires_at = token.refreshTokenExpiresAt / 1000;
	}
	return record;
}

/**
 * Reads a requests-oauthlib style record into a `Token`. `expires_at` (seconds) wins; without it,
 * `expires_in` counts from `now`.
 *
 * @throws {InvalidOptionsError} The record has no access token or a field of the wrong type.
 */
export function tokenFromRecord(record: unknown, now: number = Date.now()): Token {
	if (!isRecord(record)) throw new InvalidOptionsError('The token record is not an object');
	const invalid = firstInvalidField(record, recordFields);
	if (invalid !== undefined) {
		throw new InvalidOptionsError(`The token record has a missing or invalid ${invalid}`);
	}
	// Checked field by field just above.
	const data = record as TokenRecord & {
		[K in keyof TokenRecord]?: TokenRecord[K] | null;
	};
	const extra = otherFields(record, recordFields);
	let expiresAt: number | undefined;
	try {
		const at = parseSeconds(data.expires_at, 'expires_at');
		const inSeconds = parseSeconds(data.expires_in, 'expires_in');
		expiresAt =
			at !== undefined ? at * 1000 : inSeconds !== undefined ? now + inSeconds * 1000 : undefined;
	} catch {
		throw new InvalidOptionsError('The token record has an invalid expires_at or expires_in');
	}
	return new Token({
		accessToken: data.access_token,
		tokenType: data.token_type ?? undefined,
		expiresAt: expiresAt === undefined ? undefined : Math.round(expiresAt),
		issuedAt: data.issued_at == null ? undefined : Math.round(data.issued_at * 1000),
		refreshToken: data.refresh_token || undefined,
		refreshTokenExpiresAt:
			data.refresh_token_expires_at == null
				? undefined
				: Math.round(data.refresh_token_expires_at * 1000),
		scope: parseScope(data.scope),
		idToken: data.id_token || undefined,
		extra,
	});
}

/** What the session's `token` option and `setToken()` accept. */
export type TokenInput = Token | TokenInit | TokenRecord;

/**
 * Turns any accepted token form into a `Token`: a `Token` as is, `{ accessToken, ... }` fields, or
 * a requests-oauthlib style record (`{ access_token, expires_at | expires_in, ... }`).
 */
export function toToken(input: TokenInput, now: number = Date.now()): Token {
	if (input instanceof Token) return input;
	if (typeof input === 'object' && input !== null && 'access_token' in input) {
		return tokenFromRecord(input, now);
	}
	return new Token(input as TokenInit);
}
