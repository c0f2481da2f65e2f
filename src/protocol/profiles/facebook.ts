import { isRecord } from '../fields.js';
import { defineProfile, type TokenHttpResponse } from '../profile.js';
import { bodyObject, standardError } from './answer-fixes.js';

function expiresIn(response: TokenHttpResponse): TokenHttpResponse | undefined {
	const body = bodyObject(response);
	if (body === undefined || !('expires' in body) || 'expires_in' in body) return undefined;
	const { expires, ...rest } = body;
	return { ...response, body: { ...rest, expires_in: expires } };
}

// Facebook's codes ("Handle errors", Graph API) in RFC 6749 §5.2's terms. 190 (OAuthException:
// the token expired, was revoked, or the user changed their password or removed the app) and
// 102 (the session is no longer valid) mean the grant is gone; 101 is a bad app id or secret.
const codes: Readonly<Record<number, string>> = {
	190: 'invalid_grant',
	102: 'invalid_grant',
	101: 'invalid_client',
	100: 'invalid_request',
};
// Code 100 subcodes: the authorization code has expired (36007) or was used already (36009).
const spentCodes = new Set([36007, 36009]);

/**
 * Rewrites the Graph API's error object, `{ error: { message, type, code, error_subcode,
 * fbtrace_id } }`, into an RFC 6749 error. A code without an RFC meaning keeps Facebook's type
 * (`OAuthException`) as the code; type, code, subcode and trace id go into the description.
 */
const graphError = standardError((body) => {
	const error = body.error;
	if (!isRecord(error)) return undefined;
	const { message, type, code, error_subcode: subcode, fbtrace_id: traceId } = error;
	if (typeof code !== 'number' && typeof message !== 'string') return undefined;
	const name = typeof type === 'string' && type !== '' ? type : 'OAuthException';
	const standard =
		typeof code !== 'number'
			? undefined
			: code === 100 && spentCodes.has(subcode as number)
				? 'invalid_grant'
				: codes[code];
	const details = [
		name,
		typeof code === 'number' ? `code ${code}` : undefined,
		subcode === undefined ? undefined : `subcode ${subcode}`,
		traceId === undefined ? undefined : `fbtrace_id ${traceId}`,
	].filter((part) => part !== undefined);
	return {
		error: standard ?? name,
		error_description: `${typeof message === 'string' ? `${message} ` : ''}(${details.join(', ')})`,
	};
});

/**
 * Facebook's Graph API token endpoint: token requests by `GET`, comma-separated scopes, and the
 * legacy answer (a form, often sent as `text/plain`) with `expires` instead of `expires_in`.
 * Its error object becomes an `OAuth2ResponseError`: code 190 (an expired, revoked or invalid
 * token) is `invalid_grant`, and Facebook's message, type, code, subcode and `fbtrace_id` are
 * kept in `errorDescription`. Its long-lived token exchange is `fbExchangeTokenGrant(...)`.
 */
export const facebook = defineProfile({
	name: 'facebook',
	scopeSeparator: ',',
	tokenEndpointMethod: 'GET',
	hooks: {
		accessTokenResponse: [graphError, expiresIn],
		refreshTokenResponse: [graphError, expiresIn],
	},
});
