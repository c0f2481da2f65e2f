import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { OriginNotAllowedError } from '../errors/origin-not-allowed-error.js';
import { ReauthenticationRequiredError } from '../errors/reauthentication-required-error.js';
import type { AuthorizationRequest } from '../protocol/authorization-url.js';
import type { Grant } from '../protocol/grants.js';
import type { Params } from '../protocol/params.js';
import type { Token } from '../protocol/token.js';
import { type TokenInput, toToken } from '../protocol/token-record.js';
import { assertSecureTransport } from '../utils/secure-transport.js';
import { whileNotAborted } from '../utils/while-not-aborted.js';
import type {
	AuthorizationResponseOptions,
	ImplicitResponseOptions,
	SessionAuthorizationUrlOptions,
} from './authorization.js';
import type { DeviceWaitOptions } from './device-wait.js';
import type { DPoPBinding } from './dpop.js';
import type { OAuth2SessionEvents, OAuth2SessionListener } from './events.js';
import { registerInternals } from './internals.js';
import {
	type NormalizedOAuth2SessionOptions,
	normalizeOptions,
	type OAuth2SessionOptions,
} from './options.js';
import { requestToken } from './request-token.js';
import {
	applyProtectedRequestHooks,
	firstAnswer,
	followRedirects,
	prepareRequest,
} from './send.js';
import { type UserSetup, userSetup } from './session-setup.js';
import { TokenKeeper } from './token-keeper.js';

export type {
	AuthorizationResponseOptions,
	ImplicitResponseOptions,
	SessionAuthorizationUrlOptions,
} from './authorization.js';

/** What `session.fetchToken()` exchanges for a token. */
export type FetchTokenOptions =
	| {
			/** Any grant: `passwordGrant(...)`, `clientCredentialsGrant()`, `tokenExchangeGrant(...)`... */
			grant: Grant;
			/** Extra token request parameters, such as `resource`; they replace the grant's own. */
			params?: Params;
			/** Aborts the request (and its retries). */
			signal?: AbortSignal;
	  }
	| AuthorizationResponseOptions
	| ImplicitResponseOptions
	/** The device authorization grant: waits for the user's approval, each poll a session request. */
	| DeviceWaitOptions
	| {
			/** An authorization code you read from the callback yourself (state already checked). */
			code: string;
			/**
			 * The PKCE verifier of the authorization request; leave it out when that used no PKCE.
			 * Unlike with `authorizationResponse`, the session's last one is not used by default.
			 */
			codeVerifier?: string | undefined;
			/** @default the session's `redirectUri` */
			redirectUri?: string | undefined;
			/** Extra token request parameters, such as `resource`; they replace the grant's own. */
			params?: Params;
			/** Aborts the request (and its retries). */
			signal?: AbortSignal;
	  };

/**
 * An OAuth 2 session: a `fetch` that attaches the access token (only to allowed origins), knows when
 * it expires and refreshes it, one refresh at a time, in one of requests-oauthlib's three modes.
 *
 * @example
 * ```ts
 * const session = new OAuth2Session({
 *   clientId: 'app', clientSecret: 's3cret',
 *   tokenEndpoint: 'https://auth.example.com/token',
 *   token: savedToken,
 *   allowedOrigins: ['https://api.example.com'],
 * });
 * const res = await session.fetch('https://api.example.com/me');
 * ```
 */
export class OAuth2Session {
	readonly #options: NormalizedOAuth2SessionOptions;
	readonly #keeper: TokenKeeper;
	#pending: AuthorizationRequest | undefined;
	/**
	 * The states callbacks were read with: each is good for one, whatever comes of it. Made on
	 * first use: most sessions of an `OAuth2Client` only call APIs.
	 */
	#spentStates: Set<string> | undefined;
	/** The access token a 401 refreshed to, until an answer other than 401 shows it works. */
	#unproven: string | undefined;
	/** A DPoP session's key and nonce holder, loaded on construction: other sessions never load it. */
	readonly #dpop: Promise<DPoPBinding> | undefined;

	constructor(options: OAuth2SessionOptions) {
		// An OAuth2Client's user: the options were normalised once, for every user of the client.
		const user = (options as { [userSetup]?: UserSetup })[userSetup];
		this.#options = user?.options ?? normalizeOptions(options);
		const initial = options.token === undefined ? undefined : toToken(options.token);
		const { dpop, store } = this.#options;
		// Loaded only by DPoP sessions; the keeper reads the store once it is there.
		this.#dpop =
			dpop &&
			import('./dpop.js').then(
				async ({ DPoPBinding }) =>
					new DPoPBinding({
						...dpop,
						keepsCryptoKeys: store.keepsCryptoKeys === true,
						nonces: await user?.dpopNonces,
					}),
			);
		this.#keeper = new TokenKeeper(
			this.#options,
			(grant, { params, signal, base }) => this.#requestToken(grant, params, signal, base),
			initial,
			user?.place,
			this.#dpop,
		);
		registerInternals(this, {
			storeChanged: (record) => this.#keeper.storeChanged(record),
			tokenTarget: (url) => this.#tokenTarget(url),
			tokenForRequest: (resource) => this.#keeper.tokenForRequest(resource),
			tokenAfter401: (used, resource) => this.#tokenAfter401(used, resource),
			refreshMayHelp: (response, sent) => this.#refreshMayHelp(response, sent),
			dpop: this.#dpop,
		});
	}

	/** The token the session holds now, or `undefined`. Read after `await session.ready`. */
	get token(): Token | undefined {
		return this.#keeper.token;
	}

	/**
	 * The token to use now, refreshed first if it is due (following the refresh mode), for callers
	 * that attach it themselves (a WebSocket, a gRPC channel). With `resource`, an origin of the
	 * `resources` option, that API's token.
	 * @throws {InvalidOptionsError} `resource` is not an origin of the `resources` option.
	 */
	getToken(options?: {
		/** An origin (or a URL on it) of the `resources` option. @default the session's own token */
		resource?: string | URL | undefined;
	}): Promise<Token> {
		if (options?.resource === undefined) return this.#keeper.tokenForRequest();
		const { origin } = new URL(options.resource);
		if (!this.#options.resources.has(origin)) {
			return Promise.reject(new InvalidOptionsError(`${origin} is not one of the resources`));
		}
		return this.#keeper.tokenForRequest(origin);
	}

	/** Resolves once the session has read its store. */
	get ready(): Promise<void> {
		return this.#keeper.ready;
	}

	/**
	 * `fetch` with the access token attached. Bound, with fetch's exact signature, so it can be
	 * handed to any library that takes a fetch.
	 *
	 * A 401 whose challenge blames the token (`invalid_token`, or no error code) refreshes the
	 * token and retries once, unless the token already changed, in which case it retries with the
	 * new one at once. A 401 with another error code (`insufficient_scope`, `invalid_request`) is
	 * handed back without a refresh: a new token would meet the same answer. The token a 401
	 * refreshed to is not refreshed again by a 401 for `unauthorizedRefreshInterval`, unless an
	 * answer other than 401 showed it works: its 401 is handed back.
	 *
	 * @throws {OriginNotAllowedError} The URL's origin is not in `allowedOrigins`.
	 * @throws {InsecureTransportError} `http:` to a host that is not loopback.
	 * @throws {TokenExpiredError} In `manual` mode, when the token has expired.
	 * @throws {TokenUpdated} In `raise-updated` mode, after a refresh; the request was not sent.
	 * @throws {ReauthenticationRequiredError} The session has ended; sign in again.
	 * @throws {StepUpRequiredError} A 401 `insufficient_user_authentication` (RFC 9470): sign in
	 *   again with `authorizationUrl({ stepUp: error })`. Nothing was refreshed.
	 * @throws {InsufficientScopeError} A 401 or 403 `insufficient_scope`, with the
	 *   `insufficientScope: 'throw'` option.
	 */
	readonly fetch: typeof fetch = async (input, init) => {
		let prepared = prepareRequest(input, init, this.#options.baseUrl);
		if (prepared instanceof Promise) prepared = await prepared;
		const hooks = this.#options.profile?.hooks?.protectedRequest;
		if (hooks?.length) {
			prepared = await applyProtectedRequestHooks(prepared, hooks);
		}
		const resource = this.#tokenTarget(prepared.url);
		// A caller that already gave up must not start a refresh on its way out.
		prepared.init.signal?.throwIfAborted();
		let token =
			this.#keeper.freshToken(resource) ??
			(await whileNotAborted(this.#keeper.tokenForRequest(resource), prepared.init.signal));
		let retried = false;
		let nonceRetried = false;
		for (;;) {
			// prepared.init.headers is the session's own copy of the caller's headers.
			prepared.init.headers.set('authorization', token.authorization);
			const proved = this.#dpop !== undefined && token.tokenType === 'DPoP';
			const sent = proved
				? await (await (this.#dpop as Promise<DPoPBinding>)).sendProved(
						prepared,
						token,
						this.#options.fetch,
					)
				: undefined;
			// Without DPoP, the first hop is sent here, not in a helper: one promise turn less.
			const first = sent?.response ?? (await this.#options.fetch(prepared.url, prepared.init));
			const { response, tokenSent } =
				firstAnswer(prepared, first) ??
				(await followRedirects(
					this.#options.fetch,
					prepared,
					first,
					resource === undefined ? this.#mayCarryToken : (url) => url.origin === resource,
				));
			// A nonce the server asks for is sent at once, once, and does not use up the 401 retry.
			if (
				proved &&
				tokenSent &&
				(await this.#dpop)?.retryWithNonce(prepared.url, response, {
					sent: sent?.nonce,
					retried: nonceRetried,
					replayable: prepared.replayable,
				})
			) {
				nonceRetried = true;
				await response.body?.cancel();
				continue;
			}
			if (response.status !== 401) {
				// The token works: a later 401 means it was revoked, and a refresh may help.
				this.#unproven = undefined;
				if (response.status === 403 && tokenSent) await this.#refreshMayHelp(response, token);
				return response;
			}
			// A 401 from where a redirect took the request without the token says nothing of it.
			if (!tokenSent || !(await this.#refreshMayHelp(response, token))) return response;
			if (retried || !prepared.replayable) return response;
			const retryWith = await whileNotAborted(
				this.#tokenAfter401(token, resource),
				prepared.init.signal,
			);
			if (retryWith === undefined) return response;
			await response.body?.cancel();
			token = retryWith;
			retried = true;
		}
	};

	/**
	 * The RFC 7638 thumbprint of the DPoP key: the one the current token is bound to, or the one
	 * the next token will be asked with (made now if there is none yet, and stored under the
	 * session's `storeKey` first, so every context sharing the store uses it). `undefined` without
	 * the `dpop` option.
	 *
	 * @throws {DPoPError} The stored token's key is missing or does not match it.
	 */
	async dpopThumbprint(): Promise<string | undefined> {
		if (this.#dpop === undefined) return undefined;
		const binding = await this.#dpop;
		await this.#keeper.ready;
		return binding.thumbprint(this.#keeper.token);
	}

	/**
	 * Builds the authorization URL (PKCE S256 by default) and remembers its state and verifier for
	 * `fetchToken({ authorizationResponse })`. Keep them yourself if the callback may reach
	 * another session instance (a web server's next request). With `dpop`, the key the code is
	 * bound to is in the store before this resolves: an instance sharing the store signs with it.
	 */
	async authorizationUrl(
		options: SessionAuthorizationUrlOptions = {},
	): Promise<AuthorizationRequest> {
		const { sessionAuthorizationUrl } = await import('./authorization.js');
		const request =
			this.#dpop === undefined
				? await sessionAuthorizationUrl(this.#options, options)
				: // The key of a stored token is the one the code must be bound to: read it first.
					await this.#keeper.ready.then(async () =>
						(await (this.#dpop as Promise<DPoPBinding>)).push((hooks) =>
							sessionAuthorizationUrl(this.#options, options, hooks),
						),
					);
		this.#pending = request;
		return request;
	}

	/**
	 * Gets a token from the token endpoint: from an authorization callback, a code, any grant
	 * (`fetchToken()` alone uses the `grant` option), or a device authorization the user approves
	 * (RFC 8628: polled as `waitForDeviceToken` does, each poll with the session's client
	 * authentication, profile, retries and DPoP proofs). The token is saved and becomes the session's.
	 *
	 * @example
	 * const authorization = await startDeviceAuthorization({ deviceAuthorizationEndpoint, clientAuthentication });
	 * console.error(`Open ${authorization.verificationUri} and enter ${authorization.userCode}`);
	 * await session.fetchToken({ deviceAuthorization: authorization, signal: AbortSignal.timeout(600_000) });
	 *
	 * @throws {OAuth2ResponseError} The server's refusal (`invalid_grant`...); for a device
	 *   authorization `access_denied`, or `expired_token` (with no `status` when the code expires
	 *   before the next poll could be sent).
	 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
	 * @throws {DPoPError} With `dpop`, a Bearer token (`bearer-downgrade`) or one bound to another key.
	 * @throws {InvalidOptionsError} No grant to use, or a device authorization without a positive
	 *   interval and a finite expiresAt.
	 * Rejects with the signal's reason when it aborts, at once, whether sleeping or polling.
	 */
	async fetchToken(options?: FetchTokenOptions): Promise<Token> {
		// Loaded on first use, as sign-in is: a page that only calls APIs never fetches a token.
		const { fetchSessionToken } = await import('./fetch-token.js');
		this.#spentStates ??= new Set();
		const token = await fetchSessionToken(
			{
				options: this.#options,
				pending: () => this.#pending,
				spentStates: this.#spentStates,
				requestToken: (grant, params, signal) => this.#requestToken(grant, params, signal),
			},
			options,
		);
		await this.#keeper.replace(token, 'fetch');
		this.#pending = undefined;
		return token;
	}

	/**
	 * Refreshes the token now (what `manual` mode callers do after `TokenExpiredError`). Shares a
	 * refresh already under way; under a store with a lock, adopts a newer token found there.
	 */
	async refreshToken(): Promise<Token> {
		// Read before the store answered, the token to replace would be none, and the one loaded
		// would pass for a newer one found in the store.
		await this.#keeper.ready;
		return this.#keeper.refresh(this.#keeper.token, 'manual');
	}

	/**
	 * Signs out: revokes the refresh token (or the access token when there is none) at the
	 * `revocationEndpoint`, if the session has one, then forgets the token here and in the store
	 * (other contexts sharing the store end too) and emits `sessionEnded`.
	 *
	 * @throws The revocation's error, after the token was forgotten locally: the server may still
	 *   honour the token until it expires.
	 */
	async logout(): Promise<void> {
		await this.#keeper.ready;
		const token = this.#keeper.token;
		const endpoint = this.#options.revocationEndpoint;
		let failure: unknown;
		if (token !== undefined && endpoint !== undefined) {
			try {
				// Loaded on first use, as sign-in is: a page that only calls APIs never logs out.
				const { revokeSessionToken } = await import('./revoke.js');
				await revokeSessionToken(this.#options, endpoint, token);
			} catch (error) {
				failure = error;
			}
		}
		await this.#keeper.end(new ReauthenticationRequiredError('The session was logged out'));
		if (failure !== undefined) throw failure;
	}

	/** Replaces the token (after a login, or with a token saved from `TokenUpdated`) and saves it. */
	async setToken(token: TokenInput): Promise<void> {
		await this.#keeper.replace(toToken(token), 'set');
	}

	/**
	 * Listens to an event: `tokenUpdated`, `refreshFailed`, `refreshTokenExpiring`, `sessionEnded`,
	 * `storeError`, and the telemetry of `refreshStarted`, `refreshFinished` and `lockWaited`.
	 * Returns a function that removes the listener.
	 */
	on<E extends keyof OAuth2SessionEvents>(name: E, listener: OAuth2SessionListener<E>): () => void {
		return this.#keeper.events.on(name, listener);
	}

	/** Removes a listener. */
	off<E extends keyof OAuth2SessionEvents>(name: E, listener: OAuth2SessionListener<E>): void {
		this.#keeper.events.off(name, listener);
	}

	/**
	 * Stops background work: the proactive refresh timer and store notifications. The session still
	 * answers calls (refreshing on demand); the store you passed is yours to close.
	 */
	close(): void {
		this.#keeper.close();
	}

	/**
	 * Whether a refresh may change a refusal's answer, read from its challenge; throws the typed
	 * errors of the causes the caller must act on (step-up, and scope when asked to).
	 */
	async #refreshMayHelp(response: Response, sent: Token): Promise<boolean> {
		const { refreshMayHelp } = await import('./unauthorized.js');
		return refreshMayHelp(response, sent.authorization, this.#options.insufficientScope);
	}

	/** The token to retry a 401 with, or `undefined` to hand the 401 back. */
	async #tokenAfter401(used: Token, resource?: string): Promise<Token | undefined> {
		await this.#keeper.ready;
		const current =
			resource === undefined ? this.#keeper.token : this.#keeper.resourceToken(resource);
		// Refreshed while this request was in flight: the new token has not been tried yet, unless
		// it is due itself (adopted late from another context), which the refresh mode then handles.
		// Or ended: `undefined` hands the 401 back.
		if (current?.accessToken !== used.accessToken) {
			if (current === undefined) return undefined;
			return this.#keeper.freshToken(resource) ?? this.#keeper.tokenForRequest(resource);
		}
		if (
			this.#options.refresh === 'manual' ||
			// What the last 401 refreshed to is refused as well: the next one would be too.
			(current.accessToken === this.#unproven &&
				Date.now() < (current.issuedAt ?? 0) + this.#options.unauthorizedRefreshInterval)
		) {
			return undefined;
		}
		const next = await this.#keeper.refresh(current, 'unauthorized', resource);
		this.#unproven = next.accessToken;
		if (this.#options.refresh === 'raise-updated') {
			// Loaded when thrown: an `auto` session never throws it.
			const { TokenUpdated } = await import('../errors/token-updated.js');
			throw new TokenUpdated(next);
		}
		return next;
	}

	async #requestToken(
		grant: Grant,
		params: Params,
		signal: AbortSignal | undefined,
		base?: Token,
	): Promise<Token> {
		const { tokenEndpoint, profile } = this.#options;
		if (tokenEndpoint === undefined) {
			throw new InvalidOptionsError('Getting a token needs the tokenEndpoint option');
		}
		const dpop = this.#dpop === undefined ? undefined : await (await this.#dpop).tokenRequest(base);
		const token = await requestToken({
			tokenEndpoint,
			grant,
			clientAuthentication: this.#options.clientAuthentication,
			params: { ...params },
			fetch: this.#options.fetch,
			retry: this.#options.retry,
			allowInsecure: this.#options.allowInsecure,
			maxResponseSize: this.#options.maxResponseSize,
			decoder: this.#options.decoder,
			...(profile === undefined ? {} : { profile }),
			...(signal === undefined ? {} : { signal }),
			...(dpop === undefined ? {} : { dpop: dpop.proofs }),
		});
		return dpop === undefined ? token : dpop.issued(token);
	}

	// A bound field, not a method: it is handed to followRedirects and the ky hooks as it is.
	readonly #mayCarryToken = (url: URL): boolean => this.#options.tokenOrigins.has(url.origin);

	/** The `resources` API `url` goes to, if any; throws for a URL no token of ours may go to. */
	#tokenTarget(url: URL): string | undefined {
		// A `resources` API gets its own token, which no other origin may see.
		if (!this.#options.resources.has(url.origin)) {
			this.#assertMayCarryToken(url);
			return undefined;
		}
		assertSecureTransport(url, this.#options.allowInsecure);
		return url.origin;
	}

	#assertMayCarryToken(url: URL): void {
		const origin = url.origin;
		if (this.#options.tokenOrigins.has(origin)) return;
		if (!this.#options.allowedOrigins.has(origin)) throw new OriginNotAllowedError(origin);
		assertSecureTransport(url, this.#options.allowInsecure);
	}
}
