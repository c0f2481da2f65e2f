import { OAuth2Error } from './oauth2-error.js';

/**
 * The `state` in an authorization callback is missing or differs from the one the authorization
 * request was made with, or a callback was already read with it: the callback may be forged (CSRF)
 * or replayed, so its code must not be used.
 */
export class StateMismatchError extends OAuth2Error {
	override name = 'StateMismatchError';
	/**
	 * What the callback's state was: `missing`, `different` from the expected one, or already
	 * `used` by an earlier callback of this session (a state is good for one callback).
	 */
	readonly received: 'missing' | 'different' | 'used';

	constructor(received: 'missing' | 'different' | 'used') {
		super(
			received === 'missing'
				? 'The authorization callback carries no state, but one was expected'
				: received === 'used'
					? 'The authorization callback carries a state already used'
					: 'The authorization callback carries a state that differs from the one sent',
			'STATE_MISMATCH',
		);
		this.received = received;
	}
}
