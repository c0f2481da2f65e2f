import { OAuth2Error } from './oauth2-error.js';

/**
 * Why a token endpoint answer could not be used:
 * - `unparseable`: the body is not JSON, a form, or what the decoder understands;
 * - `not-an-object`: it parsed, but to something other than an object;
 * - `missing-error-code`: an unsuccessful answer with no `error` field;
 * - `missing-access-token`: a successful answer with no usable `access_token`;
 * - `invalid-field`: a field of the wrong type or value (a NaN `expires_in`, a numeric `scope`, an
 *   `access_token` with characters an `Authorization` header cannot carry...);
 * - `unsupported-token-type`: a `token_type` the session cannot send: anything but `Bearer`, and
 *   `DPoP` for a session with the `dpop` option;
 * - `too-large`: the body is longer than the `maxResponseSize` option allows (it was not read whole).
 */
export type TokenResponseProblem =
	| 'unparseable'
	| 'not-an-object'
	| 'missing-error-code'
	| 'missing-access-token'
	| 'invalid-field'
	| 'unsupported-token-type'
	| 'too-large';

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
	/**
	 * The provider's own message, when its error answer has one where providers put it (`message`,
	 * `reason`, `error.message`, `errors[0].message`...) though not as RFC 6749 says.
	 */
	readonly providerMessage: string | undefined;
	/**
	 * The error answer's fields, for answers that are not RFC 6749's: tokens left out, and every
	 * secret the request sent redacted.
	 */
	readonly fields: Readonly<Record<string, unknown>> | undefined;
	// Private, so that no inspect (not even with showHidden) and no JSON shows it.
	readonly #body: string | undefined;

	constructor(
		message: string,
		details: {
			problem: TokenResponseProblem;
			status?: number | undefined;
			body?: string | undefined;
			providerMessage?: string | undefined;
			fields?: Readonly<Record<string, unknown>> | undefined;
		},
		options: { cause?: unknown } = {},
	) {
		super(message, 'TOKEN_RESPONSE_INVALID', options);
		this.problem = details.problem;
		this.status = details.status;
		this.providerMessage = details.providerMessage;
		this.fields = details.fields;
		this.#body = details.body;
	}

	/**
	 * The raw body, for debugging by hand. Never in the message, JSON or `inspect` output: a broken
	 * answer may still hold a token.
	 */
	get body(): string | undefined {
		return this.#body;
	}
}
