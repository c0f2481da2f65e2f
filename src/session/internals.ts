import type { Token } from '../protocol/token.js';
import type { DPoPBinding } from './dpop.js';

/**
 * What other entry points of this package (the ky integration) need from a session beyond its
 * public API. Not exported from the package index.
 */
export interface SessionInternals {
	/**
	 * Which token a request to `url` carries: the origin of its `resources` API, or `undefined` for
	 * the session's own token.
	 * @throws {OriginNotAllowedError} The origin is in neither `allowedOrigins` nor `resources`.
	 * @throws {InsecureTransportError} `http:` to a host that is not loopback.
	 */
	tokenTarget(url: URL): string | undefined;
	/** The token to send a request with (the `resources` API's, when named), applying the refresh mode. */
	tokenForRequest(resource: string | undefined): Promise<Token>;
	/** The token to retry a 401 with, or `undefined` to hand the 401 back. */
	tokenAfter401(used: Token, resource: string | undefined): Promise<Token | undefined>;
	/** Hands the session a change another context made to its record (`OAuth2Client`'s one subscription). */
	storeChanged(record: unknown): void;
	/**
	 * Whether a refresh may change a 401's answer (its challenge blames the token); throws
	 * `StepUpRequiredError`, and `InsufficientScopeError` (401 or 403) when the session says so.
	 */
	refreshMayHelp(response: Response, sent: Token): Promise<boolean>;
	/** A DPoP session's proofs and nonces, loading; `undefined` without the `dpop` option. */
	dpop: Promise<DPoPBinding> | undefined;
}

const registry = new WeakMap<object, SessionInternals>();

export function registerInternals(session: object, internals: SessionInternals): void {
	registry.set(session, internals);
}

export function internalsOf(session: object): SessionInternals {
	const internals = registry.get(session);
	if (internals === undefined) throw new TypeError('Not an OAuth2Session of this package');
	return internals;
}
