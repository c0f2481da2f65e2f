import { OAuth2Error } from './oauth2-error.js';

/**
 * The session has ended: the authorization server refused the refresh token (`invalid_grant`), or
 * there never was a refresh token. Only a new login (a new grant) can get a token again. A refused
 * client (`invalid_client`) does not end a session: fix the configuration. `cause` holds the server's answer, when there was one.
 */
export class ReauthenticationRequiredError extends OAuth2Error {
	override name = 'ReauthenticationRequiredError';

	constructor(message: string, options: { cause?: unknown } = {}) {
		super(`${message}; the user must sign in again`, 'REAUTHENTICATION_REQUIRED', options);
	}
}
