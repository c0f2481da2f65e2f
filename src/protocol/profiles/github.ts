import { defineProfile, type TokenHttpResponse } from '../profile.js';
import type { TokenRequestParts } from '../token-request.js';

// GitHub's own codes for what RFC 6749 §5.2 calls invalid_grant and invalid_client. Mapped, a
// spent refresh token ends the session as it does with any other server.
const standardCodes: Readonly<Record<string, string>> = {
	bad_verification_code: 'invalid_grant',
	bad_refresh_token: 'invalid_grant',
	incorrect_client_credentials: 'invalid_client',
};

function askForJson(request: TokenRequestParts): void {
	// Without it GitHub answers with a form; kept here too in case an earlier hook changed it.
	request.headers.set('accept', 'application/json');
}

function standardErrorCode(response: TokenHttpResponse): TokenHttpResponse | undefined {
	const body = response.body;
	if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
	const error = (body as { error: unknown }).error;
	const standard = typeof error === 'string' ? standardCodes[error] : undefined;
	if (standard === undefined) return undefined;
	const description = (body as { error_description?: unknown }).error_description;
	return {
		...response,
		body: {
			...body,
			error: standard,
			error_description: typeof description === 'string' ? `${error}: ${description}` : error,
		},
	};
}

/**
 * GitHub (OAuth apps and GitHub Apps): scopes are comma-separated, token errors come with HTTP 200
 * (they still become `OAuth2ResponseError`), and its own error codes are mapped to RFC 6749's,
 * the original code kept at the start of `errorDescription`.
 */
export const github = defineProfile({
	name: 'github',
	scopeSeparator: ',',
	hooks: {
		accessTokenRequest: [askForJson],
		refreshTokenRequest: [askForJson],
		accessTokenResponse: [standardErrorCode],
		refreshTokenResponse: [standardErrorCode],
	},
});
