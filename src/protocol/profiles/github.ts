import { defineProfile } from '../profile.js';
import type { TokenRequestParts } from '../token-request.js';
import { renameErrorCodes } from './answer-fixes.js';

// GitHub's own codes for what RFC 6749 §5.2 calls invalid_grant and invalid_client; a refresh
// answered bad_refresh_token is also invalid_grant, through deadGrant.
const standardErrorCode = renameErrorCodes({
	bad_verification_code: 'invalid_grant',
	incorrect_client_credentials: 'invalid_client',
});

function askForJson(request: TokenRequestParts): void {
	// Without it GitHub answers with a form; kept here too in case an earlier hook changed it.
	request.headers.set('accept', 'application/json');
}

/**
 * GitHub (OAuth apps and GitHub Apps): scopes are comma-separated, token errors come with HTTP 200
 * (they still become `OAuth2ResponseError`), and its own error codes are mapped to RFC 6749's,
 * the original code kept at the start of `errorDescription`. GitHub App user tokens expire after
 * 8 hours and their refresh token after about 6 months (`refresh_token_expires_in`), both read.
 */
export const github = defineProfile({
	name: 'github',
	scopeSeparator: ',',
	deadGrant: ['bad_refresh_token'],
	hooks: {
		accessTokenRequest: [askForJson],
		refreshTokenRequest: [askForJson],
		accessTokenResponse: [standardErrorCode],
		refreshTokenResponse: [standardErrorCode],
	},
});
