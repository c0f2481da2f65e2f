// What the session does with a refusal (401, or 403 insufficient_scope) from a resource server. The
// session loads this module with `import()` at its first refusal: a page whose token works never
// pays for the parser, and a refusal costs a round trip anyway.
import { InsufficientScopeError } from '../errors/insufficient-scope-error.js';
import { StepUpRequiredError } from '../errors/step-up-required-error.js';
import { unauthorizedCause } from '../protocol/www-authenticate.js';
import type { InsufficientScopeMode } from './options.js';

/**
 * Whether a new token may change the answer: only when the challenge blames the token
 * (`invalid_token`, or no error code). Throws `StepUpRequiredError` for a step-up challenge, and
 * `InsufficientScopeError` for a scope challenge when the session's `insufficientScope` says so;
 * any other code is handed back as it came.
 *
 * @param authorization The `Authorization` the request was sent with: its scheme picks the challenge.
 */
export function refreshMayHelp(
	response: Response,
	authorization: string,
	insufficientScope: InsufficientScopeMode,
): boolean {
	const { status } = response;
	if (status === 403 && insufficientScope === 'return') return false;
	const scheme = authorization.slice(0, Math.max(0, authorization.indexOf(' ')));
	const cause = unauthorizedCause(response.headers.get('www-authenticate'), scheme);
	if (cause.kind === 'scope' && insufficientScope === 'throw') {
		throw new InsufficientScopeError({ scope: cause.scope, response });
	}
	if (status !== 401) return false;
	if (cause.kind === 'step-up') {
		throw new StepUpRequiredError({ acrValues: cause.acrValues, maxAge: cause.maxAge, response });
	}
	return cause.kind === 'token';
}
