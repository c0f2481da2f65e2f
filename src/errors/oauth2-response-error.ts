import { describeErrorCode } from './error-codes.js';
import { OAuth2Error, type OAuth2ErrorCode } from './oauth2-error.js';

/** The error fields of an RFC 6749 §5.2 (or §4.1.2.1) answer. */
export interface OAuth2ErrorFields {
	/** The `error` code the server sent, such as `invalid_grant`. */
	error: string;
	/** The server's `error_description`, if it sent one. */
	errorDescription?: string | undefined;
	/** The server's `error_uri`, if it sent one. */
	errorUri?: string | undefined;
}

/**
 * The authorization server answered with an OAuth 2 error (RFC 6749 §5.2): `invalid_grant`,
 * `invalid_client`, `slow_down`...
 */
export class OAuth2ResponseError extends OAuth2Error {
	override name = 'OAuth2ResponseError';
	/** The `error` code, such as `invalid_grant`. */
	readonly error: string;
	/** The server's human-readable `error_description`. */
	readonly errorDescription: string | undefined;
	/** The server's `error_uri`. */
	readonly errorUri: string | undefined;
	/** What the specification says the code means, or `"Unknown code"`. */
	readonly errorCodeDescription: string;
	/** The HTTP status of the answer (undefined for authorization callbacks). */
	readonly status: number | undefined;
	/** The raw response, when there was one. Not enumerable, so logs do not dump it. */
	declare readonly response: Response | undefined;

	constructor(
		fields: OAuth2ErrorFields & { status?: number | undefined; response?: Response | undefined },
		options: { cause?: unknown; code?: OAuth2ErrorCode; context?: string } = {},
	) {
		const where = options.context ?? 'Authorization server';
		const status = fields.status === undefined ? '' : ` (HTTP ${fields.status})`;
		const description = fields.errorDescription ? `: ${fields.errorDescription}` : '';
		super(
			`${where} answered ${fields.error}${status}${description}`,
			options.code ?? 'OAUTH2_RESPONSE_ERROR',
			options,
		);
		this.error = fields.error;
		this.errorDescription = fields.errorDescription;
		this.errorUri = fields.errorUri;
		this.errorCodeDescription = describeErrorCode(fields.error);
		this.status = fields.status;
		Object.defineProperty(this, 'response', { value: fields.response, enumerable: false });
	}
}
