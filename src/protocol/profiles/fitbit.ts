import { defineProfile } from '../profile.js';
import { standardError } from './answer-fixes.js';

/**
 * Rewrites Fitbit's error form, `{ errors: [{ errorType, message }], success: false }`, into an
 * RFC 6749 one: the first error's type is the code, and every message is kept.
 */
const fitbitError = standardError((body) => {
	if (body.error !== undefined || !Array.isArray(body.errors)) return undefined;
	const errors = body.errors.filter(
		(item): item is { errorType: string; message?: unknown } =>
			typeof item?.errorType === 'string' && item.errorType !== '',
	);
	const first = errors[0];
	if (first === undefined) return undefined;
	const messages = errors
		.map((item) => item.message)
		.filter((message): message is string => typeof message === 'string');
	return { error: first.errorType, error_description: messages.join(' ') || undefined };
});

/**
 * Fitbit: token errors come as `{ errors: [{ errorType, message }], success: false }` (HTTP 400
 * or 401) and become `OAuth2ResponseError`; an expired or invalid refresh token is `invalid_grant`
 * and ends the session. Refresh tokens are single-use: each refresh answer brings the next one.
 */
export const fitbit = defineProfile({
	name: 'fitbit',
	// At the token endpoint the only token that can be expired or invalid is the grant itself (the
	// code or refresh token), which RFC 6749 §5.2 calls invalid_grant. Other types are RFC codes.
	deadGrant: ['expired_token', 'invalid_token'],
	hooks: { accessTokenResponse: [fitbitError], refreshTokenResponse: [fitbitError] },
});
