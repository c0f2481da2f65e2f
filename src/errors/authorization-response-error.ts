import { type OAuth2ErrorFields, OAuth2ResponseError } from './oauth2-response-error.js';

/**
 * The authorization server redirected back with `error=...` (RFC 6749 §4.1.2.1), for example
 * because the user pressed "Deny" (`access_denied`, or Facebook's `user_denied`).
 */
export class AuthorizationResponseError extends OAuth2ResponseError {
	override name = 'AuthorizationResponseError';
	/** The `state` the callback carried, if any. */
	readonly state: string | undefined;

	constructor(fields: OAuth2ErrorFields & { state?: string | undefined }) {
		super(fields, { code: 'AUTHORIZATION_RESPONSE_ERROR', context: 'Authorization callback' });
		this.state = fields.state;
	}
}
