import { defineProfile } from '../profile.js';
import { standardError } from './answer-fixes.js';

// At the token endpoint the only token that can be expired or invalid is the grant itself (the
// code or refresh token), which RFC 6749 §5.2 calls invalid_grant. Other types are RFC codes.
const grantErrors = new Set(['expired_token', 'invalid_token']);

/**
 * Rewrites Fitbit's error form, `{ errors: [{ errorType, message }], success: false }`, into an
 * RFC 6749 one. The first error's type is the code (`expired_token` and `invalid_token` become
 * `invalid_grant`, the type kept at the start of the description); every message is kept.
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
	const mapped = grantErrors.has(first.errorType);
	const description = [mapped ? first.errorType : undefined, messages.join(' ') || undefined]
		.filter((part) => part !== undefined)
		.join(': ');
	return {
		error: mapped ? 'invalid_grant' : first.errorType,
		error_description: description || undefined,
	};
});

/**
 * Fitbit: token errors come as `{ errors: [{ errorType, message }], success: false }` (HTTP 400
 * or 401) and become `OAuth2ResponseError`; an expired or invalid refresh token is `invalid_grant`
 * and ends the session. Refresh tokens are single-use: each refresh answer brings the next one.
 */
export const fitbit = defineProfile({
	name: 'fitbit',
	hooks: { accessTokenResponse: [fitbitError], refreshTokenResponse: [fitbitError] },
});
