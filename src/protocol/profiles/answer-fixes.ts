import { isRecord } from '../fields.js';
import type { TokenHttpResponse, TokenResponseHook } from '../profile.js';

/** The decoded body when it is a JSON object, else `undefined`: hooks leave other bodies alone. */
export function bodyObject(response: TokenHttpResponse): Record<string, unknown> | undefined {
	return isRecord(response.body) ? response.body : undefined;
}

/**
 * A response hook renaming a provider's own error codes to RFC 6749's (§5.2), so that a spent
 * grant ends the session as it does with any other server. The original code is kept at the start
 * of `error_description`.
 */
export function renameErrorCodes(table: Readonly<Record<string, string>>): TokenResponseHook {
	return (response) => {
		const body = bodyObject(response);
		const error = body?.error;
		const standard = typeof error === 'string' ? table[error] : undefined;
		if (body === undefined || standard === undefined) return undefined;
		const description = body.error_description;
		return {
			...response,
			body: {
				...body,
				error: standard,
				error_description: typeof description === 'string' ? `${error}: ${description}` : error,
			},
		};
	};
}

/**
 * A response hook for providers that name their token type (`bot`, `User Access Token`) where
 * their APIs still want `Authorization: Bearer`: `token_type` becomes `Bearer`, and the name
 * sent is kept as `original_token_type`, which lands in `token.extra`.
 */
export function bearerTokenType(response: TokenHttpResponse): TokenHttpResponse | undefined {
	const body = bodyObject(response);
	const type = body?.token_type;
	if (body === undefined || typeof type !== 'string' || type.toLowerCase() === 'bearer') {
		return undefined;
	}
	return { ...response, body: { ...body, token_type: 'Bearer', original_token_type: type } };
}
