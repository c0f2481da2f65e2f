import { defineProfile } from '../profile.js';
import { bearerTokenType } from './answer-fixes.js';

/**
 * eBay: `token_type` is `User Access Token` or `Application Access Token` while its APIs want
 * `Authorization: Bearer`, so the token type becomes `Bearer` and eBay's name is kept as
 * `token.extra.original_token_type`. `refresh_token_expires_in` (about 18 months) is read, and
 * refresh answers carry no refresh token: the session keeps the one it has.
 */
export const ebay = defineProfile({
	name: 'ebay',
	hooks: { accessTokenResponse: [bearerTokenType], refreshTokenResponse: [bearerTokenType] },
});
