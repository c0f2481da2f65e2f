// The tokens of a session's `resources` APIs (RFC 8707). The keeper loads this module with
// `import()` only for a session that has such APIs: a page with one API does not carry it.
import { TokenExpiredError } from '../errors/token-expired-error.js';
import { TokenUpdated } from '../errors/token-updated.js';
import type { Params } from '../protocol/params.js';
import type { Token } from '../protocol/token.js';
import { tokenFromRecord, tokenToRecord } from '../protocol/token-record.js';
import type { StoredRecord } from '../storage/token-store.js';
import type { RefreshMode, ResourceOptions } from './options.js';
import type { TokenKeeper } from './token-keeper.js';

/** The access token of each `resources` API, by origin; the refresh token is the session's. */
export class ResourceTokens {
	readonly tokens = new Map<string, Token>();
	/** The refresh under way for each API, shared by the requests that wait for it. */
	readonly inflight = new Map<string, Promise<Token>>();
	/** What each API's token is asked for with. */
	readonly params = new Map<string, Params>();

	constructor(apis: ReadonlyMap<string, ResourceOptions>) {
		for (const [origin, { resource, audience, scope }] of apis) {
			this.params.set(origin, {
				resource: resource ?? (audience === undefined ? origin : undefined),
				audience,
				scope: typeof scope === 'string' || scope === undefined ? scope : scope.join(' '),
			});
		}
	}

	/**
	 * The API's token to send, got with the shared refresh token when there is none or it is due.
	 * The first one is got in every refresh mode: it is part of signing in, not a refresh.
	 */
	async forRequest(keeper: TokenKeeper, resource: string, mode: RefreshMode): Promise<Token> {
		const token = this.tokens.get(resource);
		if (token !== undefined && !keeper.isDue(token)) return token;
		if (token !== undefined && mode === 'manual') throw new TokenExpiredError(token.expiresAt);
		const next = await keeper.refresh(token, 'expired', resource);
		if (token !== undefined && mode === 'raise-updated') throw new TokenUpdated(next);
		return next;
	}

	/**
	 * Takes the tokens of a stored record that outlive the ones held here. An entry that is not a
	 * token record, or not one of this session's APIs, is left out: that API's token is got again.
	 */
	adopt(stored: StoredRecord['resources']): void {
		for (const [origin, record] of Object.entries(stored ?? {})) {
			if (!this.params.has(origin)) continue;
			let token: Token;
			try {
				token = tokenFromRecord(record);
			} catch {
				continue;
			}
			const held = this.tokens.get(origin);
			if (held === undefined || (token.expiresAt ?? 0) > (held.expiresAt ?? 0)) {
				this.tokens.set(origin, token);
			}
		}
	}

	/** Adds the tokens held here to a record about to be saved. */
	encode(record: StoredRecord): void {
		if (this.tokens.size === 0) return;
		record.resources = {};
		for (const [origin, token] of this.tokens) {
			record.resources[origin] = tokenToRecord(token, record.writtenAt);
		}
	}

	/**
	 * Keeps the API's token from a refresh `answer`, and returns it with the session's token to
	 * save: a rotated refresh token in the answer replaces the spent one, which would fail every
	 * other API's next refresh (and may revoke the grant).
	 */
	keep(
		resource: string,
		answer: Token,
		base: Token | undefined,
	): [token: Token, shared: Token | undefined] {
		const token = answer.with({ refreshToken: undefined, refreshTokenExpiresAt: undefined });
		this.tokens.set(resource, token);
		const rotated = answer.refreshToken !== undefined && answer.refreshToken !== base?.refreshToken;
		return [
			token,
			rotated && base !== undefined
				? base.with({
						refreshToken: answer.refreshToken,
						refreshTokenExpiresAt: answer.refreshTokenExpiresAt,
					})
				: base,
		];
	}
}
