/**
 * What the specifications say each OAuth 2 error code means: RFC 6749 §4.1.2.1 and §5.2,
 * RFC 6750 §3.1, RFC 8628 §3.5, RFC 7009 §2.2.1 and RFC 8693 §2.2.2. Where two specifications define one code,
 * the token endpoint's text is kept, since that is where the code is met most.
 */
const descriptions: Readonly<Record<string, string>> = {
	invalid_request:
		'The request is missing a required parameter, includes an unsupported parameter value (other than grant type), repeats a parameter, includes multiple credentials, utilizes more than one mechanism for authenticating the client, or is otherwise malformed.',
	invalid_client:
		'Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).',
	invalid_grant:
		'The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
	unauthorized_client:
		'The authenticated client is not authorized to use this authorization grant type.',
	unsupported_grant_type:
		'The authorization grant type is not supported by the authorization server.',
	invalid_scope:
		'The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.',
	access_denied: 'The resource owner or authorization server denied the request.',
	unsupported_response_type:
		'The authorization server does not support obtaining an authorization code using this method.',
	server_error:
		'The authorization server encountered an unexpected condition that prevented it from fulfilling the request.',
	temporarily_unavailable:
		'The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server.',
	invalid_token:
		'The access token provided is expired, revoked, malformed, or invalid for other reasons.',
	insufficient_scope: 'The request requires higher privileges than provided by the access token.',
	authorization_pending:
		"The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.",
	slow_down:
		'A variant of "authorization_pending": the authorization request is still pending and polling should continue, but the interval must be increased by 5 seconds for this and all subsequent requests.',
	expired_token:
		'The "device_code" has expired, and the device authorization session has concluded.',
	unsupported_token_type:
		'The authorization server does not support the revocation of the presented token type. That is, the client tried to revoke an access token on a server not supporting this feature.',
	invalid_target:
		'The authorization server is unwilling or unable to issue a token for any target service indicated by the "resource" or "audience" parameters.',
};

/** The specification's description of an OAuth 2 error code, or `"Unknown code"`. */
export function describeErrorCode(code: string): string {
	return Object.hasOwn(descriptions, code) ? (descriptions[code] as string) : 'Unknown code';
}
