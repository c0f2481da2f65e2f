import { OAuth2Error } from './oauth2-error.js';

/**
 * Why a token endpoint answer could not be used:
 * - `unparseable`: the body is not JSON, a form, or what the decoder understands;
 * - `not-an-object`: it parsed, but to something other than an object;
 * - `missing-error-code`: an unsuccessful answer with no `error` field;
 * - `missing-access-token`: a successful answer with no usable `access_token`;
 * - `invalid-field`: a field of the wrong type or value (a NaN `expires_in`, a numeric `scope`...).
 */
export type TokenResponseProblem =
	| 'unparseable'
	| 'not-an-object'
	| 'missing-error-code'
	| 'missing-access-token'
	| 'invalid-field';

/**
 * The token endpoint answered, but not with something this library can use: the two failure kinds
 * of a token request that are not an OAuth error answer (see `OAuth2ResponseError` for those).
 */
export class TokenResponseError extends OAuth2Error {
	override name = 'TokenResponseError';
	/** What was wrong with the answer. */
	readonly problem: TokenResponseProblem;
	/** The HTTP status of the answer, when there was one. */
	readonly status: number | undefined;
	/** The raw body. Not enumerable and never in the message: a broken answer may still hold a token. */
	declare readonly body: string | undefined;

	constructor(
		message: string,
		details: {
			problem: TokenResponseProblem;
			status?: number | undefined;
			body?: string | undefined;
		},
		options: { cause?: unknown } = {},
	) {
		super(message, 'TOKEN_RESPONSE_INVALID', options);
		this.problem = details.problem;
		this.status = details.status;
		Object.defineProperty(this, 'body', { value: details.body, enumerable: false });
	}
}
