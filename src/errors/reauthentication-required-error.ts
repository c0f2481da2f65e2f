import { OAuth2Error } from './oauth2-error.js';

/**
 * The session has ended: the authorization server refused the refresh token (`invalid_grant`) or the
 * client (`invalid_client`, `unauthorized_client`), or there never was a refresh token. Only a new
 * login (a new grant) can get a token again. `cause` holds the server's answer, when there was one.
 */
export class ReauthenticationRequiredError extends OAuth2Error {
	override name = 'ReauthenticationRequiredError';

	constructor(message: string, options: { cause?: unknown } = {}) {
		super(`${message}; the user must sign in again`, 'REAUTHENTICATION_REQUIRED', options);
	}
}
