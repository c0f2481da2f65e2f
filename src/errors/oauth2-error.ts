/**
 * Stable, machine-readable codes of every error this library throws.
 * Match on `code` (or use the type guards) rather than on messages, which may change.
 */
export type OAuth2ErrorCode =
	| 'OAUTH2_RESPONSE_ERROR'
	| 'AUTHORIZATION_RESPONSE_ERROR'
	| 'TOKEN_RESPONSE_INVALID'
	| 'TOKEN_REQUEST_FAILED'
	| 'INSECURE_TRANSPORT'
	| 'STATE_MISMATCH'
	| 'INVALID_CALLBACK'
	| 'TOKEN_EXPIRED'
	| 'TOKEN_UPDATED'
	| 'REAUTHENTICATION_REQUIRED'
	| 'ORIGIN_NOT_ALLOWED'
	| 'STORAGE_ERROR'
	| 'INVALID_OPTIONS'
	| 'METADATA_ERROR'
	| 'STEP_UP_REQUIRED'
	| 'INSUFFICIENT_SCOPE'
	| 'DPOP_ERROR';

/** Options every error of this library accepts. */
export interface OAuth2ErrorOptions {
	/** What caused this error: a network error, a parse error, another `OAuth2Error`. */
	cause?: unknown;
}

/**
 * Base class of every error this library throws.
 *
 * Its message, `toJSON()` and Node's `inspect` output never contain a token, a client secret,
 * a password or a code verifier, so errors can be logged as they are.
 */
export class OAuth2Error extends Error {
	/**
	 * The class's name, such as `'StorageError'`. Unlike `instanceof`, comparing it also works for
	 * errors from another realm or another copy of this package, as `isOAuth2Error` does.
	 */
	override name: string = 'OAuth2Error';
	/** A stable code, one per kind of failure. */
	readonly code: OAuth2ErrorCode;

	constructor(message: string, code: OAuth2ErrorCode, options: OAuth2ErrorOptions = {}) {
		super(message, 'cause' in options ? { cause: options.cause } : undefined);
		this.code = code;
	}

	/** The error as plain data, for structured logs. */
	toJSON(): Record<string, unknown> {
		const fields: Record<string, unknown> = {};
		for (const [key, value] of Object.entries(this)) {
			if (value !== undefined) fields[key] = value;
		}
		return { ...fields, name: this.name, code: this.code, message: this.message };
	}
}
