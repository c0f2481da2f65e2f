import { DPoPError } from '../errors/dpop-error.js';
import {
	base64Url,
	type DPoPAlgorithm,
	type DPoPProofHeader,
	dpopAlgorithmOf,
	dpopProofClaims,
	jwkThumbprint,
	publicJwkOf,
} from '../protocol/dpop.js';
import type { StoredDPoPKey } from '../storage/token-store.js';

const encoder = new TextEncoder();

/**
 * A DPoP key pair, ready to sign proofs with WebCrypto. The private key stays in a private field:
 * no `inspect`, JSON or message shows it, only the thumbprint.
 */
export class DPoPKey {
	/** The RFC 7638 thumbprint of the public key: what a bound token's `cnf.jkt` holds. */
	readonly thumbprint: string;
	readonly #privateKey: CryptoKey;
	readonly #sign: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
	/** The encoded proof header, the same for every proof of this key. */
	readonly #encodedHeader: string;

	private constructor(
		privateKey: CryptoKey,
		sign: AlgorithmIdentifier | EcdsaParams | RsaPssParams,
		header: DPoPProofHeader,
		thumbprint: string,
	) {
		this.#privateKey = privateKey;
		this.#sign = sign;
		this.#encodedHeader = base64Url(encoder.encode(JSON.stringify(header)));
		this.thumbprint = thumbprint;
	}

	/**
	 * Takes a key pair: ES256 (P-256), EdDSA (Ed25519), RS256 or PS256 (2048 bits or more), whose
	 * public key can be exported.
	 * @throws {DPoPError} `unsupported-key`.
	 */
	static async fromKeyPair(keyPair: CryptoKeyPair): Promise<DPoPKey> {
		const { privateKey, publicKey } = keyPair ?? {};
		const algorithm =
			privateKey?.type === 'private' && privateKey.usages.includes('sign')
				? dpopAlgorithmOf(privateKey.algorithm)
				: undefined;
		if (algorithm === undefined || publicKey?.type !== 'public') {
			throw new DPoPError(
				'The DPoP key pair must be an ES256 (P-256), EdDSA (Ed25519), RS256 or PS256 (2048 bits or more) key pair whose private key may sign',
				'unsupported-key',
			);
		}
		let jwk: JsonWebKey;
		try {
			jwk = await crypto.subtle.exportKey('jwk', publicKey);
		} catch (cause) {
			throw new DPoPError('The DPoP public key cannot be exported', 'unsupported-key', { cause });
		}
		const publicJwk = publicJwkOf(jwk as Record<string, unknown>);
		const header: DPoPProofHeader = { typ: 'dpop+jwt', alg: algorithm.alg, jwk: publicJwk };
		return new DPoPKey(privateKey, algorithm.sign, header, await jwkThumbprint(publicJwk));
	}

	/**
	 * Makes a new ES256 key pair. For a store of structured clones the private key is not
	 * extractable and the pair itself is stored; for a JSON store it is stored as a JWK.
	 */
	static async generate(keepsCryptoKeys: boolean): Promise<{ key: DPoPKey; entry: StoredDPoPKey }> {
		const params: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
		const usages: KeyUsage[] = ['sign', 'verify'];
		const keyPair = (await crypto.subtle.generateKey(
			params,
			!keepsCryptoKeys,
			usages,
		)) as CryptoKeyPair;
		const key = await DPoPKey.fromKeyPair(keyPair);
		if (keepsCryptoKeys) return { key, entry: { jkt: key.thumbprint, keyPair } };
		const privateJwk = await crypto.subtle.exportKey('jwk', keyPair.privateKey);
		return { key, entry: { jkt: key.thumbprint, privateJwk } };
	}

	/**
	 * The key a record holds, checked against the thumbprint stored with it.
	 * @throws {DPoPError} `key-missing` (the entry holds no key), `key-mismatch`, `unsupported-key`.
	 */
	static async fromEntry(entry: StoredDPoPKey): Promise<DPoPKey> {
		let key: DPoPKey;
		if (entry.keyPair !== undefined) {
			key = await DPoPKey.fromKeyPair(entry.keyPair);
		} else if (entry.privateJwk !== undefined) {
			key = await DPoPKey.fromKeyPair(await importPrivateJwk(entry.privateJwk));
		} else {
			throw new DPoPError(
				'The stored record names the DPoP key its token is bound to but holds no key: pass that key as dpop.keyPair, or sign in again',
				'key-missing',
			);
		}
		if (key.thumbprint !== entry.jkt) {
			throw new DPoPError(
				'The DPoP key in the stored record does not match the thumbprint stored with it',
				'key-mismatch',
			);
		}
		return key;
	}

	/** A proof for `method` on `url` (RFC 9449 §4.2), with the nonce and `ath` when given. */
	async proof(
		method: string,
		url: URL,
		options: { nonce?: string | undefined; ath?: string | undefined } = {},
	): Promise<string> {
		const claims = dpopProofClaims({
			method,
			url,
			jti: crypto.randomUUID(),
			now: Date.now(),
			nonce: options.nonce,
			ath: options.ath,
		});
		const input = `${this.#encodedHeader}.${base64Url(encoder.encode(JSON.stringify(claims)))}`;
		const signature = await crypto.subtle.sign(this.#sign, this.#privateKey, encoder.encode(input));
		// WebCrypto's ECDSA signature is already r || s, the form JWS uses (RFC 7518 §3.4).
		return `${input}.${base64Url(new Uint8Array(signature))}`;
	}

	toJSON(): { thumbprint: string } {
		return { thumbprint: this.thumbprint };
	}

	[Symbol.for('nodejs.util.inspect.custom')](): string {
		return `DPoPKey { thumbprint: '${this.thumbprint}' }`;
	}
}

async function importPrivateJwk(jwk: JsonWebKey): Promise<CryptoKeyPair> {
	const algorithm = importAlgorithm(jwk);
	try {
		const privateKey = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
		const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ...publicOnly } = jwk;
		const publicKey = await crypto.subtle.importKey('jwk', publicOnly, algorithm, true, ['verify']);
		return { privateKey, publicKey };
	} catch (cause) {
		// The cause is WebCrypto's, which names no key material.
		throw new DPoPError('The stored DPoP key cannot be imported', 'unsupported-key', { cause });
	}
}

function importAlgorithm(
	jwk: JsonWebKey,
): AlgorithmIdentifier | EcKeyImportParams | RsaHashedImportParams {
	const alg = jwk.alg as DPoPAlgorithm | undefined;
	if (jwk.kty === 'EC') return { name: 'ECDSA', namedCurve: jwk.crv ?? 'P-256' };
	if (jwk.kty === 'OKP') return { name: 'Ed25519' };
	if (jwk.kty === 'RSA') {
		return { name: alg === 'PS256' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
	}
	throw new DPoPError('The stored DPoP key is not an EC, OKP or RSA key', 'unsupported-key');
}
