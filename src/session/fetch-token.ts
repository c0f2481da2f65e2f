// What `session.fetchToken()` exchanges for a token, read from its options: the session loads this
// module with `import()` on the first call, so a page that only calls APIs does not carry it.
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { StateMismatchError } from '../errors/state-mismatch-error.js';
import type { AuthorizationRequest } from '../protocol/authorization-url.js';
import { authorizationCodeGrant, deviceCodeGrant, type Grant } from '../protocol/grants.js';
import type { Params } from '../protocol/params.js';
import type { Token } from '../protocol/token.js';
import type { ImplicitResponseOptions } from './authorization.js';
import type { DeviceWaitOptions } from './device-wait.js';
import type { FetchTokenOptions } from './oauth2-session.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';

/** What `fetchToken()` needs of its session. */
export interface FetchTokenContext {
	readonly options: NormalizedOAuth2SessionOptions;
	/** The last `authorizationUrl()` request, read when the callback is. */
	pending(): AuthorizationRequest | undefined;
	/** The states callbacks were read with: each is good for one, whatever comes of it. */
	readonly spentStates: Set<string>;
	requestToken(grant: Grant, params: Params, signal: AbortSignal | undefined): Promise<Token>;
}

/** Gets the token `options` asks for, from the token endpoint or an implicit callback. */
export async function fetchSessionToken(
	context: FetchTokenContext,
	options: FetchTokenOptions | undefined,
): Promise<Token> {
	if (options !== undefined && 'implicitResponse' in options) {
		const state = expectedState(context, options.state);
		const { tokenFromImplicitCallback } = await import('./authorization.js');
		return tokenFromImplicitCallback(context.options, options, state);
	}
	if (options !== undefined && 'deviceAuthorization' in options) {
		const { devicePoll, waitForApproval } = await import('./device-wait.js');
		const grant = deviceCodeGrant({ deviceCode: options.deviceAuthorization.deviceCode });
		// Each poll is a token request of the session's: its client authentication, profile,
		// retries and, with DPoP, a proof signed with its key and the nonce the last answer gave.
		return waitForApproval(
			options,
			() => devicePoll(context.requestToken(grant, {}, options.signal)),
			'fetchToken',
		);
	}
	const { grant, params, signal } = await grantFor(context, options);
	return context.requestToken(grant, params ?? {}, signal);
}

// Synchronous: the state is checked and spent before the caller's next await, so two callbacks at
// once cannot both pass.
function expectedState(context: FetchTokenContext, given: string | undefined): string {
	const state = given ?? context.pending()?.state;
	if (state === undefined) {
		// Without a state to compare, a forged callback could not be told apart (CSRF).
		throw new InvalidOptionsError(
			'fetchToken() with a callback URL needs the state from authorizationUrl(): pass it as state',
		);
	}
	// Spent before the callback is even read: after a failed exchange or a refused callback, a
	// second code under the same state (replayed, or injected) must not reach the token endpoint.
	const spent = context.spentStates.has(state);
	context.spentStates.add(state);
	if (spent) throw new StateMismatchError('used');
	return state;
}

async function grantFor(
	context: FetchTokenContext,
	options: Exclude<FetchTokenOptions, ImplicitResponseOptions | DeviceWaitOptions> | undefined,
): Promise<{
	grant: Grant;
	params: Params | undefined;
	signal: AbortSignal | undefined;
}> {
	if (options === undefined) {
		if (context.options.grant === undefined) {
			throw new InvalidOptionsError(
				'fetchToken() needs a grant, a code or an authorizationResponse',
			);
		}
		return { grant: context.options.grant, params: undefined, signal: undefined };
	}
	if ('grant' in options) {
		return { grant: options.grant, params: options.params, signal: options.signal };
	}
	const redirectUri = options.redirectUri ?? context.options.redirectUri;
	if ('code' in options) {
		return {
			grant: authorizationCodeGrant({
				code: options.code,
				...(redirectUri === undefined ? {} : { redirectUri }),
				...(options.codeVerifier === undefined ? {} : { codeVerifier: options.codeVerifier }),
			}),
			params: options.params,
			signal: options.signal,
		};
	}
	const state = expectedState(context, options.state);
	const { grantFromCallback } = await import('./authorization.js');
	return {
		grant: grantFromCallback(
			context.options,
			options,
			state,
			options.codeVerifier ?? context.pending()?.codeVerifier,
			redirectUri,
		),
		params: options.params,
		signal: options.signal,
	};
}
