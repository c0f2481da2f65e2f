import { OAuth2Error } from './oauth2-error.js';

/**
 * The access token has expired (or is within the leeway of expiring) and the session is in
 * `refresh: 'manual'` mode: call `session.refreshToken()`, then send the request again.
 */
export class TokenExpiredError extends OAuth2Error {
	override name = 'TokenExpiredError';
	/** When the token expired or will expire, in epoch milliseconds. */
	readonly expiresAt: number | undefined;

	constructor(expiresAt: number | undefined) {
		super(
			'The access token has expired; call session.refreshToken() and send the request again',
			'TOKEN_EXPIRED',
		);
		this.expiresAt = expiresAt;
	}
}
