import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import {
	type ClientAuthentication,
	clientSecretBasic,
	clientSecretJwt,
	clientSecretPost,
	noneClientAuthentication,
	privateKeyJwt,
} from '../../src/protocol/client-authentication.js';
import type { TokenRequestParts } from '../../src/protocol/token-request.js';

const endpoint = 'https://as.example/token';

function parts(): TokenRequestParts {
	return {
		url: new URL(endpoint),
		method: 'POST',
		headers: new Headers({ accept: 'application/json' }),
		params: new URLSearchParams({ grant_type: 'client_credentials' }),
	};
}

async function authenticate(auth: ClientAuthentication): Promise<TokenRequestParts> {
	const request = parts();
	await auth(request);
	return request;
}

describe('client_secret_basic and client_secret_post (RFC 6749 §2.3.1)', () => {
	it.each<[string, ClientAuthentication, string]>([
		// base64('a+b%2Bc:p%3Ass%25'): each part form-urlencoded first, as §2.3.1 says.
		[
			'form-urlencodes id and secret',
			clientSecretBasic('a b+c', 'p:ss%'),
			'Basic YStiJTJCYzpwJTNBc3MlMjU=',
		],
		// base64('a b+c:p:ss%')
		[
			'raw values when encode is false',
			clientSecretBasic('a b+c', 'p:ss%', { encode: false }),
			'Basic YSBiK2M6cDpzcyU=',
		],
		// base64 of the UTF-8 bytes of 'id:pässwörd'
		[
			'raw UTF-8',
			clientSecretBasic('id', 'pässwörd', { encode: false }),
			'Basic aWQ6cMOkc3N3w7ZyZA==',
		],
	])('basic %s', async (_, auth, header) => {
		const request = await authenticate(auth);
		expect(request.headers.get('authorization')).toBe(header);
		expect(request.params.toString()).toBe('grant_type=client_credentials');
	});

	it('basic sends an empty secret only when allowEmptySecret says so (Reddit installed apps)', async () => {
		expect(() => clientSecretBasic('app', '')).toThrow(InvalidOptionsError);
		expect(() => clientSecretBasic('app', '', { allowEmptySecret: false })).toThrow(
			InvalidOptionsError,
		);
		const request = await authenticate(clientSecretBasic('app', '', { allowEmptySecret: true }));
		expect(request.headers.get('authorization')).toBe(`Basic ${btoa('app:')}`);
		// A secret that is not a string is still refused: it is a mistake, not an empty password.
		expect(() => clientSecretBasic('app', undefined as never, { allowEmptySecret: true })).toThrow(
			InvalidOptionsError,
		);
	});

	it('post puts id and secret in the body and no Authorization header', async () => {
		const request = await authenticate(clientSecretPost('a b', 's3cret'));
		expect(request.params.toString()).toBe(
			'grant_type=client_credentials&client_id=a+b&client_secret=s3cret',
		);
		expect(request.headers.has('authorization')).toBe(false);
	});

	it('none puts only client_id in the body', async () => {
		const request = await authenticate(noneClientAuthentication('public-app'));
		expect(request.params.toString()).toBe('grant_type=client_credentials&client_id=public-app');
		expect(request.headers.has('authorization')).toBe(false);
	});

	it.each<[string, () => unknown]>([
		['an empty client id', () => clientSecretBasic('', 'x')],
		['a missing secret', () => clientSecretPost('id', undefined as never)],
		['a numeric client id', () => noneClientAuthentication(7 as never)],
		['a lifetime of 0', () => clientSecretJwt('id', 'x', { lifetimeSeconds: 0 })],
		[
			'an unknown HMAC algorithm',
			() => clientSecretJwt('id', 'x', { algorithm: 'RS256' as never }),
		],
	])('refuses %s with InvalidOptionsError', (_, make) => {
		expect(make).toThrow(InvalidOptionsError);
	});

	it('keeps the secret out of inspect output and of errors', () => {
		const secret = 'S3CRET-value';
		for (const auth of [
			clientSecretBasic('id', secret),
			clientSecretPost('id', secret),
			clientSecretJwt('id', secret),
		]) {
			expect(inspect(auth, { showHidden: true })).not.toContain(secret);
		}
		expect(() => clientSecretBasic(secret as never, 42 as never)).toThrow(
			expect.objectContaining({ message: expect.not.stringContaining(secret) }),
		);
	});
});

interface DecodedJwt {
	header: Record<string, unknown>;
	payload: Record<string, unknown>;
	signingInput: Uint8Array<ArrayBuffer>;
	signature: Uint8Array<ArrayBuffer>;
}

function decodeJwt(jwt: string): DecodedJwt {
	const [header, payload, signature] = jwt.split('.') as [string, string, string];
	const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
	return {
		header: json(header),
		payload: json(payload),
		signingInput: new TextEncoder().encode(`${header}.${payload}`),
		signature: Uint8Array.from(Buffer.from(signature, 'base64url')),
	};
}

function expectAssertionClaims(request: TokenRequestParts, audience = endpoint) {
	expect(request.params.get('client_assertion_type')).toBe(
		'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
	);
	expect(request.params.get('client_id')).toBe('my-client');
	expect(request.headers.has('authorization')).toBe(false);
	const jwt = decodeJwt(request.params.get('client_assertion') ?? '');
	const now = Math.floor(Date.now() / 1000);
	expect(jwt.payload).toEqual({
		iss: 'my-client',
		sub: 'my-client',
		aud: audience,
		jti: expect.stringMatching(/^[\w-]{16,}$/),
		iat: expect.any(Number),
		exp: expect.any(Number),
	});
	expect(Math.abs((jwt.payload.iat as number) - now)).toBeLessThanOrEqual(2);
	expect((jwt.payload.exp as number) - (jwt.payload.iat as number)).toBe(60);
	return jwt;
}

const rsa = {
	name: 'RSASSA-PKCS1-v1_5',
	modulusLength: 2048,
	publicExponent: new Uint8Array([1, 0, 1]),
};
const keys = {
	RS256: { ...rsa, hash: 'SHA-256' },
	PS384: { ...rsa, name: 'RSA-PSS', hash: 'SHA-384' },
	ES256: { name: 'ECDSA', namedCurve: 'P-256' },
	EdDSA: { name: 'Ed25519' },
} as const;
const verifyParams: Record<keyof typeof keys, AlgorithmIdentifier | RsaPssParams | EcdsaParams> = {
	RS256: 'RSASSA-PKCS1-v1_5',
	PS384: { name: 'RSA-PSS', saltLength: 48 },
	ES256: { name: 'ECDSA', hash: 'SHA-256' },
	EdDSA: 'Ed25519',
};

describe('private_key_jwt (RFC 7523 §2.2)', () => {
	it.each(Object.keys(keys) as (keyof typeof keys)[])(
		'signs with %s, taken from the key',
		async (alg) => {
			const pair = (await crypto.subtle.generateKey(keys[alg], false, [
				'sign',
				'verify',
			])) as CryptoKeyPair;
			const request = await authenticate(
				privateKeyJwt('my-client', pair.privateKey, { keyId: 'k1' }),
			);
			const jwt = expectAssertionClaims(request);
			expect(jwt.header).toEqual({ alg, typ: 'JWT', kid: 'k1' });
			const valid = await crypto.subtle.verify(
				verifyParams[alg],
				pair.publicKey,
				jwt.signature,
				jwt.signingInput,
			);
			expect(valid).toBe(true);
		},
	);

	it('uses a fresh jti each time and the audience it is given', async () => {
		const pair = (await crypto.subtle.generateKey(keys.ES256, false, ['sign'])) as CryptoKeyPair;
		const auth = privateKeyJwt('my-client', pair.privateKey, { audience: 'https://as.example' });
		const first = expectAssertionClaims(await authenticate(auth), 'https://as.example');
		const second = expectAssertionClaims(await authenticate(auth), 'https://as.example');
		expect(first.payload.jti).not.toBe(second.payload.jti);
	});

	it('refuses a public key, a PEM string, a key that cannot be mapped, and an algorithm the key does not fit', async () => {
		const pair = (await crypto.subtle.generateKey(keys.ES256, false, [
			'sign',
			'verify',
		])) as CryptoKeyPair;
		const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
			'sign',
		]);
		expect(() => privateKeyJwt('c', pair.publicKey)).toThrow(InvalidOptionsError);
		expect(() => privateKeyJwt('c', '-----BEGIN PRIVATE KEY-----' as never)).toThrow(
			InvalidOptionsError,
		);
		expect(() => privateKeyJwt('c', hmac)).toThrow(InvalidOptionsError);
		expect(() => privateKeyJwt('c', pair.privateKey, { algorithm: 'RS256' })).toThrow(
			InvalidOptionsError,
		);
	});
});

describe('client_secret_jwt (RFC 7523 §2.2, HMAC)', () => {
	it.each([
		['HS256', 'SHA-256'],
		['HS512', 'SHA-512'],
	] as const)('signs with %s over the secret', async (algorithm, hash) => {
		const request = await authenticate(
			clientSecretJwt('my-client', 'shared-s3cret', algorithm === 'HS256' ? {} : { algorithm }),
		);
		const jwt = expectAssertionClaims(request);
		expect(jwt.header).toEqual({ alg: algorithm, typ: 'JWT' });
		const key = await crypto.subtle.importKey(
			'raw',
			new TextEncoder().encode('shared-s3cret'),
			{ name: 'HMAC', hash },
			false,
			['verify'],
		);
		expect(await crypto.subtle.verify('HMAC', key, jwt.signature, jwt.signingInput)).toBe(true);
	});

	it('counts the lifetime it is given', async () => {
		const request = await authenticate(clientSecretJwt('my-client', 's', { lifetimeSeconds: 300 }));
		const { payload } = decodeJwt(request.params.get('client_assertion') ?? '');
		expect((payload.exp as number) - (payload.iat as number)).toBe(300);
	});
});
