import { OAuth2Error } from './oauth2-error.js';

/**
 * A token or API request would go over plain `http:` to a host that is not loopback.
 * Tokens and secrets sent that way can be read by anyone on the path. Pass `allowInsecure: true`
 * only for test setups you control.
 */
export class InsecureTransportError extends OAuth2Error {
	override name = 'InsecureTransportError';
	/** The origin that was refused (never the full URL, which may carry a code or token). */
	readonly origin: string;

	constructor(origin: string) {
		super(
			`Refusing to send OAuth 2 credentials over http: to ${origin}. Use https:, a loopback host, or set allowInsecure: true for a test setup.`,
			'INSECURE_TRANSPORT',
		);
		this.origin = origin;
	}
}
