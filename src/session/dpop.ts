import { DPoPError } from '../errors/dpop-error.js';
import {
	accessTokenHash,
	boundThumbprintOf,
	isUseDPoPNonceChallenge,
	isUseDPoPNonceError,
} from '../protocol/dpop.js';
import type { TokenHttpResponse } from '../protocol/profile.js';
import type { Token } from '../protocol/token.js';
import type { TokenRequestParts } from '../protocol/token-request.js';
import {
	encodeKeyRecord,
	type LockOptions,
	type StoredDPoPKey,
	setIfUnchanged,
	type TokenStore,
} from '../storage/token-store.js';
import type { PushHooks } from './authorization.js';
import { DPoPKey } from './dpop-key.js';
import { DPoPNonces, type EndTurn, tokenEndpointPlace } from './dpop-nonces.js';
import type { TokenRequestProofs } from './request-token.js';
import type { PreparedRequest } from './send.js';

/** A key and what the store keeps of it. */
interface HeldKey {
	key: DPoPKey;
	entry: StoredDPoPKey;
}

/**
 * Where the session keeps a key it makes before any token: its store and record key, the lock
 * options of a write, and where a failed write is reported.
 */
export interface KeyHome {
	store: TokenStore;
	key: string;
	lock: LockOptions;
	failed(error: unknown): void;
}

/** Tokens remembered with their key: the current one, and a few a request may still carry. */
const REMEMBERED_TOKENS = 8;

/**
 * The DPoP side of a session (RFC 9449), loaded only by sessions with the `dpop` option: which key
 * each token is bound to, the proofs of token and resource requests, and the nonces servers gave.
 *
 * Tokens are bound to their key by access token: a token refreshed with a key is bound to it, and
 * one read from the store to the key stored beside it, so a context never signs a token with a key
 * other than the one it was issued for, and never makes a new key for a token that has one.
 */
export class DPoPBinding {
	readonly #given: CryptoKeyPair | undefined;
	readonly #allowBearer: boolean;
	readonly #keepsCryptoKeys: boolean;
	/** The key of each DPoP token, by access token; a failed promise for one without a usable key. */
	readonly #keys = new Map<string, Promise<HeldKey>>();
	/** The key new tokens are asked for with: the user's, the last one seen, or a new one. */
	#current: Promise<HeldKey> | undefined;
	/** The nonces servers gave: this session's own, or its `OAuth2Client`'s, shared by its users. */
	readonly #nonces: DPoPNonces;
	/** Whether `#nonces` is this session's alone, to forget with its key. */
	readonly #ownNonces: boolean;
	/** The keys already checked, for the keeper's synchronous save. */
	readonly #settled = new Map<string, HeldKey>();
	/** The `ath` of the last access token signed for: the same token goes on many requests. */
	#ath: { accessToken: string; ath: Promise<string> } | undefined;
	/** Where a new key is stored before it is used; unset until the keeper has read the store. */
	#home: KeyHome | undefined;

	constructor(options: {
		keyPair: CryptoKeyPair | undefined;
		allowBearer: boolean;
		keepsCryptoKeys: boolean;
		nonces?: DPoPNonces | undefined;
	}) {
		this.#nonces = options.nonces ?? new DPoPNonces();
		this.#ownNonces = options.nonces === undefined;
		this.#given = options.keyPair;
		this.#allowBearer = options.allowBearer;
		this.#keepsCryptoKeys = options.keepsCryptoKeys;
	}

	/**
	 * Takes note of a token from the store, the `token` option or `setToken()`, with the key entry
	 * stored beside it. Checked lazily: a fault surfaces when the token is used, as a `DPoPError`.
	 */
	attach(token: Token, stored: StoredDPoPKey | undefined): void {
		if (this.#keys.has(token.accessToken)) return;
		// The record's entry is checked here, not when the store decodes it: only DPoP sessions
		// load this. One that is no object names no key, and is refused as such.
		const entry: StoredDPoPKey | undefined =
			stored === undefined || (typeof stored === 'object' && stored !== null)
				? stored
				: { jkt: '' };
		if (entry === undefined) {
			if (token.tokenType !== 'DPoP') return;
			// Without a stored key, only the user's own key can be the one: a new key never is.
			this.#remember(
				token.accessToken,
				this.#given === undefined
					? Promise.reject(
							new DPoPError(
								'The stored DPoP-bound token has no key stored with it: sign in again, or pass its key as dpop.keyPair',
								'key-missing',
							),
						)
					: this.#givenKey().then((held) => checkBinding(token, held)),
			);
			return;
		}
		const held = (async (): Promise<HeldKey> => {
			if (this.#given === undefined)
				return checkBinding(token, { key: await DPoPKey.fromEntry(entry), entry });
			const given = await this.#givenKey();
			if (given.key.thumbprint !== entry.jkt) {
				throw new DPoPError(
					'The stored token is bound to a DPoP key other than dpop.keyPair',
					'key-mismatch',
				);
			}
			return checkBinding(token, given);
		})();
		this.#remember(token.accessToken, held);
		// The key the store holds is the one later sign-ins and refreshes use, in every context.
		this.#current = held.catch(() => this.#newKey());
	}

	/** Stores each key made from now on in `home` before it is used. */
	keepIn(home: KeyHome): void {
		this.#home = home;
	}

	/**
	 * Takes the key of a record that holds no token: another context made it for a sign-in, and the
	 * code it asked for is bound to it. The user's own key pair always wins.
	 */
	adopt(entry: StoredDPoPKey): void {
		if (this.#given !== undefined) return;
		this.#current = DPoPKey.fromEntry(entry).then(
			(key) => ({ key, entry }),
			() => this.#newKey(),
		);
	}

	/**
	 * Settles the key new tokens are asked with, storing it if it is new: the keeper calls this
	 * before it takes the store's lock to refresh, as storing may take the same lock.
	 */
	async settle(): Promise<void> {
		await this.#currentKey().catch(() => {});
	}

	/** What the store keeps with `token`: its key entry, once its key is known. */
	entryFor(token: Token): StoredDPoPKey | undefined {
		return this.#settled.get(token.accessToken)?.entry;
	}

	/**
	 * The proofs for a token request, signed with `base`'s key when it is a DPoP token (a refresh
	 * token is bound to the key its access token was issued for), else with the session's key.
	 */
	async tokenRequest(base: Token | undefined): Promise<{
		proofs: TokenRequestProofs;
		issued: (token: Token) => Token;
	}> {
		const held =
			base !== undefined && base.tokenType === 'DPoP'
				? await this.#keyOf(base)
				: await this.#currentKey();
		// The nonce the last attempt sent: a retry helps only with another one.
		let sent: string | undefined;
		let endTurn: EndTurn | undefined;
		const proofs: TokenRequestProofs = {
			proof: async (method, url, signal) => {
				// Concurrent token requests (users of one OAuth2Client, a session's APIs) to an
				// endpoint not heard from yet wait for the first one's nonce, as requests to APIs do.
				endTurn = await this.#nonces.turn(tokenEndpointPlace(url), signal);
				sent = this.#nonces.get(tokenEndpointPlace(url));
				return held.key.proof(method, url, { nonce: sent });
			},
			ended: (response) => {
				endTurn?.(response?.headers);
				endTurn = undefined;
			},
			answered: (url, answer: TokenHttpResponse) => {
				const refused = isUseDPoPNonceError(answer.status, answer.body);
				const nonce = this.#nonces.learn(tokenEndpointPlace(url), answer.headers, sent, refused);
				return refused && nonce !== undefined && nonce !== sent;
			},
		};
		const issued = (token: Token): Token => {
			if (token.tokenType !== 'DPoP') {
				if (this.#allowBearer) return token;
				throw new DPoPError(
					'The token endpoint answered a DPoP token request with a Bearer token: the server does not bind tokens to the key (set dpop.allowBearer to accept it)',
					'bearer-downgrade',
				);
			}
			const bound = boundThumbprintOf(token.accessToken);
			if (bound !== undefined && bound !== held.key.thumbprint) {
				throw new DPoPError(
					'The token endpoint issued a token bound to a DPoP key other than the one that asked',
					'key-mismatch',
				);
			}
			this.#remember(token.accessToken, Promise.resolve(held));
			this.#settled.set(token.accessToken, held);
			return token;
		};
		return { proofs, issued };
	}

	/**
	 * Runs a push (RFC 9126) with the key new tokens are asked with: its thumbprint as `dpop_jkt`,
	 * which binds the code to it (RFC 9449 §10), and a proof on each attempt. A `use_dpop_nonce`
	 * refusal with a nonce not sent yet is pushed once more with it.
	 */
	async push<T>(run: (hooks: PushHooks) => Promise<T>): Promise<T> {
		const { key } = await this.#currentKey();
		let url: URL | undefined;
		let sent: string | undefined;
		let endTurn: EndTurn | undefined;
		const end = (answer?: Headers) => {
			endTurn?.(answer);
			endTurn = undefined;
		};
		const hooks: PushHooks = {
			dpopJkt: key.thumbprint,
			prepareRequest: async (request: TokenRequestParts) => {
				url = request.url;
				// Pushes at once (an OAuth2Client's users signing in) wait for the first one's nonce,
				// as token requests do; an attempt retried after a transient failure ends its turn.
				end();
				endTurn = await this.#nonces.turn(tokenEndpointPlace(url), undefined);
				sent = this.#nonces.get(tokenEndpointPlace(url));
				request.headers.set('dpop', await key.proof(request.method, url, { nonce: sent }));
			},
		};
		try {
			const pushed = await run(hooks);
			// The endpoint answered; its headers are not at hand here, and a nonce it wants comes
			// with a refusal.
			end(new Headers());
			return pushed;
		} catch (error) {
			const { error: code, response } = error as { error?: unknown; response?: Response };
			// Before the pushes held for this one sign: they carry the nonce it brought.
			end(response?.headers);
			const nonce =
				code === 'use_dpop_nonce' && url !== undefined && response !== undefined
					? this.#nonces.learn(tokenEndpointPlace(url), response.headers, sent, true)
					: undefined;
			if (nonce === undefined || nonce === sent) throw error;
			return await run(hooks);
		} finally {
			end();
		}
	}

	/**
	 * Sets the `DPoP` proof of a request to a resource server carrying `token`; returns the nonce
	 * it carries, for `retryWithNonce`.
	 */
	async proveRequest(
		headers: Headers,
		method: string,
		url: URL,
		token: Token,
	): Promise<string | undefined> {
		const held = await this.#keyOf(token);
		const { accessToken } = token;
		if (this.#ath?.accessToken !== accessToken) {
			this.#ath = { accessToken, ath: accessTokenHash(accessToken) };
		}
		const nonce = this.#nonces.get(url.origin);
		const proof = await held.key.proof(method, url, { nonce, ath: await this.#ath.ath });
		headers.set('dpop', proof);
		return nonce;
	}

	/**
	 * Sends `request` (its first hop, with `fetchFn`) with a proof, as `proveRequest`. To an origin
	 * that has not answered a request yet, the first request goes alone: the others wait until it
	 * ends, whatever its outcome, or for a second at most, then sign with the nonce it brought
	 * (`DPoPNonces.turn`). A burst to a server that requires nonces so costs one refusal, not one
	 * per request; an abort of a waiting request's signal ends it at once, unsent. A nonce known
	 * from a token endpoint on the same origin does not count: it is not the API's.
	 */
	async sendProved(
		request: PreparedRequest,
		token: Token,
		fetchFn: typeof fetch,
	): Promise<{ response: Response; nonce: string | undefined }> {
		const { url, init } = request;
		const answered = await this.turn(url, init.signal);
		let response: Response | undefined;
		try {
			const nonce = await this.proveRequest(init.headers, init.method ?? 'GET', url, token);
			response = await fetchFn(url, init);
			return { response, nonce };
		} finally {
			answered(response);
		}
	}

	/**
	 * Waits for a request's turn to `url`'s origin (see `sendProved`), for a caller that sends it
	 * itself (the ky hooks). Call what it returns with the answer, or with nothing when the request
	 * failed; a call that never comes holds the others for a second at most.
	 */
	async turn(
		url: URL,
		signal: AbortSignal | null | undefined,
	): Promise<(response: Response | undefined) => void> {
		const end = await this.#nonces.turn(url.origin, signal);
		return (response) => {
			// An answer from where a redirect the platform followed took the request is not the API's.
			const elsewhere =
				response?.redirected === true && new URL(response.url).origin !== url.origin;
			end(elsewhere ? undefined : response?.headers);
		};
	}

	/**
	 * Takes a resource server's answer: its nonce, and whether to send again with it (a 401
	 * `use_dpop_nonce` with a nonce other than the one the request sent, RFC 9449 §9). Requests
	 * already sent with a nonce the server stopped taking all get one back: each retries once,
	 * none refreshes the token.
	 * @throws {DPoPError} `nonce-not-retried`: a retry is due, and the body cannot be sent again.
	 */
	retryWithNonce(
		url: URL,
		response: Response,
		request: { sent: string | undefined; retried: boolean; replayable: boolean },
	): boolean {
		const refused = isUseDPoPNonceChallenge(response.status, response.headers);
		const nonce = this.#nonces.learn(url.origin, response.headers, request.sent, refused);
		if (nonce === undefined || nonce === request.sent || request.retried || !refused) return false;
		if (!request.replayable) {
			throw new DPoPError(
				`The resource server at ${url.origin} asked for a DPoP proof with a new nonce, and the request body is a stream that cannot be sent again; the nonce is remembered, so sending the request again works`,
				'nonce-not-retried',
			);
		}
		return true;
	}

	/** The thumbprint of the key `token` is bound to, or of the key the next token will be. */
	async thumbprint(token: Token | undefined): Promise<string> {
		const held = token?.tokenType === 'DPoP' ? await this.#keyOf(token) : await this.#currentKey();
		return held.key.thumbprint;
	}

	/** Forgets every key and nonce (logout, or the session ended): the next sign-in gets a new key. */
	forget(): void {
		this.#keys.clear();
		this.#settled.clear();
		// Nonces an OAuth2Client's users share are the server's, not this user's.
		if (this.#ownNonces) this.#nonces.forget();
		this.#current = undefined;
		this.#ath = undefined;
	}

	toJSON(): Record<string, never> {
		return {};
	}

	async #keyOf(token: Token): Promise<HeldKey> {
		const held = this.#keys.get(token.accessToken);
		if (held !== undefined) return held;
		// A DPoP token the session never saw a key for (given as a Token with no record).
		this.attach(token, undefined);
		return this.#keys.get(token.accessToken) as Promise<HeldKey>;
	}

	#currentKey(): Promise<HeldKey> {
		this.#current ??= this.#given === undefined ? this.#newKey() : this.#givenKey();
		return this.#current;
	}

	#newKey(): Promise<HeldKey> {
		return DPoPKey.generate(this.#keepsCryptoKeys).then((made) => this.#stored(made));
	}

	/**
	 * Stores a new key as a record of its own, unless the store holds a record already: then the key
	 * in it is the one to use (a context that made one at the same time stored it first). A store
	 * that fails leaves the key in this context's memory (reported as a `storeError`); it is stored
	 * with the first token, as before.
	 */
	async #stored(made: HeldKey): Promise<HeldKey> {
		const home = this.#home;
		if (home === undefined) return made;
		let entry: StoredDPoPKey | undefined;
		try {
			entry = await writeIfAbsent(home, made.entry);
		} catch (error) {
			home.failed(error);
			return made;
		}
		if (entry === undefined || entry.jkt === made.entry.jkt) return made;
		const stored = entry;
		// A stored key that cannot be used is reported where its token is; a sign-in uses ours.
		return DPoPKey.fromEntry(stored).then(
			(key) => ({ key, entry: stored }),
			() => made,
		);
	}

	#givenKeyPromise: Promise<HeldKey> | undefined;
	#givenKey(): Promise<HeldKey> {
		this.#givenKeyPromise ??= DPoPKey.fromKeyPair(this.#given as CryptoKeyPair).then((key) => ({
			key,
			entry: { jkt: key.thumbprint },
		}));
		return this.#givenKeyPromise;
	}

	#remember(accessToken: string, held: Promise<HeldKey>): void {
		// Failures surface where the key is needed; unobserved, they must not be reported as unhandled.
		held.then(
			(value) => this.#settled.set(accessToken, value),
			() => {},
		);
		this.#keys.set(accessToken, held);
		for (const key of this.#keys.keys()) {
			if (this.#keys.size <= REMEMBERED_TOKENS) break;
			this.#keys.delete(key);
			this.#settled.delete(key);
		}
	}
}

/**
 * Writes a record of `entry` alone under `home.key` if there is none, in one step (the store's
 * conditional write, or a read and a write under its lock). Returns the key entry of the record
 * found there instead, if any.
 */
async function writeIfAbsent(
	home: KeyHome,
	entry: StoredDPoPKey,
): Promise<StoredDPoPKey | undefined> {
	const { store, key, lock } = home;
	// A first save (nothing replaced): written only where there is no record.
	if (await setIfUnchanged(store, key, encodeKeyRecord(entry), undefined, lock)) return undefined;
	return (await store.get(key))?.dpop;
}

/** The key, after checking the token's `cnf.jkt` (when it is a JWT that says) names it. */
function checkBinding(token: Token, held: HeldKey): HeldKey {
	const bound = boundThumbprintOf(token.accessToken);
	if (bound !== undefined && bound !== held.key.thumbprint) {
		throw new DPoPError(
			'The access token is bound (cnf.jkt) to a DPoP key other than the one stored with it',
			'key-mismatch',
		);
	}
	return held;
}
