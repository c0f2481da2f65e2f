import { OAuth2Error } from './oauth2-error.js';

/**
 * Why authorization server metadata (RFC 8414, OpenID Connect Discovery) could not be used:
 * - `not-found`: no well-known URL answered with a metadata document (4xx);
 * - `unparseable`: the answer is not JSON;
 * - `not-an-object`: it is JSON, but not an object;
 * - `issuer-mismatch`: its `issuer` differs from the expected issuer (a mix-up or impersonation);
 * - `invalid-field`: a field has the wrong type, or an endpoint is not an absolute `https:` URL.
 */
export type MetadataProblem =
	| 'not-found'
	| 'unparseable'
	| 'not-an-object'
	| 'issuer-mismatch'
	| 'invalid-field';

/** Authorization server metadata was not found, or cannot be trusted or used. */
export class MetadataError extends OAuth2Error {
	override name = 'MetadataError';
	/** What was wrong. */
	readonly problem: MetadataProblem;
	/** The issuer whose metadata was asked for. */
	readonly issuer: string;
	/** The metadata URL concerned, when it is one URL. */
	readonly url: string | undefined;
	/** The field concerned, for `issuer-mismatch` and `invalid-field`. */
	readonly field: string | undefined;
	/** The HTTP status of the answer, when there was one. */
	readonly status: number | undefined;

	constructor(
		message: string,
		details: {
			problem: MetadataProblem;
			issuer: string;
			url?: string | undefined;
			field?: string | undefined;
			status?: number | undefined;
		},
		options: { cause?: unknown } = {},
	) {
		super(message, 'METADATA_ERROR', options);
		this.problem = details.problem;
		this.issuer = details.issuer;
		this.url = details.url;
		this.field = details.field;
		this.status = details.status;
	}
}
