import fc from 'fast-check';
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import {
	accessTokenHash,
	boundThumbprintOf,
	dpopAlgorithmOf,
	dpopHtu,
	dpopNonceOf,
	dpopProofClaims,
	isUseDPoPNonceChallenge,
	isUseDPoPNonceError,
	jwkThumbprint,
	publicJwkOf,
} from '../../src/protocol/dpop.js';
import { runs } from '../fuzz/runs.js';

describe('dpopHtu', () => {
	it('drops the query and the fragment, and normalises scheme, host and default port', () => {
		expect(dpopHtu('HTTPS://API.Example.COM:443/a/../b/c?access_token=x#frag')).toBe(
			'https://api.example.com/b/c',
		);
		expect(dpopHtu('http://127.0.0.1:8080?x=1')).toBe('http://127.0.0.1:8080/');
	});

	it('keeps path and port, and never keeps a query or fragment, for any URL', () => {
		fc.assert(
			fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
				const htu = new URL(dpopHtu(url));
				const given = new URL(url);
				expect(htu.search).toBe('');
				expect(htu.hash).toBe('');
				expect(htu.origin).toBe(given.origin);
				expect(htu.pathname).toBe(given.pathname);
				// Idempotent: the server normalises the same way.
				expect(dpopHtu(htu)).toBe(htu.href);
			}),
			runs,
		);
	});
});

describe('dpopProofClaims', () => {
	it('upper-cases the method, counts iat in seconds and adds nonce and ath only when known', () => {
		expect(
			dpopProofClaims({
				method: 'post',
				url: 'https://as.example/token?x=1',
				jti: 'j',
				now: 1_999,
			}),
		).toEqual({ jti: 'j', htm: 'POST', htu: 'https://as.example/token', iat: 1 });
		expect(
			dpopProofClaims({
				method: 'GET',
				url: 'https://rs.example/',
				jti: 'j',
				now: 5_000,
				nonce: 'n',
				ath: 'a',
			}),
		).toEqual({ jti: 'j', htm: 'GET', htu: 'https://rs.example/', iat: 5, nonce: 'n', ath: 'a' });
	});
});

describe('accessTokenHash', () => {
	it('is base64url(SHA-256) of the token: the example of RFC 9449 §7.1', async () => {
		expect(await accessTokenHash('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(
			'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
		);
	});
});

describe('jwkThumbprint', () => {
	it('matches the RFC 7638 §3.1 example', async () => {
		const jwk = {
			kty: 'RSA',
			n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
			e: 'AQAB',
		};
		expect(await jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
	});

	it('agrees with jose for generated EC, OKP and RSA keys', async () => {
		for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
			const { publicKey } = await jose.generateKeyPair(alg, { extractable: true });
			const jwk = await jose.exportJWK(publicKey);
			expect(await jwkThumbprint(publicJwkOf(jwk))).toBe(await jose.calculateJwkThumbprint(jwk));
		}
	});

	it('never carries a private member into the public JWK', async () => {
		const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
		const jwk = await jose.exportJWK(privateKey);
		expect(jwk.d).toBeDefined();
		expect(Object.keys(publicJwkOf(jwk)).sort()).toEqual(['crv', 'kty', 'x', 'y']);
		expect(() => publicJwkOf({ kty: 'oct', k: 'x' })).toThrow(TypeError);
		expect(() => publicJwkOf({ kty: 'EC', crv: 'P-256', x: 'x' })).toThrow('no y');
	});
});

describe('dpopAlgorithmOf', () => {
	it('maps WebCrypto keys to JWS algorithms and refuses what DPoP cannot use', () => {
		expect(dpopAlgorithmOf({ name: 'ECDSA', namedCurve: 'P-256' } as EcKeyAlgorithm)?.alg).toBe(
			'ES256',
		);
		expect(dpopAlgorithmOf({ name: 'ECDSA', namedCurve: 'P-384' } as EcKeyAlgorithm)).toBe(
			undefined,
		);
		expect(dpopAlgorithmOf({ name: 'Ed25519' })?.alg).toBe('EdDSA');
		const rsa = (modulusLength: number) =>
			({
				name: 'RSASSA-PKCS1-v1_5',
				modulusLength,
				hash: { name: 'SHA-256' },
				publicExponent: new Uint8Array([1, 0, 1]),
			}) as RsaHashedKeyAlgorithm;
		expect(dpopAlgorithmOf(rsa(2048))?.alg).toBe('RS256');
		expect(dpopAlgorithmOf(rsa(1024))).toBe(undefined);
		expect(dpopAlgorithmOf({ name: 'HMAC' })).toBe(undefined);
	});
});

describe('nonces', () => {
	it('reads a DPoP-Nonce of nonce syntax and ignores anything else', () => {
		expect(dpopNonceOf(new Headers({ 'DPoP-Nonce': 'eyJ7S_zG.eyJH0-Z.HX4w-7v' }))).toBe(
			'eyJ7S_zG.eyJH0-Z.HX4w-7v',
		);
		expect(dpopNonceOf(new Headers())).toBe(undefined);
		expect(dpopNonceOf(new Headers({ 'DPoP-Nonce': 'has space' }))).toBe(undefined);
		expect(dpopNonceOf(new Headers({ 'DPoP-Nonce': 'quote"d' }))).toBe(undefined);
		expect(dpopNonceOf(new Headers({ 'DPoP-Nonce': 'x'.repeat(1025) }))).toBe(undefined);
	});

	it('accepts exactly the NQCHAR strings, for any header value', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary-ascii', maxLength: 60 }), (value) => {
				let headers: Headers;
				try {
					headers = new Headers({ 'dpop-nonce': value });
				} catch {
					return; // Not a header value at all (a control character): fetch refuses it.
				}
				const read = dpopNonceOf(headers);
				const trimmed = value.trim();
				const valid = trimmed.length > 0 && /^[!#-[\]-~]+$/.test(trimmed);
				expect(read).toBe(valid ? trimmed : undefined);
			}),
			runs,
		);
	});

	it('tells a token endpoint use_dpop_nonce error from other answers', () => {
		expect(isUseDPoPNonceError(400, { error: 'use_dpop_nonce' })).toBe(true);
		expect(isUseDPoPNonceError(400, { error: 'invalid_dpop_proof' })).toBe(false);
		expect(isUseDPoPNonceError(401, { error: 'use_dpop_nonce' })).toBe(false);
		expect(isUseDPoPNonceError(400, 'use_dpop_nonce')).toBe(false);
	});

	it('tells a resource server use_dpop_nonce challenge, among several, from other 401s', () => {
		const challenge = (value: string, status = 401) =>
			isUseDPoPNonceChallenge(status, new Headers({ 'www-authenticate': value }));
		expect(challenge('DPoP error="use_dpop_nonce", error_description="x"')).toBe(true);
		expect(challenge('Bearer realm="a", DPoP algs="ES256", error="use_dpop_nonce"')).toBe(true);
		expect(challenge('dpop error=use_dpop_nonce')).toBe(true);
		expect(challenge('Bearer error="use_dpop_nonce"')).toBe(false);
		expect(challenge('DPoP error="invalid_token"')).toBe(false);
		expect(challenge('DPoP error="use_dpop_nonce"', 400)).toBe(false);
	});

	it('never throws on malformed challenges, and finds the nonce request only in a DPoP one', () => {
		fc.assert(
			fc.property(
				fc.string({ unit: 'binary-ascii', maxLength: 80 }),
				fc.constantFrom('', 'DPoP error="use_dpop_nonce"', 'Bearer error="use_dpop_nonce"'),
				(noise, known) => {
					let headers: Headers;
					try {
						headers = new Headers({ 'www-authenticate': `${known}${known ? ', ' : ''}${noise}` });
					} catch {
						return;
					}
					const found = isUseDPoPNonceChallenge(401, headers);
					if (known.startsWith('DPoP')) expect(found).toBe(true);
					if (!/dpop/i.test(headers.get('www-authenticate') ?? '')) expect(found).toBe(false);
				},
			),
			runs,
		);
	});
});

describe('boundThumbprintOf', () => {
	it('reads cnf.jkt of a JWT access token and nothing from an opaque one', async () => {
		const key = await jose.generateSecret('HS256');
		const jwt = await new jose.SignJWT({ cnf: { jkt: 'thumb' } })
			.setProtectedHeader({ alg: 'HS256' })
			.sign(key);
		expect(boundThumbprintOf(jwt)).toBe('thumb');
		expect(boundThumbprintOf('opaque-token')).toBe(undefined);
		expect(boundThumbprintOf('a.%%%.c')).toBe(undefined);
	});
});
