import { OAuth2Error } from '../errors/oauth2-error.js';
import { ReauthenticationRequiredError } from '../errors/reauthentication-required-error.js';
import { StorageError } from '../errors/storage-error.js';
import { TokenRequestError } from '../errors/token-request-error.js';
import { TokenResponseError } from '../errors/token-response-error.js';
import { type Grant, refreshTokenGrant } from '../protocol/grants.js';
import type { Params } from '../protocol/params.js';
import type { Token } from '../protocol/token.js';
import {
	type DecodedStoredRecord,
	decodeStoredRecord,
	encodeStoredRecord,
	type LockOptions,
	type StoredDPoPKey,
	type StoredRecord,
} from '../storage/token-store.js';
import type { KeyHome } from './dpop.js';
import {
	Emitter,
	type OAuth2SessionEvents,
	type RefreshReason,
	type TokenSource,
} from './events.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';
import type { ResourceTokens } from './resource-tokens.js';
import type * as Telemetry from './telemetry.js';
import { scheduleAt } from './timer.js';
import type { UnsavedToken } from './unsaved-token.js';

/** Sends a token request for a grant; the session supplies it. */
export type ObtainToken = (
	grant: Grant,
	options: {
		params: Params;
		signal: AbortSignal;
		/** The token being refreshed, when the grant is its refresh token. */
		base?: Token | undefined;
	},
) => Promise<Token>;

export type { RefreshReason };

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

/** What a DPoP session's keeper stores with each token and reads back: the token's key. */
export interface TokenKeys {
	/** The key entry to store with `token`, once known. */
	entryFor(token: Token): StoredDPoPKey | undefined;
	/** Takes note of the key entry (or none) a token was read or given with. */
	attach(token: Token, entry: StoredDPoPKey | undefined): void;
	/** Forgets every key: the session ended, and its key with its token. */
	forget(): void;
	/** Where to store a key made before any token, before using it. */
	keepIn(home: KeyHome): void;
	/** Takes the key of a record that holds no token (made for a sign-in, here or elsewhere). */
	adopt(entry: StoredDPoPKey): void;
	/** Makes (and stores) the key new tokens are asked with, if there is none yet. */
	settle(): Promise<void>;
}

/** A record read from the store with a token: checked, but for the `resources` entries. */
type DecodedRecord = Extract<DecodedStoredRecord, { token: Token }> & {
	resources?: StoredRecord['resources'] | undefined;
};

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
	#keys: TokenKeys | undefined;
	readonly #ready: Promise<void>;
	/** Set once `#ready` has resolved, so the hot path can skip awaiting it. */
	#loaded = false;
	#token: Token | undefined;
	#inflight: Promise<Token> | undefined;
	/** The tokens of the `resources` APIs, when the session has any. */
	#apis: ResourceTokens | undefined;
	#backoffUntil = 0;
	/** Refreshes failed in a row: each doubles the back-off. */
	#failures = 0;
	#lastFailure: OAuth2Error | undefined;
	/** Set while the store could not be read and no token is held: the store may hold one. */
	#readError: StorageError | undefined;
	#cancelTimer: (() => void) | undefined;
	#cancelWarning: (() => void) | undefined;
	/**
	 * The last access tokens this context replaced or ended. A store notification can arrive after
	 * the context moved on (a watcher read the record first); one carrying such a token is stale.
	 */
	readonly #retired: string[] = [];
	/** The access token being written by this context, whose store notification is our own echo. */
	#writing: string | undefined;
	#unsubscribe: (() => void) | undefined;
	#closed = false;
	/** Saves a token the store could not take while unavailable: loaded on the first such save. */
	#unsaved: Promise<UnsavedToken | undefined> | undefined;
	/** `#unsaved` once loaded, for the hot path. */
	#unsavedLoaded: UnsavedToken | undefined;
	/** Counts what makes a token waiting to be saved moot (a save, an end), even while loading. */
	#unsavedMoot = 0;
	/**
	 * The access token the store held when this context last read or wrote it (`undefined`: none):
	 * what a save the store could not take replaces, checked when it is replayed.
	 */
	#stored: string | undefined;
	/** Tokens got from the server, by API: telemetry tells a refresh from an adopted token by it. */
	readonly #obtained = new Map<string | undefined, number>();
	/** Loaded at the first refresh: a page whose token never expires does not carry it. */
	#telemetry: typeof Telemetry | undefined;

	constructor(
		options: NormalizedOAuth2SessionOptions,
		obtain: ObtainToken,
		initial: Token | undefined,
		place?: KeeperPlace,
		keys?: Promise<TokenKeys>,
	) {
		this.#options = options;
		this.#obtain = obtain;
		this.#key = place?.storeKey ?? options.storeKey;
		this.#background = place === undefined;
		this.events = place?.events ?? new Emitter();
		this.#ready = this.#load(initial, keys).then(() => {
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
	freshToken(resource?: string): Token | undefined {
		void this.#unsavedLoaded?.save();
		const token = resource === undefined ? this.#token : this.#apis?.tokens.get(resource);
		return this.#loaded && token !== undefined && !this.isDue(token) ? token : undefined;
	}

	/**
	 * The token to send a request with, applying the refresh mode: refreshes a due token (`auto`),
	 * throws `TokenUpdated` after refreshing (`raise-updated`) or `TokenExpiredError` (`manual`).
	 * A due token that is still valid is served when a refresh cannot happen now.
	 */
	async tokenForRequest(resource?: string): Promise<Token> {
		await this.#ready;
		void this.#unsavedLoaded?.save();
		if (this.#apis !== undefined && resource !== undefined) {
			return this.#apis.forRequest(this, resource, this.#options.refresh);
		}
		let token = this.#token;
		if (token === undefined) {
			if (this.#options.grant !== undefined && this.#options.refresh === 'auto') {
				return this.refresh(undefined, 'expired');
			}
			await this.#recover();
			token = this.#token;
		}
		if (token === undefined && this.#readError === undefined) {
			// A store's notification can be missed (its subscription still starting): another context
			// may have signed in since this one read the store.
			const stored = await this.#read();
			if (stored !== undefined && this.#token === undefined) this.#accept(stored, 'store');
			token = this.#token;
		}
		if (token === undefined) {
			throw new ReauthenticationRequiredError(
				'The session has no token and no grant to get one: sign in with fetchToken() or setToken(), or with `oauth2-session login` into the same store',
			);
		}
		if (!this.isDue(token)) return token;
		if (this.#options.refresh === 'manual') {
			// The errors of the other refresh modes load when thrown: an `auto` session never does.
			const { TokenExpiredError } = await import('../errors/token-expired-error.js');
			throw new TokenExpiredError(token.expiresAt);
		}
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
		if (this.#options.refresh === 'raise-updated') {
			const { TokenUpdated } = await import('../errors/token-updated.js');
			throw new TokenUpdated(next);
		}
		return next;
	}

	/** The token of a `resources` API held now, without any refresh. */
	resourceToken(resource: string): Token | undefined {
		return this.#apis?.tokens.get(resource);
	}

	/**
	 * Gets a new token (of the `resources` API at `resource`, when given). Callers that ask while a
	 * refresh is under way share it; a caller whose `stale` token was already replaced gets the
	 * replacement without another refresh.
	 */
	async refresh(
		stale: Token | undefined,
		reason: RefreshReason,
		resource?: string,
	): Promise<Token> {
		await this.#ready;
		await this.#recover();
		// A `resources` API's token, when the session has that API; else the session's own.
		const apis = resource === undefined ? undefined : this.#apis;
		const api = apis === undefined ? undefined : resource;
		const current = api === undefined ? this.#token : apis?.tokens.get(api);
		if (
			reason !== 'manual' &&
			stale !== undefined &&
			current !== undefined &&
			current.accessToken !== stale.accessToken &&
			!this.isDue(current)
		) {
			return current;
		}
		const inflight = api === undefined ? this.#inflight : apis?.inflight.get(api);
		if (inflight !== undefined) return inflight;
		// Without this, every request on an expired token would ask again a server that just said no.
		if (reason !== 'manual' && reason !== 'proactive' && Date.now() < this.#backoffUntil) {
			throw new TokenRequestError(
				`The last refresh failed; the next try is at ${new Date(this.#backoffUntil).toISOString()}`,
				{ reason: 'backoff', attempts: 0, retryAt: this.#backoffUntil },
				{ cause: this.#lastFailure },
			);
		}
		const run = this.#reported(reason, api, () => this.#refreshOnce(stale, api)).finally(() => {
			if (this.#inflight === run) this.#inflight = undefined;
			if (api !== undefined && apis?.inflight.get(api) === run) apis.inflight.delete(api);
		});
		if (api === undefined) this.#inflight = run;
		else apis?.inflight.set(api, run);
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
		this.#keys?.attach(token, undefined);
		this.#backoffUntil = 0;
		await this.#save(token);
		if (source === 'fetch') await this.#notifyUpdater(token);
		this.#accept(token, source);
	}

	/** Forgets the token here and in the store, and tells listeners the session ended. */
	async end(error: ReauthenticationRequiredError): Promise<void> {
		const had = this.#token !== undefined;
		this.#retire(this.#token);
		this.#token = undefined;
		this.#dropUnsaved();
		// The key goes with the token: the next sign-in, here or in any context, gets a new one.
		this.#keys?.forget();
		this.#apis?.tokens.clear();
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
		this.#dropUnsaved();
		this.#cancelTimer?.();
		this.#cancelWarning?.();
		this.#unsubscribe?.();
	}

	async #load(initial: Token | undefined, keys: Promise<TokenKeys> | undefined): Promise<void> {
		// A DPoP session's keys come first: every token read from here on is read with its key.
		if (keys !== undefined) this.#keys = await keys;
		const { store } = this.#options;
		this.#keys?.keepIn({
			store,
			key: this.#key,
			lock: this.#lockOptions(),
			failed: (error) => this.#storeError(error, 'set'),
		});
		if (this.#options.resources.size > 0) {
			const { ResourceTokens } = await import('./resource-tokens.js');
			this.#apis = new ResourceTokens(this.#options.resources);
		}
		// Subscribed before reading, so a write landing between the read and the subscription is
		// not missed.
		if (this.#background && store.subscribe !== undefined) {
			this.#unsubscribe = store.subscribe(this.#key, (record) => this.storeChanged(record));
		}
		let unreadable = false;
		const record = await this.#readRecord((error) => {
			unreadable = true;
			if (error.problem === 'unavailable') this.#readError = error;
		});
		const stored = record?.token;
		this.#adoptResources(record);
		// A notification may already have brought a token newer than what the read saw.
		if (this.#token === undefined) {
			if (stored !== undefined) {
				this.#token = stored;
			} else if (initial !== undefined) {
				this.#keys?.attach(initial, undefined);
				this.#token = initial;
				// An unreadable record is reported, not overwritten: whoever looks finds it as it was.
				if (!unreadable) await this.#save(initial);
			}
		}
		this.#schedule();
	}

	async #reported(
		reason: RefreshReason,
		resource: string | undefined,
		refresh: () => Promise<Token>,
	): Promise<Token> {
		// A chunk that cannot be loaded (a deploy replaced it) must not cost the refresh.
		this.#telemetry ??= await import('./telemetry.js').catch(() => undefined);
		const subject = { reason, resource, storeKey: this.#key };
		const obtained = () => this.#obtained.get(resource) ?? 0;
		return this.#telemetry?.reportRefresh(this.events, subject, refresh, obtained) ?? refresh();
	}

	async #refreshOnce(stale: Token | undefined, resource: string | undefined): Promise<Token> {
		const { store, refreshTimeout } = this.#options;
		// Each timeout starts when the refresh can start: a wait for the lock (a killed holder's
		// lock lives out its ttl) must not use up the time the refresh itself is given.
		const timeout = () => AbortSignal.timeout(refreshTimeout);
		// A key made for this token is stored before the lock is taken: storing it may take the lock.
		await this.#keys?.settle();
		if (store.lock === undefined) {
			return this.#refreshFrom(this.#token, timeout(), false, resource);
		}
		let refreshed: Token | undefined;
		const waited = this.#telemetry?.lockWait(this.events, this.#key);
		try {
			return await store.lock(
				this.#key,
				async () => {
					waited?.acquired();
					refreshed = await this.#refreshUnderLock(stale, timeout(), resource);
					return refreshed;
				},
				this.#lockOptions(),
			);
		} catch (error) {
			waited?.failed(error);
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
			return this.#refreshFrom(this.#token, timeout(), false, resource);
		}
	}

	async #refreshUnderLock(
		stale: Token | undefined,
		signal: AbortSignal,
		resource: string | undefined,
	): Promise<Token> {
		// A refresh made while the store was down goes in first: its refresh token is the newest.
		await (await this.#unsaved)?.save();
		// The store is the truth under the lock: another context may have refreshed while we waited
		// (and its notification may already have reached us).
		const stored = await this.#readRecord();
		const latest = stored?.token ?? this.#token;
		// What this context writes next must not drop a resource token another context got.
		this.#adoptResources(stored);
		const wanted = resource === undefined ? latest : this.#apis?.tokens.get(resource);
		if (wanted !== undefined && wanted.accessToken !== stale?.accessToken && !this.isDue(wanted)) {
			if (resource === undefined && wanted.accessToken !== this.#token?.accessToken) {
				this.#accept(wanted, 'store');
			}
			return wanted;
		}
		// With rotation, the stored refresh token is the newest; ours may already be spent.
		return this.#refreshFrom(latest, signal, true, resource);
	}

	async #refreshFrom(
		base: Token | undefined,
		signal: AbortSignal,
		locked: boolean,
		resource?: string,
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
			token = await this.#obtain(grant, {
				params:
					resource === undefined ? params : { ...params, ...this.#apis?.params.get(resource) },
				signal,
				base: base?.refreshToken !== undefined ? base : undefined,
			});
			this.#obtained.set(resource, (this.#obtained.get(resource) ?? 0) + 1);
		} catch (error) {
			return this.#refreshFailed(error, base, signal, locked, grant, resource);
		}
		// A `resources` API's answer: its token, and the session's with the refresh token it rotated.
		let forApi: Token | undefined;
		let shared: Token | undefined;
		if (this.#apis !== undefined && resource !== undefined) {
			[forApi, shared] = this.#apis.keep(resource, this.#clampLifetime(token), base);
			// The token endpoint answered: what held back refreshes is over, rotated or not.
			this.#backoffUntil = 0;
			this.#failures = 0;
		} else {
			shared = this.#clampLifetime(keepWhatTheAnswerOmits(token, base, grant));
		}
		// Without a token of its own (a daemon's grant), a session keeps its API tokens in memory.
		if (shared !== undefined) {
			await this.#save(shared);
			if (shared !== base) {
				await this.#notifyUpdater(shared);
				this.#accept(shared, grant.grantType === 'refresh_token' ? 'refresh' : 'fetch');
			}
		}
		return forApi ?? (shared as Token);
	}

	async #refreshFailed(
		error: unknown,
		base: Token | undefined,
		signal: AbortSignal,
		locked: boolean,
		grant: Grant,
		resource: string | undefined,
	): Promise<Token> {
		// Only invalid_grant says the grant itself is gone (RFC 6749 §5.2). invalid_client and
		// unauthorized_client are about this client's configuration: ending on them would delete the
		// refresh token of every context sharing the store for a secret that can be fixed.
		if (saysInvalidGrant(error) && (await isOAuth2ResponseError(error))) {
			let stored: Token | undefined;
			try {
				stored = await this.#rotatedElsewhere(base, locked);
			} catch (unknown) {
				// The store cannot say whether another context holds the rotated token: a blip is not
				// the end of the session; the next try asks the store again.
				return this.#failed(unknown as StorageError);
			}
			if (resource === undefined && stored !== undefined) {
				this.#accept(stored, 'store');
				return stored;
			}
			// A daemon's grant (client credentials, JWT bearer) outlives its refresh tokens.
			if (grant.grantType === 'refresh_token' && this.#options.grant !== undefined) {
				return this.#refreshFrom(undefined, signal, locked, resource);
			}
			const ended = new ReauthenticationRequiredError(
				'The authorization server refused the refresh (invalid_grant)',
				{ cause: error },
			);
			await this.end(ended);
			throw ended;
		}
		return this.#failed(
			error instanceof OAuth2Error
				? error
				: new OAuth2Error('The refresh failed', 'TOKEN_REQUEST_FAILED', { cause: error }),
		);
	}

	/** A refresh that failed without ending the session: backs off, reports it, throws it. */
	#failed(failure: OAuth2Error): never {
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
	 * The token another context rotated `base`'s refresh token into, once the server refused it:
	 * what the store holds when it is another. A refresh made without the lock (the store could not
	 * give it: a Redis failover) may have raced the holder's, whose save can still be on its way;
	 * the holder saves before it lets go, so the store is read again under the lock. Throws the
	 * `StorageError` when the store cannot say: ending the session then would end it on a blip.
	 */
	async #rotatedElsewhere(base: Token | undefined, locked: boolean): Promise<Token | undefined> {
		let failure: StorageError | undefined;
		const onError = (error: StorageError) => {
			if (error.problem === 'unavailable') failure = error;
		};
		const rotated = (token: Token | undefined) =>
			token !== undefined && token.accessToken !== base?.accessToken && !token.isExpired();
		const stored = await this.#read(onError);
		if (rotated(stored)) return stored;
		const { store } = this.#options;
		// Under the lock already, a holder whose lock a failover lost saved before we read.
		if (!locked && store.lock !== undefined) {
			failure = undefined;
			let again: Token | undefined;
			try {
				again = await store.lock(this.#key, () => this.#read(onError), this.#lockOptions());
			} catch (error) {
				failure = this.#storeError(error, 'lock');
			}
			if (rotated(again)) return again;
		}
		if (failure !== undefined) throw failure;
		return undefined;
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
		if (previous?.accessToken !== token.accessToken) this.#retire(previous);
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
			this.#stored = undefined;
			this.#dropUnsaved();
			// Another context ended the session (or logged out): its refresh token was ours too.
			if (this.#token !== undefined && this.#inflight === undefined) {
				void this.end(
					new ReauthenticationRequiredError('The session was ended in another context'),
				);
			} else if (this.#token === undefined && this.#inflight === undefined) {
				// The stored key went with the record: the next sign-in stores a new one.
				this.#keys?.forget();
			}
			return;
		}
		let decoded: DecodedRecord | undefined;
		try {
			decoded = this.#decode(record, false);
		} catch (error) {
			this.#storeError(error, 'notify');
			return;
		}
		// A record with a key and no token neither ends this session nor gives it one.
		if (decoded === undefined) return;
		const stored = decoded.token;
		this.#stored = stored.accessToken;
		if (this.#retired.includes(stored.accessToken)) return;
		this.#keys?.attach(stored, decoded.dpop);
		this.#adoptResources(decoded);
		// A refresh token rotated by another API's refresh comes with the same access token.
		if (
			(stored.accessToken !== this.#token?.accessToken ||
				stored.refreshToken !== this.#token?.refreshToken) &&
			stored.accessToken !== this.#writing
		) {
			// Another context wrote after the store came back: what we could not save is superseded.
			if (this.#unsavedLoaded?.pending) this.#unsavedLoaded.superseded();
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
		return (await this.#readRecord(onError))?.token;
	}

	async #readRecord(onError?: (error: StorageError) => void): Promise<DecodedRecord | undefined> {
		try {
			const record = await this.#options.store.get(this.#key);
			const decoded = record === undefined ? undefined : this.#decode(record);
			this.#stored = decoded?.token.accessToken;
			return decoded;
		} catch (error) {
			onError?.(this.#storeError(error, 'get'));
			return undefined;
		}
	}

	#lockOptions(): LockOptions {
		const wait = this.#options.refreshTimeout + LOCK_MARGIN;
		return { ttl: wait, waitTimeout: wait };
	}

	#encode(token: Token): StoredRecord {
		const record = encodeStoredRecord(token, Date.now(), { dpop: this.#keys?.entryFor(token) });
		this.#apis?.encode(record);
		return record;
	}

	#retire(token: Token | undefined): void {
		if (token === undefined) return;
		// A few are enough: a notification is late by one or two writes, not by many.
		if (this.#retired.push(token.accessToken) > 4) this.#retired.shift();
	}

	/** Takes a record's resource tokens, each with the record's DPoP key: they were asked for with it. */
	#adoptResources(record: DecodedRecord | undefined): void {
		if (this.#apis === undefined || record === undefined) return;
		this.#apis.adopt(record.resources);
		if (this.#keys === undefined) return;
		for (const token of this.#apis.tokens.values()) this.#keys.attach(token, record.dpop);
	}

	/** A record's token with its key, or `undefined` for a record of a key alone (taken, if no token is held). */
	#decode(record: unknown, attach = true): DecodedRecord | undefined {
		const decoded = decodeStoredRecord(record, this.#key);
		if (decoded.token === undefined) {
			if (this.#token === undefined) this.#keys?.adopt(decoded.dpop);
			return undefined;
		}
		if (attach) this.#keys?.attach(decoded.token, decoded.dpop);
		// The resource tokens' own module reads them, and leaves out an entry it cannot read.
		return { ...decoded, resources: (record as StoredRecord).resources };
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
			await this.#options.store.set(this.#key, this.#encode(token));
			this.#stored = token.accessToken;
			this.#dropUnsaved();
		} catch (error) {
			// Kept to be written once the store is back; other problems do not pass by retrying.
			if (this.#storeError(error, 'set').problem === 'unavailable') {
				// What the store held when this context last saw it: the replay checks it is still there.
				const replaces = this.#stored;
				const moot = this.#unsavedMoot;
				this.#unsaved ??= this.#loadUnsaved();
				void this.#unsaved.then((unsaved) => {
					if (this.#unsavedMoot === moot && !this.#closed) unsaved?.keep(token, replaces);
				});
			}
		} finally {
			this.#writing = undefined;
		}
	}

	#dropUnsaved(): void {
		this.#unsavedMoot++;
		this.#unsavedLoaded?.drop();
	}

	#loadUnsaved(): Promise<UnsavedToken | undefined> {
		const wait = this.#options.refreshTimeout + LOCK_MARGIN;
		return import('./unsaved-token.js').then(
			({ UnsavedToken }) =>
				(this.#unsavedLoaded = new UnsavedToken({
					store: this.#options.store,
					key: this.#key,
					lock: { ttl: wait, waitTimeout: wait },
					encode: (token) => this.#encode(token),
					refused: () => this.#replayRefused(),
					saved: (accessToken) => {
						this.#stored = accessToken;
					},
					report: (error) => this.#storeError(error, 'set'),
					writing: (accessToken) => {
						this.#writing = accessToken;
					},
				})),
			() => {
				// The chunk did not load (offline): the next failed save tries again.
				this.#unsaved = undefined;
				return undefined;
			},
		);
	}

	/**
	 * Takes what the store holds once it refused a replayed save: another context's token, used
	 * here (resolves `true`), or none: the session was logged out or ended elsewhere meanwhile, and
	 * ends here too (`false`), rather than the replay bringing it back in every context.
	 */
	async #replayRefused(): Promise<boolean> {
		let failed = false;
		const record = await this.#readRecord(() => {
			failed = true;
		});
		if (failed) return true;
		if (record === undefined) {
			if (this.#token !== undefined && this.#inflight === undefined) {
				await this.end(
					new ReauthenticationRequiredError('The session was ended in another context'),
				);
			}
			return false;
		}
		const stored = record.token;
		if (!stored.isExpired() && stored.accessToken !== this.#token?.accessToken) {
			this.#accept(stored, 'store');
		}
		return true;
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

function saysInvalidGrant(error: unknown): boolean {
	return error instanceof OAuth2Error && 'error' in error && error.error === 'invalid_grant';
}

/**
 * `instanceof OAuth2ResponseError`, with the class imported on first use: it loads with the error
 * answer that made it (request-token), not with the page.
 */
async function isOAuth2ResponseError(error: unknown): Promise<boolean> {
	const { OAuth2ResponseError } = await import('../errors/oauth2-response-error.js');
	return error instanceof OAuth2ResponseError;
}
