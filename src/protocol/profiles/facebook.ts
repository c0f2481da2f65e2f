import { defineProfile, type TokenHttpResponse } from '../profile.js';
import { bodyObject } from './answer-fixes.js';

function expiresIn(response: TokenHttpResponse): TokenHttpResponse | undefined {
	const body = bodyObject(response);
	if (body === undefined || !('expires' in body) || 'expires_in' in body) return undefined;
	const { expires, ...rest } = body;
	return { ...response, body: { ...rest, expires_in: expires } };
}

/**
 * Facebook's Graph API token endpoint: token requests by `GET`, comma-separated scopes, and the
 * legacy answer (a form, often sent as `text/plain`) with `expires` instead of `expires_in`.
 * Its long-lived token exchange is `fbExchangeTokenGrant(...)`.
 */
export const facebook = defineProfile({
	name: 'facebook',
	scopeSeparator: ',',
	tokenEndpointMethod: 'GET',
	hooks: { accessTokenResponse: [expiresIn] },
});
