import { defineProfile } from '../profile.js';
import { renameErrorCodes } from './answer-fixes.js';

// The Microsoft identity platform answers a refresh whose grant now needs the user (new MFA or
// consent, a password change) with these OpenID Connect codes. The refresh token cannot be used
// without a new sign-in, which is what invalid_grant tells the session.
const needsTheUser = renameErrorCodes({
	interaction_required: 'invalid_grant',
	consent_required: 'invalid_grant',
	login_required: 'invalid_grant',
});

/**
 * The Microsoft identity platform (Entra ID, `login.microsoftonline.com/<tenant>/oauth2/v2.0`):
 * a refresh token is issued only for the `offline_access` scope, added to authorization URLs; a
 * refresh that needs the user again (`interaction_required`) ends the session. Pass the scope to
 * send with refreshes as `refreshParams: { scope }`.
 */
export const microsoft = defineProfile({
	name: 'microsoft',
	authorizationScopes: ['offline_access'],
	hooks: { refreshTokenResponse: [needsTheUser] },
});
