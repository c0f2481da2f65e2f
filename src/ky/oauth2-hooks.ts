import ky, { type Hooks, type KyRequest } from 'ky';
import type { Token } from '../protocol/token.js';
import { internalsOf } from '../session/internals.js';
import type { OAuth2Session } from '../session/oauth2-session.js';

/** One ky call, across its attempts. */
interface CallState {
	/** The token the last attempt carried. */
	sent: Token;
	/** The `resources` API the call goes to, whose token it carries; `undefined` for the session's. */
	resource: string | undefined;
	/** The token chosen for the retry after a 401, until that retry takes it. */
	retryWith: Token | undefined;
	/** Whether this call already retried a 401: once per call, never a loop. */
	retried401: boolean;
	/** The DPoP nonce the last attempt's proof carried, and whether a nonce was retried already. */
	nonce?: string | undefined;
	nonceRetried?: boolean;
	/** Ends the attempt's turn to its origin (DPoP: see `DPoPBinding.turn`), given its answer. */
	answered?: ((response: Response | undefined) => void) | undefined;
}

/** The `code` of the `ForceRetryError` behind the retry with a server's new DPoP nonce. */
export const DPOP_NONCE_RETRY_CODE = 'OAUTH2_DPOP_NONCE';

/** The `code` of the `ForceRetryError` behind the retry after a 401, as `beforeRetry` hooks see it. */
export const TOKEN_RETRY_CODE = 'OAUTH2_TOKEN_REFRESHED';

/**
 * ky hooks that give your own ky instance the session's token handling:
 *
 * - `beforeRequest`: refuses an origin in neither `allowedOrigins` nor `resources`
 *   (`OriginNotAllowedError`, nothing is sent), then sets `Authorization` with the token (a
 *   `resources` API's own token for its origin), refreshed first if it is due, following the
 *   session's refresh mode (`TokenExpiredError` in `manual` mode, `TokenUpdated` in
 *   `raise-updated` mode, both thrown through ky);
 * - `beforeRetry`: sets the then-current token again, since ky's retries resend the same request;
 * - `afterResponse`: on a 401 whose challenge blames the token (`invalid_token`, or no error
 *   code), gets the token to retry with (a refresh, shared with every request that needs it) and
 *   retries once with `ky.retry()`. A step-up challenge throws `StepUpRequiredError`, and
 *   `insufficient_scope` throws `InsufficientScopeError` when the session's `insufficientScope` is
 *   `'throw'`; any other 401 is handed back without a refresh.
 *
 * The retry after a 401 is a ky retry: it runs your `beforeRetry` hooks, honours `timeout` and
 * `totalTimeout`, and counts against `retry.limit`. With no retry left (`retry: 0`, or a limit
 * spent on 5xx), the 401 is handed back as it is. Use `createKy()` for a retry after a 401 that
 * does not depend on ky's retries. Each call retries a 401 at most once, so a token the server
 * keeps refusing never loops.
 *
 * Redirects are followed by your instance's `fetch`. The Fetch standard, which Node's built-in
 * fetch (undici), browsers and Deno follow, removes `Authorization` at the first hop to another
 * origin and does not put it back, so the token does not leave the origin it was checked for. That
 * is stricter than `session.fetch`, which keeps the token on a hop to another allowed origin; a 401
 * from such a hop is handed back, since the token never reached it. A custom `fetch` that does not
 * follow the standard (node-fetch 2 keeps the header for subdomains) can forward the token: with
 * such a fetch use `createKy()` (the session follows redirects itself) or set `redirect: 'manual'`.
 *
 * The origin is checked when the token is attached. A `beforeRequest` hook that runs after these
 * (added by a later `.extend()`) and returns a new `Request` for another URL would take the token
 * with it: give the instance `fetch: oauth2Fetch(session)`, which checks again as the request is
 * sent, or extend with these hooks last. `createKy()` needs neither: `session.fetch` checks.
 *
 * A provider profile's `protectedRequest` hooks are not run by these hooks; `createKy()` runs them.
 * The instance must use the ky 2 this package depends on (one copy of it in `node_modules`): ky
 * recognises the value of `ky.retry()` by its class.
 *
 * @param session The session whose token the hooks attach.
 * @returns Hooks to pass to `ky.create()` or `.extend()`; each list has one hook.
 * @throws {TypeError} `session` is not an `OAuth2Session` of this package.
 * @example
 * ```ts
 * import ky from 'ky';
 * import { oauth2Fetch, oauth2Hooks } from 'oauth2-session/ky';
 *
 * const api = ky
 *   .create({ baseUrl: 'https://api.example.com/', timeout: 5_000, fetch: oauth2Fetch(session) })
 *   .extend({ hooks: oauth2Hooks(session) });
 * const me = await api.get('me').json();
 * ```
 */
export function oauth2Hooks(session: OAuth2Session): Hooks {
	const internals = internalsOf(session);
	// Keyed by the call's `context` object, which ky creates for every call and keeps for all its
	// attempts, while it replaces the request itself on each retry.
	const calls = new WeakMap<object, CallState>();

	const authorize = async (request: KyRequest, context: object): Promise<void> => {
		// The origin check first, so a refused origin never costs a refresh.
		const resource = internals.tokenTarget(new URL(request.url));
		// ky runs the hooks before fetch sees the signal: a call already given up must not refresh.
		request.signal.throwIfAborted();
		const state = calls.get(context);
		// The retry after a 401 goes with the token chosen for it, as session.fetch's does: asking
		// again could refresh a second time.
		const token =
			(state?.resource === resource ? state?.retryWith : undefined) ??
			(await internals.tokenForRequest(resource));
		if (state === undefined) {
			calls.set(context, { sent: token, resource, retryWith: undefined, retried401: false });
		} else {
			state.sent = token;
			state.resource = resource;
			state.retryWith = undefined;
		}
		request.headers.set('authorization', token.authorization);
		// A DPoP token goes with a fresh proof on every attempt (RFC 9449 §7).
		if (internals.dpop !== undefined && token.tokenType === 'DPoP') {
			const binding = await internals.dpop;
			const sent = calls.get(context) as CallState;
			// ky sends the request itself: its answer ends the turn in afterResponse. A request that
			// fails never gets there, and holds the others for a second at most.
			sent.answered?.(undefined);
			const url = new URL(request.url);
			sent.answered = await binding.turn(url, request.signal);
			sent.nonce = await binding.proveRequest(request.headers, request.method, url, token);
		}
	};

	return {
		beforeRequest: [({ request, options }) => authorize(request, options.context)],
		beforeRetry: [({ request, options }) => authorize(request, options.context)],
		afterResponse: [
			async ({ request, response, options, retryCount }) => {
				const { status } = response;
				const state = calls.get(options.context);
				state?.answered?.(response);
				if (state !== undefined) state.answered = undefined;
				// A server's new DPoP nonce: sent at once, once per call, without refreshing.
				if (
					internals.dpop !== undefined &&
					state?.sent.tokenType === 'DPoP' &&
					!answeredElsewhere(request, response) &&
					(await internals.dpop).retryWithNonce(new URL(request.url), response, {
						sent: state.nonce,
						retried: state.nonceRetried === true || retryCount >= options.retry.limit,
						replayable: true,
					})
				) {
					state.nonceRetried = true;
					state.retryWith = state.sent;
					return ky.retry({ delay: 0, code: DPOP_NONCE_RETRY_CODE });
				}
				if (status !== 401 && status !== 403) return;
				if (state === undefined || answeredElsewhere(request, response)) return;
				// Throws the typed errors a step-up or scope challenge asks for, whatever ky's retries.
				if (!(await internals.refreshMayHelp(response, state.sent)) || status !== 401) return;
				// ky.retry() past the limit would throw a ForceRetryError instead of the 401.
				if (state.retried401 || retryCount >= options.retry.limit) return;
				const next = await internals.tokenAfter401(state.sent, state.resource);
				if (next === undefined) return;
				state.retried401 = true;
				state.retryWith = next;
				return ky.retry({ delay: 0, code: TOKEN_RETRY_CODE });
			},
		],
	};
}

/** A redirect to another origin: fetch dropped the token there, so its 401 says nothing of ours. */
function answeredElsewhere(request: Request, response: Response): boolean {
	return response.redirected && new URL(response.url).origin !== new URL(request.url).origin;
}
