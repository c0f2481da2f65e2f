import { OAuth2Error } from './oauth2-error.js';

/**
 * A request through the session went to an origin that may not receive the access token.
 * Add the origin to `allowedOrigins`, or send the request with plain `fetch`.
 */
export class OriginNotAllowedError extends OAuth2Error {
	override name = 'OriginNotAllowedError';
	/** The origin that was refused. */
	readonly origin: string;

	constructor(origin: string) {
		super(
			`Refusing to send the access token to ${origin}: it is not in allowedOrigins`,
			'ORIGIN_NOT_ALLOWED',
		);
		this.origin = origin;
	}
}
