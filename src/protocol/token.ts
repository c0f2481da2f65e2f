import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { type FieldKind, firstInvalidField, isRecord } from './fields.js';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const REDACTED = '[redacted]';
// What `Authorization: <type> <token>` can carry (RFC 9110 §5.5): a runtime refuses anything else
// with a TypeError that quotes the whole header, token included.
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;
const SENDABLE_TYPE = /^[\x20-\x7e]+$/;

/** Whether an access token can be sent in an `Authorization` header: visible ASCII, no space. */
export function isSendableToken(value: string): boolean {
	return SENDABLE_TOKEN.test(value);
}

// A `TokenInit` often comes from storage or another client (which write `null` for absent).
const initFields = {
	accessToken: 'token',
	tokenType: 'string',
	expiresAt: 'number',
	issuedAt: 'number',
	refreshToken: 'string',
	refreshTokenExpiresAt: 'number',
	idToken: 'string',
} as const satisfies Record<string, FieldKind>;

/** The fields a `Token` is made from. Only `accessToken` is required; `null` counts as absent. */
export interface TokenInit {
	/** The access token sent as `Authorization: <tokenType> <accessToken>`. */
	accessToken: string;
	/**
	 * The token type. `bearer` in any case is normalized to `Bearer`.
	 * @default 'Bearer'
	 */
	tokenType?: string | null | undefined;
	/** When the access token expires, in epoch milliseconds; `undefined` when unknown. */
	expiresAt?: number | null | undefined;
	/** When the token was requested, in epoch milliseconds; with `expiresAt` it gives the lifetime. */
	issuedAt?: number | null | undefined;
	/** The refresh token, if the server issued one. */
	refreshToken?: string | null | undefined;
	/** When the refresh token expires, in epoch milliseconds, where the server says (Keycloak, GitHub Apps). */
	refreshTokenExpiresAt?: number | null | undefined;
	/** The granted scopes; `undefined` when the server did not say (then they are the ones requested). */
	scope?: readonly string[] | null | undefined;
	/** The OpenID Connect ID token, if any. */
	idToken?: string | null | undefined;
	/** Every other field of the token response, as the server sent it. */
	extra?: Readonly<Record<string, unknown>> | null | undefined;
}

/**
 * An OAuth 2 token: what a token endpoint answered, in camelCase and with an absolute expiry.
 *
 * Immutable. `toJSON()` and Node's `inspect` show a redacted summary, so a token can be logged
 * by accident without leaking. To save a token use `tokenToRecord()`, which keeps every value.
 */
export class Token {
	/** The access token. */
	readonly accessToken: string;
	/** The token type, `Bearer` for almost every server. */
	readonly tokenType: string;
	/** When the access token expires, in epoch milliseconds; `undefined` when unknown. */
	readonly expiresAt: number | undefined;
	/** When the token was requested, in epoch milliseconds; `undefined` when unknown. */
	readonly issuedAt: number | undefined;
	/** The refresh token, if any. */
	readonly refreshToken: string | undefined;
	/** When the refresh token expires, in epoch milliseconds, if the server said. */
	readonly refreshTokenExpiresAt: number | undefined;
	/** The granted scopes, or `undefined` when the server did not list them. */
	readonly scope: readonly string[] | undefined;
	/** The OpenID Connect ID token, if any. */
	readonly idToken: string | undefined;
	/** Every other field of the token response. */
	readonly extra: Readonly<Record<string, unknown>>;

	/**
	 * @throws {InvalidOptionsError} `accessToken` is not a non-empty string, or another field has
	 *   the wrong type (`null` counts as absent).
	 */
	constructor(init: TokenInit) {
		checkInit(init);
		this.accessToken = init.accessToken;
		this.tokenType = normalizeTokenType(init.tokenType ?? undefined);
		this.expiresAt = init.expiresAt ?? undefined;
		this.issuedAt = init.issuedAt ?? undefined;
		this.refreshToken = init.refreshToken ?? undefined;
		this.refreshTokenExpiresAt = init.refreshTokenExpiresAt ?? undefined;
		this.scope = init.scope == null ? undefined : Object.freeze([...init.scope]);
		this.idToken = init.idToken ?? undefined;
		this.extra = Object.freeze({ ...init.extra });
		Object.freeze(this);
	}

	/**
	 * Whether the access token has expired, or will within `leewayMs`.
	 * A token with no known expiry is never considered expired (only a 401 tells).
	 */
	isExpired(now: number = Date.now(), leewayMs = 0): boolean {
		return this.expiresAt !== undefined && this.expiresAt - leewayMs <= now;
	}

	/** A copy with some fields changed. */
	with(changes: Partial<TokenInit>): Token {
		return new Token({ ...this.init(), ...changes });
	}

	/** How long the token was issued for, in milliseconds; `undefined` when unknown. */
	get lifetime(): number | undefined {
		if (this.expiresAt === undefined || this.issuedAt === undefined) return undefined;
		return this.expiresAt - this.issuedAt;
	}

	/** The `Authorization` header value for this token. */
	get authorization(): string {
		return `${this.tokenType} ${this.accessToken}`;
	}

	/** A redacted summary: secrets are replaced, so `JSON.stringify(token)` is safe to log. */
	toJSON(): Record<string, unknown> {
		return {
			accessToken: REDACTED,
			tokenType: this.tokenType,
			expiresAt: isoTime(this.expiresAt),
			refreshToken: this.refreshToken === undefined ? undefined : REDACTED,
			refreshTokenExpiresAt: isoTime(this.refreshTokenExpiresAt),
			scope: this.scope,
			idToken: this.idToken === undefined ? undefined : REDACTED,
			extra: Object.keys(this.extra),
		};
	}

	/**
	 * Node's `util.inspect` hook: the redacted `toJSON()` summary, on one line. Internal because
	 * users never call it and the API docs can only show it as `[inspectSymbol]`.
	 * @internal
	 */
	[inspectSymbol](): string {
		const fields = Object.entries(this.toJSON())
			.filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))
			.map(([key, value]) => `${key}: ${Array.isArray(value) ? `[${value.join(', ')}]` : value}`);
		return `Token { ${fields.join(', ')} }`;
	}

	private init(): TokenInit {
		return {
			accessToken: this.accessToken,
			tokenType: this.tokenType,
			expiresAt: this.expiresAt,
			issuedAt: this.issuedAt,
			refreshToken: this.refreshToken,
			refreshTokenExpiresAt: this.refreshTokenExpiresAt,
			scope: this.scope,
			idToken: this.idToken,
			extra: this.extra,
		};
	}
}

/**
 * `bearer` and `dpop` in any case become `Bearer` and `DPoP` (RFC 6750 and RFC 9449 name them so);
 * any other type is kept as sent.
 */
export function normalizeTokenType(tokenType: string | undefined): string {
	if (tokenType === undefined || tokenType === '') return 'Bearer';
	const lower = tokenType.toLowerCase();
	return lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : tokenType;
}

function isoTime(time: number | undefined): string | number | undefined {
	if (time === undefined) return undefined;
	const date = new Date(time);
	return Number.isNaN(date.getTime()) ? time : date.toISOString();
}

function checkInit(init: TokenInit): void {
	if (!isRecord(init)) throw new InvalidOptionsError('A token needs an object of fields');
	const field = firstInvalidField(init as unknown as Record<string, unknown>, initFields);
	if (field === 'accessToken') {
		throw new InvalidOptionsError('A token needs a non-empty accessToken string');
	}
	if (field !== undefined) {
		throw new InvalidOptionsError(`A token's ${field} has the wrong type (${initFields[field]})`);
	}
	const unsendable = !isSendableToken(init.accessToken)
		? 'accessToken'
		: init.tokenType && !SENDABLE_TYPE.test(init.tokenType)
			? 'tokenType'
			: undefined;
	if (unsendable !== undefined) {
		throw new InvalidOptionsError(`A token's ${unsendable} has characters no header can carry`);
	}
	const { scope, extra } = init;
	if (scope != null && !(Array.isArray(scope) && scope.every((item) => typeof item === 'string'))) {
		throw new InvalidOptionsError("A token's scope must be a list of strings");
	}
	if (extra != null && !isRecord(extra)) {
		throw new InvalidOptionsError("A token's extra must be an object");
	}
}
