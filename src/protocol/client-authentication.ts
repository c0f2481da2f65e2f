import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import type { TokenRequestParts } from './token-request.js';

/**
 * How a client proves who it is at the token endpoint (RFC 6749 §2.3): a function that adds
 * parameters and headers to a token request. It runs last, after the grant and extra parameters,
 * so it sees the whole request. Write your own for a method not built in.
 *
 * @example
 * const auth: ClientAuthentication = (request) => {
 *   request.headers.set('x-api-key', apiKey);
 *   request.params.set('client_id', clientId);
 * };
 */
export type ClientAuthentication = (request: TokenRequestParts) => void | Promise<void>;

/** Options of `clientSecretBasic`. */
export interface ClientSecretBasicOptions {
	/**
	 * Form-urlencode the id and the secret before base64, as RFC 6749 §2.3.1 says. Some servers
	 * expect the raw values instead; this matters only for ids and secrets with characters such
	 * as `:`, `%`, `+` or spaces.
	 * @default true
	 */
	encode?: boolean | undefined;
	/**
	 * Send an empty secret (`Authorization: Basic` of `id:`), as some providers document for apps
	 * that cannot keep one (Reddit's installed apps). Off, an empty secret throws: it is most often
	 * a secret that was not configured.
	 * @default false
	 */
	allowEmptySecret?: boolean | undefined;
}

/** Options of `privateKeyJwt` and `clientSecretJwt`. */
export interface ClientAssertionOptions {
	/**
	 * The `kid` header, so the server can pick the key among the client's registered keys.
	 * @default undefined: no `kid` header
	 */
	keyId?: string | undefined;
	/**
	 * The `aud` claim. Some servers want their issuer identifier here instead.
	 * @default the token endpoint URL
	 */
	audience?: string | undefined;
	/**
	 * How long the assertion is valid, in seconds (`exp` minus `iat`).
	 * @default 60
	 */
	lifetimeSeconds?: number | undefined;
}

/** Options of `privateKeyJwt`. */
export interface PrivateKeyJwtOptions extends ClientAssertionOptions {
	/**
	 * The JWS algorithm: `RS256`-`RS512`, `PS256`-`PS512`, `ES256`-`ES512` or `EdDSA`.
	 * @default read from the key (an RSASSA-PKCS1-v1_5 SHA-256 key gives `RS256`)
	 */
	algorithm?: string | undefined;
}

/** Options of `clientSecretJwt`. */
export interface ClientSecretJwtOptions extends ClientAssertionOptions {
	/**
	 * The HMAC JWS algorithm.
	 * @default 'HS256'
	 */
	algorithm?: 'HS256' | 'HS384' | 'HS512' | undefined;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEFAULT_LIFETIME_SECONDS = 60;

/**
 * `client_secret_basic`: id and secret in an `Authorization: Basic` header (RFC 6749 §2.3.1).
 * The default for confidential clients; every server must support it.
 */
export function clientSecretBasic(
	clientId: string,
	clientSecret: string,
	options: ClientSecretBasicOptions = {},
): ClientAuthentication {
	checkCredentials(clientId, clientSecret, 'clientSecretBasic', options.allowEmptySecret);
	const encode = options.encode ?? true;
	const credentials = encode
		? `${formEncode(clientId)}:${formEncode(clientSecret)}`
		: `${clientId}:${clientSecret}`;
	const header = `Basic ${base64(new TextEncoder().encode(credentials))}`;
	return (request) => {
		request.headers.set('authorization', header);
	};
}

/** `client_secret_post`: id and secret as body parameters (RFC 6749 §2.3.1). */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuthentication {
	checkCredentials(clientId, clientSecret, 'clientSecretPost');
	return (request) => {
		request.params.set('client_id', clientId);
		request.params.set('client_secret', clientSecret);
	};
}

/** `none`: a public client (a browser or mobile app) sends only its `client_id` (RFC 6749 §3.2.1). */
export function noneClientAuthentication(clientId: string): ClientAuthentication {
	checkClientId(clientId, 'noneClientAuthentication');
	return (request) => {
		request.params.set('client_id', clientId);
	};
}

/**
 * `private_key_jwt`: a JWT signed with the client's private key (RFC 7523 §2.2, OpenID Connect
 * Core §9), made afresh for each request with a random `jti`. The key is a WebCrypto private key
 * that may be non-extractable.
 */
export function privateKeyJwt(
	clientId: string,
	key: CryptoKey,
	options: PrivateKeyJwtOptions = {},
): ClientAuthentication {
	checkClientId(clientId, 'privateKeyJwt');
	// Duck-typed: a key from another realm or a WebCrypto polyfill fails instanceof.
	if (typeof key !== 'object' || key === null || key.type !== 'private' || !key.algorithm) {
		throw new InvalidOptionsError('privateKeyJwt needs a private CryptoKey');
	}
	if (!key.usages?.includes('sign')) {
		throw new InvalidOptionsError("privateKeyJwt needs a key with the 'sign' usage");
	}
	const algorithm = options.algorithm ?? algorithmOfKey(key);
	const signParams = algorithm === undefined ? undefined : asymmetricAlgorithms[algorithm];
	if (algorithm === undefined || signParams === undefined) {
		throw new InvalidOptionsError(
			`privateKeyJwt cannot sign with a ${key.algorithm.name} key${algorithm ? ` as ${algorithm}` : ''}; use an RSA, RSA-PSS, ECDSA or Ed25519 key`,
		);
	}
	if (signParams.name !== key.algorithm.name) {
		throw new InvalidOptionsError(
			`privateKeyJwt: algorithm ${algorithm} does not fit a ${key.algorithm.name} key`,
		);
	}
	return clientAssertion(clientId, algorithm, options, (input) =>
		crypto.subtle.sign(signParams, key, input),
	);
}

/**
 * `client_secret_jwt`: a JWT signed with HMAC over the client secret (RFC 7523 §2.2, OpenID
 * Connect Core §9). The secret never leaves the client, unlike `client_secret_basic`.
 */
export function clientSecretJwt(
	clientId: string,
	clientSecret: string,
	options: ClientSecretJwtOptions = {},
): ClientAuthentication {
	checkCredentials(clientId, clientSecret, 'clientSecretJwt');
	const algorithm = options.algorithm ?? 'HS256';
	const hash = hmacHashes[algorithm];
	if (hash === undefined) {
		throw new InvalidOptionsError('clientSecretJwt: algorithm must be HS256, HS384 or HS512');
	}
	let key: Promise<CryptoKey> | undefined;
	return clientAssertion(clientId, algorithm, options, async (input) => {
		key ??= crypto.subtle.importKey(
			'raw',
			new TextEncoder().encode(clientSecret),
			{ name: 'HMAC', hash },
			false,
			['sign'],
		);
		return crypto.subtle.sign('HMAC', await key, input);
	});
}

type Sign = (input: Uint8Array<ArrayBuffer>) => Promise<ArrayBuffer>;

function clientAssertion(
	clientId: string,
	algorithm: string,
	options: ClientAssertionOptions,
	sign: Sign,
): ClientAuthentication {
	const lifetime = options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
	if (!Number.isInteger(lifetime) || lifetime <= 0) {
		throw new InvalidOptionsError('lifetimeSeconds must be a positive whole number of seconds');
	}
	const header = { alg: algorithm, typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) };
	return async (request) => {
		const iat = Math.floor(Date.now() / 1000);
		const payload = {
			iss: clientId,
			sub: clientId,
			aud: options.audience ?? request.url.href,
			jti: crypto.randomUUID(),
			iat,
			exp: iat + lifetime,
		};
		const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
		const signature = await sign(new TextEncoder().encode(signingInput));
		request.params.set('client_id', clientId);
		request.params.set('client_assertion_type', ASSERTION_TYPE);
		request.params.set(
			'client_assertion',
			`${signingInput}.${base64url(new Uint8Array(signature))}`,
		);
	};
}

type SignParams = AlgorithmIdentifier & (Algorithm | RsaPssParams | EcdsaParams);

const asymmetricAlgorithms: Readonly<Record<string, SignParams>> = {
	RS256: { name: 'RSASSA-PKCS1-v1_5' },
	RS384: { name: 'RSASSA-PKCS1-v1_5' },
	RS512: { name: 'RSASSA-PKCS1-v1_5' },
	// RFC 7518 §3.5: the salt is as long as the hash.
	PS256: { name: 'RSA-PSS', saltLength: 32 },
	PS384: { name: 'RSA-PSS', saltLength: 48 },
	PS512: { name: 'RSA-PSS', saltLength: 64 },
	ES256: { name: 'ECDSA', hash: 'SHA-256' },
	ES384: { name: 'ECDSA', hash: 'SHA-384' },
	ES512: { name: 'ECDSA', hash: 'SHA-512' },
	EdDSA: { name: 'Ed25519' },
};

const hmacHashes: Readonly<Record<string, string>> = {
	HS256: 'SHA-256',
	HS384: 'SHA-384',
	HS512: 'SHA-512',
};

function algorithmOfKey(key: CryptoKey): string | undefined {
	const algorithm = key.algorithm as KeyAlgorithm & {
		hash?: { name: string };
		namedCurve?: string;
	};
	const bits = algorithm.hash?.name.replace('SHA-', '');
	switch (algorithm.name) {
		case 'RSASSA-PKCS1-v1_5':
			return `RS${bits}`;
		case 'RSA-PSS':
			return `PS${bits}`;
		case 'ECDSA':
			return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[algorithm.namedCurve ?? ''];
		case 'Ed25519':
			return 'EdDSA';
		default:
			return undefined;
	}
}

function checkClientId(clientId: unknown, name: string): void {
	if (typeof clientId !== 'string' || clientId === '') {
		throw new InvalidOptionsError(`${name} needs a non-empty client id string`);
	}
}

function checkCredentials(
	clientId: unknown,
	clientSecret: unknown,
	name: string,
	allowEmpty?: boolean,
): void {
	checkClientId(clientId, name);
	if (typeof clientSecret !== 'string' || (clientSecret === '' && allowEmpty !== true)) {
		throw new InvalidOptionsError(`${name} needs a non-empty client secret string`);
	}
}

/** application/x-www-form-urlencoded, as URLSearchParams writes it (space as `+`). */
function formEncode(value: string): string {
	return new URLSearchParams([['', value]]).toString().slice(1);
}

function base64(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

function base64url(bytes: Uint8Array): string {
	return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64urlJson(value: unknown): string {
	return base64url(new TextEncoder().encode(JSON.stringify(value)));
}
