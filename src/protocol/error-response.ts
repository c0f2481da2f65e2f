// Error answers of token-style endpoints (RFC 6749 §5.2, and the forms providers use instead),
// apart from the token parser: the session loads this module, with the error classes and the
// specification's text for each code, only when an endpoint answers with an error.
import { OAuth2ResponseError } from '../errors/oauth2-response-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { isRecord } from './fields.js';
import { redactDeep, redactText } from './redact.js';

const secretFields = ['access_token', 'refresh_token', 'id_token'] as const;

/**
 * Throws the error of a token endpoint answer that `isErrorAnswer` found to be one:
 * `OAuth2ResponseError` for an `error` code, `TokenResponseError` otherwise.
 */
export function throwErrorAnswer(
	body: Record<string, unknown>,
	status = 200,
	response?: Response,
): never {
	throwIfErrorResponse(body, status, response);
	throw withoutErrorCode(body, status, 'token endpoint');
}

/**
 * Throws `OAuth2ResponseError` when a decoded answer carries an `error` code (RFC 6749 §5.2), and
 * `TokenResponseError` when an `error` field is there but is not a code. Returns otherwise.
 * Shared by every endpoint that answers in that form (token, revocation, device authorization).
 *
 * `endpoint` names where the answer came from in the message (`token endpoint` by default).
 */
export function throwIfErrorResponse(
	body: Record<string, unknown>,
	status: number,
	response?: Response,
	endpoint = 'token endpoint',
): void {
	if (body.error === undefined || body.error === null) return;
	if (typeof body.error !== 'string' || body.error === '') {
		throw withoutErrorCode(body, status, endpoint);
	}
	const secrets = tokensIn(body);
	const description = messageOf(body);
	throw new OAuth2ResponseError(
		{
			error: redactText(body.error, secrets),
			errorDescription: description === undefined ? undefined : redactText(description, secrets),
			errorUri:
				typeof body.error_uri === 'string' ? redactText(body.error_uri, secrets) : undefined,
			status,
			response,
		},
		{ context: `The ${endpoint}` },
	);
}

/**
 * The error of an answer that is not RFC 6749's (Strava's `errors`, Twitch's `message`, Facebook's
 * `error` object), keeping what helps: the status, the provider's message and the other fields.
 * Tokens stay out; what the request sent was redacted before this.
 */
export function withoutErrorCode(
	body: Record<string, unknown>,
	status: number,
	endpoint: string,
): TokenResponseError {
	const secrets = tokensIn(body);
	const said = messageOf(body);
	const providerMessage = said === undefined ? undefined : redactText(said, secrets);
	const quoted = providerMessage === undefined ? '' : `: ${providerMessage.slice(0, 300)}`;
	return new TokenResponseError(
		`The ${endpoint} answered HTTP ${status} without an OAuth 2 error code${quoted}`,
		{
			problem: 'missing-error-code',
			status,
			providerMessage,
			// Left out by name: a field named like a token or a secret is one, whatever it holds.
			fields: redactDeep(body, secrets, /(^|_)(token|secret|assertion)$/i) as Record<
				string,
				unknown
			>,
		},
	);
}

// Where providers that do not follow RFC 6749 §5.2 put their message, most specific first.
function messageOf(body: Record<string, unknown>): string | undefined {
	const nested = isRecord(body.error) ? body.error : {};
	const first = Array.isArray(body.errors) && isRecord(body.errors[0]) ? body.errors[0] : {};
	return [
		body.error_description,
		nested.message,
		body.message,
		body.reason,
		body.error_message,
		first.message,
	].find((value): value is string => typeof value === 'string' && value !== '');
}

function tokensIn(body: Record<string, unknown>): string[] {
	return secretFields
		.map((field) => body[field])
		.filter((value): value is string => typeof value === 'string' && value.length >= 6);
}
