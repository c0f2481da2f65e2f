import { internalsOf } from '../session/internals.js';
import type { OAuth2Session } from '../session/oauth2-session.js';

/**
 * A `fetch` for your own ky instance beside `oauth2Hooks()`: it refuses to send a request that
 * carries an `Authorization` header to an origin none of the session's tokens may go to (not in
 * `allowedOrigins` or `resources`: `OriginNotAllowedError`, nothing is sent). `oauth2Hooks()` checks the origin when it attaches
 * the token; a `beforeRequest` hook that runs after it can still return a new `Request` for
 * another URL, headers and all. This check runs at the last moment, whatever the hooks did.
 * Requests without `Authorization` pass untouched.
 *
 * @param session The session whose `allowedOrigins` and `resources` (and transport rule) are checked.
 * @param fetch The fetch that sends. @default globalThis.fetch, looked up at each call
 * @throws {TypeError} `session` is not an `OAuth2Session` of this package.
 * @example
 * ```ts
 * const api = ky
 *   .create({ baseUrl: 'https://api.example.com/', fetch: oauth2Fetch(session) })
 *   .extend({ hooks: oauth2Hooks(session) });
 * ```
 */
export function oauth2Fetch(
	session: OAuth2Session,
	fetch: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init),
): typeof globalThis.fetch {
	const internals = internalsOf(session);
	// Async, so a refusal is a rejected promise, as fetch's own errors are.
	return async (input, init) => {
		const request = input instanceof Request ? input : undefined;
		// init.headers replace a Request's own, as they do in fetch.
		const headers = new Headers(init?.headers ?? request?.headers);
		if (headers.has('authorization')) {
			const base = (globalThis as { location?: { href: string } }).location?.href;
			const url = new URL(request?.url ?? String(input), base);
			internals.tokenTarget(url);
		}
		return fetch(input, init);
	};
}
