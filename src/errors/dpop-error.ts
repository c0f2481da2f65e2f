import { OAuth2Error } from './oauth2-error.js';

/**
 * What went wrong with DPoP (RFC 9449):
 * - `bearer-downgrade`: the token endpoint answered a DPoP token request with a `Bearer` token,
 *   and the session's `dpop.allowBearer` is off;
 * - `key-missing`: the stored record holds a DPoP-bound token but no key (written by a store that
 *   lost it, or by hand): the token cannot be used, and a new key would not match it;
 * - `key-mismatch`: the key stored with the token, or the one given as `dpop.keyPair`, is not the
 *   key the token is bound to;
 * - `unsupported-key`: a key WebCrypto cannot sign DPoP proofs with (not ES256, EdDSA, RS256 or
 *   PS256; RSA under 2048 bits; a public key that cannot be exported);
 * - `nonce-not-retried`: the server asked for a proof with a new nonce, and the request's body is
 *   a stream that cannot be sent again; the nonce is remembered, so sending the request again works.
 */
export type DPoPProblem =
	| 'bearer-downgrade'
	| 'key-missing'
	| 'key-mismatch'
	| 'unsupported-key'
	| 'nonce-not-retried';

/** A DPoP session cannot sign or send a request. Never carries the key, a proof or a nonce. */
export class DPoPError extends OAuth2Error {
	override name = 'DPoPError';
	/** What went wrong. */
	readonly problem: DPoPProblem;

	constructor(message: string, problem: DPoPProblem, options: { cause?: unknown } = {}) {
		super(message, 'DPOP_ERROR', options);
		this.problem = problem;
	}
}
