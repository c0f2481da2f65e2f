import { OAuth2Error } from './oauth2-error.js';

/** An option or argument is missing or has the wrong form. The message names it. */
export class InvalidOptionsError extends OAuth2Error {
	override name = 'InvalidOptionsError';

	constructor(message: string) {
		super(message, 'INVALID_OPTIONS');
	}
}
