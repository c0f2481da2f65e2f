import { bodyObject, defineProfile, type TokenResponseHook } from 'oauth2-session';

// Zoom answers a refresh token that expired or was revoked with HTTP 400
// { reason: 'Invalid Token!', error: 'invalid_request' }: the wrong code, its text in `reason`.
const reasonAsDescription: TokenResponseHook = (answer) => {
	const body = bodyObject(answer);
	if (typeof body?.reason !== 'string' || body.error_description !== undefined) return undefined;
	return { ...answer, body: { ...body, error_description: body.reason } };
};

export const zoom = defineProfile({
	name: 'zoom',
	hooks: {
		accessTokenResponse: [reasonAsDescription],
		refreshTokenResponse: [reasonAsDescription],
	},
	// A refresh answered so is invalid_grant: the session ends instead of trying it again.
	deadGrant: (answer) => bodyObject(answer)?.error_description === 'Invalid Token!',
});
