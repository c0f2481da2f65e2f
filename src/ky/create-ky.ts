import ky, { type KyInstance, type Options } from 'ky';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { internalsOf } from '../session/internals.js';
import type { OAuth2Session } from '../session/oauth2-session.js';

/**
 * Options of `createKy()`: any of ky's, except `fetch`. Every attempt ky makes (its own retries of
 * 5xx and network errors included) goes through `session.fetch`, so each one gets the then-current
 * token, the origin check, the refresh and the one retry after a 401.
 *
 * To send through another `fetch` (a mock, a proxy agent), give it to the session
 * (`new OAuth2Session({ fetch })`): the session's `fetch` is what reaches the network.
 *
 * @default {} (ky's own defaults: `timeout: 10_000`, `retry: 2`, `throwHttpErrors: true`)
 * @example
 * ```ts
 * const api = createKy(session, { baseUrl: 'https://api.example.com/v1/', timeout: 5_000 });
 * ```
 */
export type CreateKyOptions = Omit<Options, 'fetch'>;

/**
 * A ky instance that sends every request through `session.fetch`: the access token is attached
 * (only for allowed origins, `OriginNotAllowedError` otherwise), refreshed following the session's
 * refresh mode, and a 401 is retried once with a new token, inside each ky attempt and without
 * using ky's retry budget. Redirects are followed by the session (by a browser's fetch in a page),
 * and the token is dropped at the first hop to an origin that may not have it, whatever `fetch` the
 * session sends with.
 *
 * Errors of the session (`OriginNotAllowedError`, `TokenExpiredError`, `TokenUpdated`,
 * `ReauthenticationRequiredError`) reach the caller as they are; ky does not retry them.
 * `.extend({ fetch })` on the instance would bypass the session: its requests would go without the
 * token.
 *
 * @param session The session whose token the instance sends.
 * @param options ky's options, all but `fetch`.
 * @throws {InvalidOptionsError} `options.fetch` is set.
 * @throws {TypeError} `session` is not an `OAuth2Session` of this package.
 * @example
 * ```ts
 * import { createKy } from 'oauth2-session/ky';
 *
 * const api = createKy(session, { baseUrl: 'https://api.example.com/' });
 * const me = await api.get('me').json();
 * await api.post('notes', { json: { text: 'hi' } });
 * ```
 */
export function createKy(session: OAuth2Session, options: CreateKyOptions = {}): KyInstance {
	// Refuses what is not a session now, rather than at the first request.
	internalsOf(session);
	if ((options as Options).fetch !== undefined) {
		throw new InvalidOptionsError(
			"createKy() sends through session.fetch: give your fetch to the session's fetch option",
		);
	}
	const sessionFetch = session.fetch;
	return ky.create({
		...options,
		// ky passes an empty init besides its Request; without it the session need not copy the Request.
		fetch: (input, init) => sessionFetch(input, isEmpty(init) ? undefined : init),
	});
}

function isEmpty(init: RequestInit | undefined): boolean {
	for (const _ in init) return false;
	return true;
}
