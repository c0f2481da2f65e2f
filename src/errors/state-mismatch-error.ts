import { OAuth2Error } from './oauth2-error.js';

/**
 * The `state` in an authorization callback is missing or differs from the one the authorization
 * request was made with: the callback may be forged (CSRF), so its code must not be used.
 */
export class StateMismatchError extends OAuth2Error {
	override name = 'StateMismatchError';

	constructor(received: 'missing' | 'different') {
		super(
			received === 'missing'
				? 'The authorization callback carries no state, but one was expected'
				: 'The authorization callback carries a state that differs from the one sent',
			'STATE_MISMATCH',
		);
	}
}
