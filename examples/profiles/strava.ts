import { defineProfile, standardError } from 'oauth2-session';

// Strava answers a bad code, refresh token or client with
// { message: 'Bad Request', errors: [{ resource: 'RefreshToken', field: 'refresh_token', code: 'invalid' }] }
const grants = new Set(['RefreshToken', 'AuthorizationCode']);

const stravaError = standardError((body) => {
	const [first] = Array.isArray(body.errors) ? body.errors : [];
	if (body.error !== undefined || typeof first?.resource !== 'string') return undefined;
	const error = grants.has(first.resource)
		? 'invalid_grant' // ends the session: sign in again
		: first.resource === 'Application'
			? 'invalid_client'
			: 'invalid_request';
	return {
		error,
		error_description: `${first.resource}.${first.field} ${first.code}: ${body.message}`,
	};
});

export const strava = defineProfile({
	name: 'strava',
	scopeSeparator: ',',
	hooks: { accessTokenResponse: [stravaError], refreshTokenResponse: [stravaError] },
});
