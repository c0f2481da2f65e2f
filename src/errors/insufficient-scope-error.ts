import { OAuth2Error } from './oauth2-error.js';

/**
 * The resource server answered 401 or 403 `insufficient_scope` (RFC 6750 §3.1): the token lacks a
 * scope the request needs. Thrown only when the session's `insufficientScope` option is `'throw'`;
 * by default the response is returned as it came.
 */
export class InsufficientScopeError extends OAuth2Error {
	override name = 'InsufficientScopeError';
	/** The scopes the resource server said the request needs (its challenge's `scope`), if it said. */
	readonly scope: string[];
	/** The response. Not enumerable, so logs do not dump it. */
	declare readonly response: Response;

	constructor(fields: { scope: string[]; response: Response }) {
		super(
			`The access token lacks a scope the request needs${fields.scope.length > 0 ? ` (${fields.scope.join(' ')})` : ''}`,
			'INSUFFICIENT_SCOPE',
		);
		this.scope = fields.scope;
		Object.defineProperty(this, 'response', { value: fields.response, enumerable: false });
	}
}
