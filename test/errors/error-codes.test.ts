import { describe, expect, it } from 'vitest';
import { describeErrorCode } from '../../src/errors/error-codes.js';
import { AuthorizationResponseError, OAuth2ResponseError } from '../../src/errors/index.js';

// The specifications' own words (parenthetical asides and section references left out).
const specified: [code: string, spec: string, description: string][] = [
	[
		'invalid_request',
		'RFC 6749 §5.2',
		'The request is missing a required parameter, includes an unsupported parameter value (other than grant type), repeats a parameter, includes multiple credentials, utilizes more than one mechanism for authenticating the client, or is otherwise malformed.',
	],
	[
		'invalid_client',
		'RFC 6749 §5.2',
		'Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).',
	],
	[
		'invalid_grant',
		'RFC 6749 §5.2',
		'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
	],
	[
		'unauthorized_client',
		'RFC 6749 §5.2',
		'The authenticated client is not authorized to use this authorization grant type.',
	],
	[
		'unsupported_grant_type',
		'RFC 6749 §5.2',
		'The authorization grant type is not supported by the authorization server.',
	],
	[
		'invalid_scope',
		'RFC 6749 §5.2',
		'The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.',
	],
	[
		'access_denied',
		'RFC 6749 §4.1.2.1 (also RFC 8628 §3.5)',
		'The resource owner or authorization server denied the request.',
	],
	[
		'unsupported_response_type',
		'RFC 6749 §4.1.2.1',
		'The authorization server does not support obtaining an authorization code using this method.',
	],
	[
		'server_error',
		'RFC 6749 §4.1.2.1',
		'The authorization server encountered an unexpected condition that prevented it from fulfilling the request.',
	],
	[
		'temporarily_unavailable',
		'RFC 6749 §4.1.2.1',
		'The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server.',
	],
	[
		'invalid_token',
		'RFC 6750 §3.1',
		'The access token provided is expired, revoked, malformed, or invalid for other reasons.',
	],
	[
		'insufficient_scope',
		'RFC 6750 §3.1',
		'The request requires higher privileges than provided by the access token.',
	],
	[
		'authorization_pending',
		'RFC 8628 §3.5',
		"The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.",
	],
	[
		'slow_down',
		'RFC 8628 §3.5',
		'A variant of "authorization_pending": the authorization request is still pending and polling should continue, but the interval must be increased by 5 seconds for this and all subsequent requests.',
	],
	[
		'expired_token',
		'RFC 8628 §3.5',
		'The "device_code" has expired, and the device authorization session has concluded.',
	],
	[
		'unsupported_token_type',
		'RFC 7009 §2.2.1',
		'The authorization server does not support the revocation of the presented token type. That is, the client tried to revoke an access token on a server not supporting this feature.',
	],
	[
		'invalid_target',
		'RFC 8693 §2.2.2',
		'The authorization server is unwilling or unable to issue a token for any target service indicated by the "resource" or "audience" parameters.',
	],
];

describe('describeErrorCode', () => {
	it.each(specified)('%s (%s)', (code, _, description) => {
		expect(describeErrorCode(code)).toBe(description);
	});

	it.each([
		['a provider code', 'bad_verification_code'],
		["Facebook's user_denied", 'user_denied'],
		['another case', 'INVALID_GRANT'],
		['padding', ' invalid_grant'],
		['empty', ''],
		['an Object.prototype key', 'toString'],
		['constructor', 'constructor'],
		['__proto__', '__proto__'],
		['hasOwnProperty', 'hasOwnProperty'],
	])('%s is "Unknown code"', (_, code) => {
		expect(describeErrorCode(code)).toBe('Unknown code');
	});
});

describe('errorCodeDescription on response errors', () => {
	it('is set from the code', () => {
		expect(new OAuth2ResponseError({ error: 'slow_down' }).errorCodeDescription).toBe(
			describeErrorCode('slow_down'),
		);
		expect(new AuthorizationResponseError({ error: 'user_denied' }).errorCodeDescription).toBe(
			'Unknown code',
		);
	});
});
