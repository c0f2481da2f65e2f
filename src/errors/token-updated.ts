import type { Token } from '../protocol/token.js';
import { OAuth2Error } from './oauth2-error.js';

/**
 * Thrown in `refresh: 'raise-updated'` mode: the session refreshed the token and did not send the
 * request. Save `error.token`, then send the request again (the session already uses the new token).
 */
export class TokenUpdated extends OAuth2Error {
	override name = 'TokenUpdated';
	/** The new token. Its `inspect` and `toJSON` output is redacted. */
	readonly token: Token;

	constructor(token: Token) {
		super(
			'The access token was refreshed; save error.token and send the request again',
			'TOKEN_UPDATED',
		);
		this.token = token;
	}
}
