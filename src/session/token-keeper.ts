import { OAuth2Error } from '../errors/oauth2-error.js';
import { OAuth2ResponseError } from '../errors/oauth2-response-error.js';
import { ReauthenticationRequiredError } from '../errors/reauthentication-required-error.js';
import { StorageError } from '../errors/storage-error.js';
import { TokenExpiredError } from '../errors/token-expired-error.js';
import { TokenRequestError } from '../errors/token-request-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { TokenUpdated } from '../errors/token-updated.js';
import { type Grant, refreshTokenGrant } from '../protocol/grants.js';
import type { Token } from '../protocol/token.js';
import { decodeStoredRecord, encodeStoredRecord } from '../storage/token-store.js';
import { Emitter, type OAuth2SessionEvents, type TokenSource } from './events.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';
import { scheduleAt } from './timer.js';

/** Sends a token request for a grant; the session supplies it. */
export type ObtainToken = (
	grant: Grant,
	options: { params: Readonly<Record<string, string>>; signal: AbortSignal },
) => Promise<Token>;

/** Why a refresh was asked for. */
export type RefreshReason = 'expired' | 'unauthorized' | 'proactive' | 'manual';

/**
 * One user's place in an `OAuth2Client`. A keeper given one runs no timer (the client turns
 * `proactiveRefresh` off, and there is no refresh token warning) and does not subscribe to its key:
 * the client holds one subscription for all its users and hands changes to `storeChanged`.
 */
export interface KeeperPlace {
	/** The key of the user's record in the store. */
	storeKey: string;
	/** The emitter to emit on, which tells the client too. */
	events: Emitter<OAuth2SessionEvents>;
}

/** Margin the store lock outlives a refresh by, so a slow save still happens under the lock. */
const LOCK_MARGIN = 10_000;

/**
 * Owns the session's token: loads it from the store, decides when it is due, refreshes it one
 * refresh at a time (and under the store's lock, one per expiry across contexts), saves it, and
 * ends the session only when the server says the grant is gone.
 */
export class TokenKeeper {
	readonly events: Emitter<OAuth2SessionEvents>;
	readonly #options: NormalizedOAuth2SessionOptions;
	readonly #obtain: ObtainToken;
	readonly #key: string;
	readonly #background: boolean;
	readonly #ready: Promise<void>;
	/** Set once `#ready` has resolved, so the hot path can skip awaiting it. */
	#loaded = false;
	#token: Token | undefined;
	#inflight: Promise<Token> | undefined;
	#backoffUntil = 0;
	/** Refreshes failed in a row: each doubles the back-off. */
	#failures = 0;
	#lastFailure: OAuth2Error | undefined;
	/** Set while the store could not be read and no token is held: the store may hold one. */
	#readError: StorageError | undefined;
	#cancelTimer: (() => void) | undefined;
	#cancelWarning: (() => void) | undefined;
	/** The access token being written by this context, whose store notification is our own echo. */
	#writing: string | undefined;
	#unsubscribe: (() => void) | undefined;
	#closed = false;

	constructor(
		options: NormalizedOAuth2SessionOptions,
		obtain: ObtainToken,
		initial: Token | undefined,
		place?: KeeperPlace,
	) {
		this.#options = options;
		this.#obtain = obtain;
		this.#key = place?.storeKey ?? options.storeKey;
		this.#background = place === undefined;
		this.events = place?.events ?? new Emitter();
		this.#ready = this.#load(initial).then(() => {
			this.#loaded = true;
		});
	}

	/** Resolves once the store has been read. */
	get ready(): Promise<void> {
		return this.#ready;
	}

	/** The token held now (after `ready`), without any refresh. */
	get token(): Token | undefined {
		return this.#token;
	}

	/**
	 * The token to send a request with when one is at hand and not due, without a promise: what
	 * almost every request gets. `undefined` sends the caller to `tokenForRequest()`.
	 */
	freshToken(): Token | undefined {
		const token = this.#token;
		return this.#loaded && token !== undefined && !this.isDue(token) ? token : undefined;
	}

	/**
	 * The token to send a request with, applying the refresh mode: refreshes a due token (`auto`),
	 * throws `TokenUpdated` after refreshing (`raise-updated`) or `TokenExpiredError` (`manual`).
	 * A due token that is still valid is served when a refresh cannot happen now.
	 */
	async tokenForRequest(): Promise<Token> {
		await this.#ready;
		let token = this.#token;
		if (token === undefined) {
			if (this.#options.grant !== undefined && this.#options.refresh === 'auto') {
				return this.refresh(undefined, 'expired');
			}
			await this.#recover();
			token = this.#token;
		}
		if (token === undefined) {
			throw new ReauthenticationRequiredError(
				'The session has no token and no grant to get one: sign in with fetchToken() or setToken(), or with `oauth2-session login` into the same store',
			);
		}
		if (!this.isDue(token)) return token;
		if (this.#options.refresh === 'manual') throw new TokenExpiredError(token.expiresAt);
		const stillValid = !token.isExpired();
		if (stillValid && (Date.now() < this.#backoffUntil || !this.#canRenew(token))) return token;
		let next: Token;
		let timer: ReturnType<typeof setTimeout> | undefined;
		try {
			const run = this.refresh(token, 'expired');
			// A token that still works is not held behind a slow or failing endpoint for long.
			next = await (stillValid
				? Promise.race([
						run,
						new Promise<Token>((resolve) => {
							timer = setTimeout(resolve, this.#options.refreshWait, token);
						}),
					])
				: run);
		} catch (error) {
			// A blip while the token still works must not fail the request.
			if (stillValid && !(error instanceof ReauthenticationRequiredError)) return token;
			throw error;
		} finally {
			clearTimeout(timer);
		}
		if (next === token) return token;
		if (this.#options.refresh === 'raise-updated') throw new TokenUpdated(next);
		return next;
	}

	/**
	 * Gets a new token. Callers that ask while a refresh is under way share it; a caller whose
	 * `stale` token was already replaced gets the replacement without another refresh.
	 */
	async refresh(stale: Token | undefined, reason: RefreshReason): Promise<Token> {
		await this.#ready;
		await this.#recover();
		const current = this.#token;
		if (
			reason !== 'manual' &&
			stale !== undefined &&
			current !== undefined &&
			current.accessToken !== stale.accessToken &&
			!this.isDue(current)
		) {
			return current;
		}
		if (this.#inflight !== undefined) return this.#inflight;
		// Without this, every request on an expired token would ask again a server that just said no.
		if (reason !== 'manual' && reason !== 'proactive' && Date.now() < this.#backoffUntil) {
			throw new TokenRequestError(
				`The last refresh failed; the next try is at ${new Date(this.#backoffUntil).toISOString()}`,
				{ reason: 'backoff', attempts: 0, retryAt: this.#backoffUntil },
				{ cause: this.#lastFailure },
			);
		}
		const run = this.#refreshOnce(stale).finally(() => {
			if (this.#inflight === run) this.#inflight = undefined;
		});
		this.#inflight = run;
		return run;
	}

	/** Whether a token is within the leeway of expiring: capped at a quarter of its lifetime. */
	isDue(token: Token, now: number = Date.now()): boolean {
		if (token.expiresAt === undefined) return false;
		return now >= token.expiresAt - this.#leewayFor(token);
	}

	/** Replaces the token (from `setToken` or `fetchToken`), saves it and tells listeners. */
	async replace(token: Token, source: Extract<TokenSource, 'set' | 'fetch'>): Promise<void> {
		await this.#ready;
		this.#backoffUntil = 0;
		await this.#save(token);
		if (source === 'fetch') await this.#notifyUpdater(token);
		this.#accept(token, source);
	}

	/** Forgets the token here and in the store, and tells listeners the session ended. */
	async end(error: ReauthenticationRequiredError): Promise<void> {
		const had = this.#token !== undefined;
		this.#token = undefined;
		this.#cancelTimer?.();
		this.#cancelWarning?.();
		try {
			await this.#options.store.delete(this.#key);
		} catch (cause) {
			this.#storeError(cause, 'delete');
		}
		if (had) this.events.emit('sessionEnded', { error });
	}

	/** Stops the background refresh and store notifications. */
	close(): void {
		this.#closed = true;
		this.#cancelTimer?.();
		this.#cancelWarning?.();
		this.#unsubscribe?.();
	}

	async #load(initial: Token | undefined): Promise<void> {
		const { store } = this.#options;
		// Subscribed before reading, so a write landing between the read and the subscription is
		// not missed.
		if (this.#background && store.subscribe !== undefined) {
			this.#unsubscribe = store.subscribe(this.#key, (record) => this.storeChanged(record));
		}
		let unreadable = false;
		const stored = await this.#read((error) => {
			unreadable = true;
			if (error.problem === 'unavailable') this.#readError = error;
		});
		// A notification may already have brought a token newer than what the read saw.
		if (this.#token === undefined) {
			if (stored !== undefined) {
				this.#token = stored;
			} else if (initial !== undefined) {
				this.#token = initial;
				// An unreadable record is reported, not overwritten: whoever looks finds it as it was.
				if (!unreadable) await this.#save(initial);
			}
		}
		this.#schedule();
	}

	async #refreshOnce(stale: Token | undefined): Promise<Token> {
		const { store, refreshTimeout } = this.#options;
		// Each timeout starts when the refresh can start: a wait for the lock (a killed holder's
		// lock lives out its ttl) must not use up the time the refresh itself is given.
		const timeout = () => AbortSignal.timeout(refreshTimeout);
		if (store.lock === undefined) return this.#refreshFrom(this.#token, timeout(), false);
		let refreshed: Token | undefined;
		try {
			return await store.lock(
				this.#key,
				async () => {
					refreshed = await this.#refreshUnderLock(stale, timeout());
					return refreshed;
				},
				{ ttl: refreshTimeout + LOCK_MARGIN, waitTimeout: refreshTimeout + LOCK_MARGIN },
			);
		} catch (error) {
			// Releasing failed after the work was done: the token is good, only the store is not.
			if (refreshed !== undefined) {
				this.#storeError(error, 'lock');
				return refreshed;
			}
			if (
				!(error instanceof StorageError) ||
				(error.problem !== 'lock-timeout' && error.problem !== 'unavailable')
			) {
				throw error;
			}
			// The holder is stuck or the store is down: refreshing without the lock beats failing
			// every request.
			this.#storeError(error, 'lock');
			return this.#refreshFrom(this.#token, timeout(), false);
		}
	}

	async #refreshUnderLock(stale: Token | undefined, signal: AbortSignal): Promise<Token> {
		// The store is the truth under the lock: another context may have refreshed while we waited
		// (and its notification may already have reached us).
		const latest = (await this.#read()) ?? this.#token;
		if (latest !== undefined && latest.accessToken !== stale?.accessToken && !this.isDue(latest)) {
			if (latest.accessToken !== this.#token?.accessToken) this.#accept(latest, 'store');
			return latest;
		}
		// With rotation, the stored refresh token is the newest; ours may already be spent.
		return this.#refreshFrom(latest, signal, true);
	}

	async #refreshFrom(
		base: Token | undefined,
		signal: AbortSignal,
		locked: boolean,
	): Promise<Token> {
		const grant =
			base?.refreshToken !== undefined
				? refreshTokenGrant({ refreshToken: base.refreshToken })
				: this.#options.grant;
		if (grant === undefined) {
			const error = new ReauthenticationRequiredError(
				'The access token expired and there is no refresh token or grant to get a new one',
			);
			await this.end(error);
			throw error;
		}
		let token: Token;
		try {
			const params = base?.refreshToken !== undefined ? this.#options.refreshParams : {};
			token = await this.#obtain(grant, { params, signal });
		} catch (error) {
			return this.#refreshFailed(error, base, signal, locked, grant);
		}
		token = this.#clampLifetime(keepWhatTheAnswerOmits(token, base, grant));
		await this.#save(token);
		await this.#notifyUpdater(token);
		this.#accept(token, grant.grantType === 'refresh_token' ? 'refresh' : 'fetch');
		return token;
	}

	async #refreshFailed(
		error: unknown,
		base: Token | undefined,
		signal: AbortSignal,
		locked: boolean,
		grant: Grant,
	): Promise<Token> {
		// Only invalid_grant says the grant itself is gone (RFC 6749 §5.2). invalid_client and
		// unauthorized_client are about this client's configuration: ending on them would delete the
		// refresh token of every context sharing the store for a secret that can be fixed.
		if (error instanceof OAuth2ResponseError && error.error === 'invalid_grant') {
			// Another context may have rotated the refresh token under us: without a lock, or with
			// one a failover lost (Redis replicates asynchronously; a promoted replica may lack it).
			const stored = await this.#read();
			if (stored !== undefined && stored.accessToken !== base?.accessToken && !stored.isExpired()) {
				this.#accept(stored, 'store');
				return stored;
			}
			// A daemon's grant (client credentials, JWT bearer) outlives its refresh tokens.
			if (grant.grantType === 'refresh_token' && this.#options.grant !== undefined) {
				return this.#refreshFrom(undefined, signal, locked);
			}
			const ended = new ReauthenticationRequiredError(
				`The authorization server refused the refresh (${error.error})`,
				{ cause: error },
			);
			await this.end(ended);
			throw ended;
		}
		const failure =
			error instanceof OAuth2Error
				? error
				: new OAuth2Error('The refresh failed', 'TOKEN_REQUEST_FAILED', { cause: error });
		const { refreshBackoff } = this.#options;
		this.#failures++;
		this.#lastFailure = failure;
		this.#backoffUntil =
			Date.now() + Math.min(refreshBackoff * 2 ** (this.#failures - 1), refreshBackoff * 64);
		this.events.emit('refreshFailed', { error: failure, retryAt: this.#backoffUntil });
		this.#schedule(this.#backoffUntil);
		throw failure;
	}

	/**
	 * A new token already due (`expires_in` of -1 or 0.001) would be refreshed again at once, by
	 * every request and the background timer: a refresh storm. It is kept a little instead; saved
	 * so, it also holds off the other contexts sharing the store.
	 */
	#clampLifetime(token: Token): Token {
		const now = Date.now();
		const floor = this.#options.minRefreshInterval;
		if (token.expiresAt === undefined || !this.isDue(token, now + floor)) return token;
		// Twice the floor: with the quarter-lifetime leeway and its jitter, due after the floor.
		const expiresAt = now + 2 * floor;
		this.events.emit('tokenLifetimeClamped', {
			error: new TokenResponseError(
				'The token endpoint answered an expires_in below minRefreshInterval; the token is kept longer',
				{ problem: 'invalid-field' },
			),
			expiresAt,
		});
		return token.with({ issuedAt: now, expiresAt });
	}

	#accept(token: Token, source: TokenSource): void {
		const previous = this.#token;
		this.#token = token;
		this.#backoffUntil = 0;
		this.#failures = 0;
		this.events.emit('tokenUpdated', {
			token,
			previous,
			source,
			scopeChanged: scopeChange(previous, token),
		});
		this.#schedule();
	}

	/** Takes a change another context made to the record: a newer token, or the end (`undefined`). */
	storeChanged(record: unknown): void {
		if (this.#closed) return;
		if (record === undefined) {
			// Another context ended the session (or logged out): its refresh token was ours too.
			if (this.#token !== undefined && this.#inflight === undefined) {
				void this.end(
					new ReauthenticationRequiredError('The session was ended in another context'),
				);
			}
			return;
		}
		let stored: Token;
		try {
			stored = decodeStoredRecord(record, this.#key).token;
		} catch (error) {
			this.#storeError(error, 'notify');
			return;
		}
		if (stored.accessToken !== this.#token?.accessToken && stored.accessToken !== this.#writing) {
			this.#accept(stored, 'store');
		}
	}

	#schedule(at?: number): void {
		if (at === undefined) this.#scheduleRefreshTokenWarning();
		this.#cancelTimer?.();
		this.#cancelTimer = undefined;
		const token = this.#token;
		if (
			this.#closed ||
			!this.#options.proactiveRefresh ||
			this.#options.refresh !== 'auto' ||
			token?.expiresAt === undefined ||
			!this.#canRenew(token)
		) {
			return;
		}
		const leeway = this.#leewayFor(token);
		// Jitter spreads the refreshes of contexts sharing a token, so one takes the lock first and
		// the rest adopt its token instead of queueing behind it.
		const due = at ?? token.expiresAt - leeway - Math.random() * (leeway / 2);
		if (at !== undefined && at >= token.expiresAt) return;
		this.#cancelTimer = scheduleAt(due, () => {
			if (this.#token !== token) return;
			this.refresh(token, 'proactive').catch(() => {
				// Reported through refreshFailed or sessionEnded; a request will try again.
			});
		});
	}

	/**
	 * Warns ahead of the refresh token's own expiry (Keycloak, GitHub Apps): a quarter of its
	 * lifetime ahead, at most `refreshTokenWarning`, so the app can ask for a new login in time.
	 */
	#scheduleRefreshTokenWarning(): void {
		this.#cancelWarning?.();
		this.#cancelWarning = undefined;
		const token = this.#token;
		const expiresAt = token?.refreshTokenExpiresAt;
		if (this.#closed || !this.#background || token === undefined || expiresAt === undefined) {
			return;
		}
		const lifetime = token.issuedAt === undefined ? undefined : expiresAt - token.issuedAt;
		const ahead = Math.min(
			this.#options.refreshTokenWarning,
			lifetime === undefined ? Infinity : lifetime / 4,
		);
		this.#cancelWarning = scheduleAt(expiresAt - ahead, () => {
			if (this.#token?.refreshToken === token.refreshToken) {
				this.events.emit('refreshTokenExpiring', { token, expiresAt });
			}
		});
	}

	#leewayFor(token: Token): number {
		const lifetime = token.lifetime;
		return lifetime === undefined || lifetime <= 0
			? this.#options.leeway
			: Math.min(this.#options.leeway, lifetime / 4);
	}

	#canRenew(token: Token): boolean {
		return token.refreshToken !== undefined || this.#options.grant !== undefined;
	}

	async #read(onError?: (error: StorageError) => void): Promise<Token | undefined> {
		const { store } = this.#options;
		try {
			const record = await store.get(this.#key);
			return record === undefined ? undefined : decodeStoredRecord(record, this.#key).token;
		} catch (error) {
			onError?.(this.#storeError(error, 'get'));
			return undefined;
		}
	}

	/**
	 * Reads the store again when it could not be read at start and no token came since: an empty
	 * session must not say "sign in again", nor end and delete a record it could not see. Throws
	 * the `StorageError` while the store stays down, unless the session's grant can do without it.
	 */
	async #recover(): Promise<void> {
		if (this.#readError === undefined || this.#token !== undefined) return;
		let failure: StorageError | undefined;
		const stored = await this.#read((error) => {
			failure = error;
		});
		if (failure?.problem === 'unavailable') {
			this.#readError = failure;
			if (this.#options.grant === undefined) throw failure;
			return;
		}
		this.#readError = undefined;
		if (stored !== undefined && this.#token === undefined) this.#accept(stored, 'store');
	}

	async #save(token: Token): Promise<void> {
		this.#writing = token.accessToken;
		try {
			await this.#options.store.set(this.#key, encodeStoredRecord(token));
		} catch (error) {
			this.#storeError(error, 'set');
		} finally {
			this.#writing = undefined;
		}
	}

	async #notifyUpdater(token: Token): Promise<void> {
		if (this.#options.onTokenUpdated === undefined) return;
		try {
			await this.#options.onTokenUpdated(token, this.#key);
		} catch (error) {
			this.#storeError(error, 'onTokenUpdated');
		}
	}

	#storeError(
		error: unknown,
		operation: OAuth2SessionEvents['storeError']['operation'],
	): StorageError {
		const storageError =
			error instanceof StorageError
				? error
				: new StorageError(
						`The token store failed (${operation})`,
						{
							problem: 'unavailable',
							key: this.#key,
						},
						{ cause: error },
					);
		this.events.emit('storeError', { error: storageError, operation });
		return storageError;
	}
}

/**
 * RFC 6749 §6: a refresh answer without a refresh token keeps the old one (no rotation), and
 * §5.1: one without a scope keeps the scope it had.
 */
function keepWhatTheAnswerOmits(token: Token, base: Token | undefined, grant: Grant): Token {
	if (base === undefined || grant.grantType !== 'refresh_token') return token;
	return token.with({
		refreshToken: token.refreshToken ?? base.refreshToken,
		refreshTokenExpiresAt:
			token.refreshToken === undefined ? base.refreshTokenExpiresAt : token.refreshTokenExpiresAt,
		scope: token.scope ?? base.scope,
	});
}

function scopeChange(
	previous: Token | undefined,
	current: Token,
): OAuth2SessionEvents['tokenUpdated']['scopeChanged'] {
	if (previous?.scope === undefined || current.scope === undefined) return undefined;
	const before = [...previous.scope].sort();
	const after = [...current.scope].sort();
	if (before.length === after.length && before.every((scope, i) => scope === after[i]))
		return undefined;
	return { previous: previous.scope, current: current.scope };
}
