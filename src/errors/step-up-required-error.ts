import { OAuth2Error } from './oauth2-error.js';

/**
 * The resource server answered 401 `insufficient_user_authentication` (RFC 9470): the token is fine,
 * but the user must sign in again more strongly or more recently. A refresh would not help, so none
 * was made. Start the sign-in it asks for with `session.authorizationUrl({ stepUp: error })`.
 */
export class StepUpRequiredError extends OAuth2Error {
	override name = 'StepUpRequiredError';
	/** The authentication context classes the resource asked for (`acr_values`), in its order. */
	readonly acrValues: string[];
	/** The most seconds since the user last authenticated that the resource accepts (`max_age`). */
	readonly maxAge: number | undefined;
	/** The 401 response. Not enumerable, so logs do not dump it. */
	declare readonly response: Response;

	constructor(fields: { acrValues: string[]; maxAge: number | undefined; response: Response }) {
		const asked = [
			fields.acrValues.length > 0 ? `acr_values ${fields.acrValues.join(' ')}` : '',
			fields.maxAge === undefined ? '' : `max_age ${fields.maxAge}`,
		].filter((part) => part !== '');
		super(
			`The resource server asks the user to authenticate again${asked.length > 0 ? ` (${asked.join(', ')})` : ''}`,
			'STEP_UP_REQUIRED',
		);
		this.acrValues = fields.acrValues;
		this.maxAge = fields.maxAge;
		Object.defineProperty(this, 'response', { value: fields.response, enumerable: false });
	}
}
