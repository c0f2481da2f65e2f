import type { OAuth2Error } from './oauth2-error.js';

const names = new Set([
	'OAuth2Error',
	'OAuth2ResponseError',
	'AuthorizationResponseError',
	'TokenResponseError',
	'TokenRequestError',
	'InsecureTransportError',
	'StateMismatchError',
	'InvalidCallbackError',
	'TokenExpiredError',
	'TokenUpdated',
	'ReauthenticationRequiredError',
	'OriginNotAllowedError',
	'StorageError',
	'InvalidOptionsError',
]);

/**
 * Whether a value is an error of this library. Checks `name` and `code` rather than the prototype,
 * so it also holds for errors from another realm or another copy of the package.
 */
export function isOAuth2Error(value: unknown): value is OAuth2Error {
	return (
		value instanceof Error &&
		names.has(value.name) &&
		typeof (value as { code?: unknown }).code === 'string'
	);
}
