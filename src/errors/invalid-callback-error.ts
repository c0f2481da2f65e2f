import { OAuth2Error } from './oauth2-error.js';

/**
 * Why an authorization callback was refused:
 * - `missing-code`: no `code` (or, for the implicit flow, no `access_token`);
 * - `issuer-mismatch`: RFC 9207 `iss` differs from the expected issuer (mix-up attack);
 * - `missing-issuer`: the server advertises `iss` in callbacks but this one has none;
 * - `malformed`: not a URL, or parameters repeated;
 * - `too-large`: over 32,768 characters or 100 parameters, more than any real callback.
 */
export type InvalidCallbackProblem =
	| 'missing-code'
	| 'issuer-mismatch'
	| 'missing-issuer'
	| 'malformed'
	| 'too-large';

/** An authorization callback URL that cannot be trusted or used. */
export class InvalidCallbackError extends OAuth2Error {
	override name = 'InvalidCallbackError';
	/** What was wrong with the callback. */
	readonly problem: InvalidCallbackProblem;

	constructor(message: string, problem: InvalidCallbackProblem) {
		super(message, 'INVALID_CALLBACK');
		this.problem = problem;
	}
}
