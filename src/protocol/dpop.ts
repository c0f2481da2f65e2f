import { parseWwwAuthenticate } from './www-authenticate.js';

/**
 * DPoP (RFC 9449) wire formats: the proof's header and claims, `htu`, `ath`, the RFC 7638 key
 * thumbprint and the nonce signals of token endpoints and resource servers. No I/O and no
 * signing: `src/session/dpop-key.ts` signs.
 */

/** The JWS algorithms a DPoP key may sign with (RFC 9449 §4.2 asks for asymmetric ones). */
export type DPoPAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/** The public members of a JWK that a proof's header carries and a thumbprint hashes. */
export interface DPoPPublicJwk {
	/** The key type: `EC`, `OKP` or `RSA`. */
	kty: string;
	/** The curve, for `EC` and `OKP` keys. */
	crv?: string;
	/** The x coordinate (`EC`) or public key (`OKP`). */
	x?: string;
	/** The y coordinate, for `EC` keys. */
	y?: string;
	/** The modulus, for `RSA` keys. */
	n?: string;
	/** The exponent, for `RSA` keys. */
	e?: string;
}

/** The JOSE header of a DPoP proof (RFC 9449 §4.2). */
export interface DPoPProofHeader {
	/** Always `dpop+jwt`. */
	typ: 'dpop+jwt';
	/** The signing algorithm. */
	alg: DPoPAlgorithm;
	/** The public key, which the server checks the signature with and binds tokens to. */
	jwk: DPoPPublicJwk;
}

/** The claims of a DPoP proof (RFC 9449 §4.2). */
export interface DPoPProofClaims {
	/** A unique identifier of this proof. */
	jti: string;
	/** The HTTP method, upper-cased. */
	htm: string;
	/** The target URI without query and fragment. */
	htu: string;
	/** When the proof was made, in seconds since the epoch. */
	iat: number;
	/** The server's nonce, when it gave one. */
	nonce?: string;
	/** The access token's hash, on requests to a resource server. */
	ath?: string;
}

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly (keyof DPoPPublicJwk)[]>> = {
	EC: ['crv', 'kty', 'x', 'y'],
	OKP: ['crv', 'kty', 'x'],
	RSA: ['e', 'kty', 'n'],
};

/**
 * The `htu` of a request to `url` (RFC 9449 §4.2): the URI without query and fragment, in the
 * WHATWG URL form (scheme and host lower-cased, default port dropped, dot segments removed).
 */
export function dpopHtu(url: string | URL): string {
	const parsed = new URL(url);
	parsed.search = '';
	parsed.hash = '';
	return parsed.href;
}

/**
 * The claims of a proof for `method` on `url`. `jti` and `now` are the caller's, so the result is
 * a pure function of its inputs.
 */
export function dpopProofClaims(options: {
	method: string;
	url: string | URL;
	jti: string;
	now: number;
	nonce?: string | undefined;
	ath?: string | undefined;
}): DPoPProofClaims {
	const claims: DPoPProofClaims = {
		jti: options.jti,
		htm: options.method.toUpperCase(),
		htu: dpopHtu(options.url),
		iat: Math.floor(options.now / 1000),
	};
	if (options.nonce !== undefined) claims.nonce = options.nonce;
	if (options.ath !== undefined) claims.ath = options.ath;
	return claims;
}

/** The JWS signing input of a proof: base64url(header) `.` base64url(claims). */
export function jwsSigningInput(header: DPoPProofHeader, claims: DPoPProofClaims): string {
	const encoder = new TextEncoder();
	return `${base64Url(encoder.encode(JSON.stringify(header)))}.${base64Url(encoder.encode(JSON.stringify(claims)))}`;
}

/** The `ath` claim for an access token: base64url(SHA-256(token)) (RFC 9449 §4.2). */
export async function accessTokenHash(accessToken: string): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
	return base64Url(new Uint8Array(digest));
}

/**
 * Only the public members of a JWK: exporting a private key gives `d` (and the RSA primes), which
 * must never reach a proof header.
 * @throws {TypeError} A key type other than `EC`, `OKP` and `RSA`, or a member missing.
 */
export function publicJwkOf(jwk: Readonly<Record<string, unknown>>): DPoPPublicJwk {
	const members = typeof jwk.kty === 'string' ? THUMBPRINT_MEMBERS[jwk.kty] : undefined;
	if (members === undefined) throw new TypeError('A DPoP key must be an EC, OKP or RSA key');
	const out: Record<string, string> = {};
	for (const member of members) {
		const value = jwk[member];
		if (typeof value !== 'string' || value === '') {
			throw new TypeError(`The DPoP public key has no ${member}`);
		}
		out[member] = value;
	}
	return out as unknown as DPoPPublicJwk;
}

/** The RFC 7638 thumbprint of a public JWK: base64url(SHA-256) of its required members. */
export async function jwkThumbprint(jwk: DPoPPublicJwk): Promise<string> {
	const publicJwk = publicJwkOf(jwk as unknown as Record<string, unknown>);
	// Members are already in lexicographic order; JSON.stringify keeps insertion order, no spaces.
	const digest = await crypto.subtle.digest(
		'SHA-256',
		new TextEncoder().encode(JSON.stringify(publicJwk)),
	);
	return base64Url(new Uint8Array(digest));
}

/**
 * The JWS algorithm and the WebCrypto sign parameters for a private key, or `undefined` for a key
 * DPoP cannot use (a symmetric key, a curve other than P-256, RSA under 2048 bits).
 */
export function dpopAlgorithmOf(
	algorithm: KeyAlgorithm,
): { alg: DPoPAlgorithm; sign: AlgorithmIdentifier | EcdsaParams | RsaPssParams } | undefined {
	const named = algorithm as Partial<EcKeyAlgorithm & RsaHashedKeyAlgorithm>;
	switch (algorithm.name) {
		case 'ECDSA':
			return named.namedCurve === 'P-256'
				? { alg: 'ES256', sign: { name: 'ECDSA', hash: 'SHA-256' } }
				: undefined;
		case 'Ed25519':
			return { alg: 'EdDSA', sign: { name: 'Ed25519' } };
		case 'RSASSA-PKCS1-v1_5':
			return rsaHash(named) ? { alg: 'RS256', sign: { name: 'RSASSA-PKCS1-v1_5' } } : undefined;
		case 'RSA-PSS':
			return rsaHash(named)
				? { alg: 'PS256', sign: { name: 'RSA-PSS', saltLength: 32 } }
				: undefined;
		default:
			return undefined;
	}
}

/**
 * Base64url without padding (RFC 4648 §5), as JOSE uses it. pkce.js has one too; importing it
 * (or fields.js's `isRecord`) from here would make bundlers split those modules into chunks of
 * their own, which the first load of every session, DPoP or not, would then fetch.
 */
export function base64Url(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rsaHash(algorithm: Partial<RsaHashedKeyAlgorithm>): boolean {
	return (algorithm.modulusLength ?? 0) >= 2048 && algorithm.hash?.name === 'SHA-256';
}

// RFC 9449 §8.1: nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E.
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
// A nonce is a server's short token; refusing a long one keeps a hostile server from making every
// later proof (and the memory holding it) grow with what it sends.
const MAX_NONCE_LENGTH = 1024;

/**
 * The nonce a `DPoP-Nonce` header gives (RFC 9449 §8), or `undefined` when there is none or it is
 * not valid nonce syntax (it would then be sent back in every proof).
 */
export function dpopNonceOf(headers: Headers): string | undefined {
	const value = headers.get('dpop-nonce')?.trim();
	if (value === undefined || value.length > MAX_NONCE_LENGTH || !NONCE.test(value)) {
		return undefined;
	}
	return value;
}

/** Whether a token endpoint answer asks for a proof with a nonce (RFC 9449 §8: 400 `use_dpop_nonce`). */
export function isUseDPoPNonceError(status: number, body: unknown): boolean {
	return status === 400 && isRecord(body) && body.error === 'use_dpop_nonce';
}

/**
 * Whether a resource server's answer asks for a proof with a nonce (RFC 9449 §9: 401 with a
 * `WWW-Authenticate: DPoP error="use_dpop_nonce"` challenge).
 */
export function isUseDPoPNonceChallenge(status: number, headers: Headers): boolean {
	if (status !== 401) return false;
	return parseWwwAuthenticate(headers.get('www-authenticate')).some(
		(challenge) => challenge.scheme === 'dpop' && challenge.params.error === 'use_dpop_nonce',
	);
}

/**
 * The `cnf.jkt` a JWT access token is bound to (RFC 9449 §6.1), or `undefined` for an opaque
 * token or one without it. Read without checking the signature: it is only compared with the key
 * the session holds, to refuse signing with a key the token is not bound to.
 */
export function boundThumbprintOf(accessToken: string): string | undefined {
	const parts = accessToken.split('.');
	if (parts.length !== 3 || parts[1] === undefined || parts[1].length > 16_384) return undefined;
	try {
		const json = atob(parts[1].replaceAll('-', '+').replaceAll('_', '/'));
		const claims: unknown = JSON.parse(json);
		if (!isRecord(claims) || !isRecord(claims.cnf)) return undefined;
		return typeof claims.cnf.jkt === 'string' ? claims.cnf.jkt : undefined;
	} catch {
		return undefined;
	}
}
