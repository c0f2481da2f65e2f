import { defineProfile } from '../profile.js';

/**
 * The Microsoft identity platform (Entra ID, `login.microsoftonline.com/<tenant>/oauth2/v2.0`):
 * a refresh token is issued only for the `offline_access` scope, added to authorization URLs; a
 * refresh that needs the user again (`interaction_required`) ends the session. Pass the scope to
 * send with refreshes as `refreshParams: { scope }`.
 */
export const microsoft = defineProfile({
	name: 'microsoft',
	authorizationScopes: ['offline_access'],
	// The Microsoft identity platform answers a grant that now needs the user (new MFA or consent,
	// a password change) with these OpenID Connect codes. It cannot be used without a new sign-in,
	// which is what invalid_grant tells the session.
	deadGrant: ['interaction_required', 'consent_required', 'login_required'],
});
