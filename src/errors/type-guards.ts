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
	'MetadataError',
	'StepUpRequiredError',
	'InsufficientScopeError',
	'DPoPError',
]);

/**
 * Whether a value is an error of this library. Checks `name` and `code` rather than the prototype,
 * so it also holds for errors from another realm or another copy of the package.
 */
export function isOAuth2Error(value: unknown): value is OAuth2Error {
	// `instanceof Error` alone is false for an error made in another realm (a vm context, an iframe);
	// the internal [[ErrorData]] slot that toString reads is not.
	if (!(value instanceof Error) && Object.prototype.toString.call(value) !== '[object Error]') {
		return false;
	}
	const { name, code } = value as { name?: unknown; code?: unknown };
	return typeof name === 'string' && names.has(name) && typeof code === 'string';
}
