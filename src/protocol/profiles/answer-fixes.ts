// Small response hooks and helpers shared by the shipped profiles, and exported so a profile for
// a provider not shipped is a few lines (README, "A profile of your own").
import { isRecord } from '../fields.js';
import type { TokenHttpResponse, TokenResponseHook } from '../profile.js';

/**
 * The decoded body when it is a JSON object, else `undefined`: hooks leave other bodies alone.
 *
 * @example
 * const hook: TokenResponseHook = (response) => {
 *   const body = bodyObject(response);
 *   if (body?.data === undefined) return undefined;
 *   return { ...response, body: body.data };
 * };
 */
export function bodyObject(response: TokenHttpResponse): Record<string, unknown> | undefined {
	return isRecord(response.body) ? response.body : undefined;
}

/** An error in RFC 6749's terms (§5.2), as `standardError` readers return it. */
export interface StandardErrorFields {
	/** The code: RFC 6749's where one fits (`invalid_grant`...), else the provider's own. */
	error: string;
	/**
	 * What the provider said, for people; keep its own code and message here.
	 * @default undefined: none is added
	 */
	error_description?: string | undefined;
}

/**
 * A response hook for a provider whose errors do not come as RFC 6749 §5.2 says: `read` gets each
 * decoded object answer and returns its error in RFC 6749's terms, or `undefined` for an answer
 * that is not an error (or not one it knows). The fields it returns replace the body's `error` and
 * `error_description` (a description it leaves out is dropped), so the answer becomes an
 * `OAuth2ResponseError`; the rest of the body stays.
 *
 * @example
 * // Strava: { message: 'Bad Request', errors: [{ resource, field, code }] }
 * const stravaError = standardError((body) =>
 *   Array.isArray(body.errors) && body.error === undefined
 *     ? { error: 'invalid_request', error_description: JSON.stringify(body.errors) }
 *     : undefined,
 * );
 */
export function standardError(
	read: (body: Record<string, unknown>) => StandardErrorFields | undefined,
): TokenResponseHook {
	return (response) => {
		const body = bodyObject(response);
		const fields = body === undefined ? undefined : read(body);
		if (body === undefined || fields === undefined) return undefined;
		const { error_description: description, ...rest } = body;
		return {
			...response,
			body: {
				...rest,
				error: fields.error,
				...(fields.error_description === undefined
					? {}
					: { error_description: fields.error_description }),
			},
		};
	};
}

/** The answer's `error_description`, with its own `error` code in front when it has one. */
function withOriginalCode(body: Record<string, unknown>): string | undefined {
	const { error, error_description: description } = body;
	const text = typeof description === 'string' ? description : undefined;
	if (typeof error !== 'string' || error === '') return text;
	return text === undefined ? error : `${error}: ${text}`;
}

/**
 * A response hook renaming a provider's own error codes to RFC 6749's (§5.2), so that a spent
 * grant ends the session as it does with any other server. The original code is kept at the start
 * of `error_description`.
 *
 * @example
 * renameErrorCodes({ bad_refresh_token: 'invalid_grant', bad_client: 'invalid_client' })
 */
export function renameErrorCodes(table: Readonly<Record<string, string>>): TokenResponseHook {
	return standardError((body) => {
		const standard = typeof body.error === 'string' ? table[body.error] : undefined;
		return standard === undefined
			? undefined
			: { error: standard, error_description: withOriginalCode(body) };
	});
}

/**
 * The response hook of a profile's `deadGrant`: an error answer `isDead` matches becomes
 * `invalid_grant`, its own code kept at the start of `error_description`.
 */
export function deadGrantHook(isDead: (response: TokenHttpResponse) => boolean): TokenResponseHook {
	return (response) => {
		const body = bodyObject(response);
		if (body === undefined || body.error === 'invalid_grant' || !isDead(response)) return undefined;
		return {
			...response,
			body: { ...body, error: 'invalid_grant', error_description: withOriginalCode(body) },
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
