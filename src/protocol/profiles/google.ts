import { defineProfile } from '../profile.js';

/**
 * Google: a refresh token is issued only for `access_type=offline`, and only at the first consent
 * unless `prompt=consent` asks again, so both go into every authorization URL. Refresh answers
 * carry no refresh token: the session keeps the one it has.
 */
export const google = defineProfile({
	name: 'google',
	authorizationParams: { access_type: 'offline', prompt: 'consent' },
});
