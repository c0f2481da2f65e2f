import { InvalidOptionsError } from '../errors/invalid-options-error.js';

/** A PKCE code challenge method (RFC 7636 §4.2). Prefer `S256`; `plain` is for servers without it. */
export type CodeChallengeMethod = 'S256' | 'plain';

// RFC 7636 §4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// Bytes at or above this would make the first characters likelier than the rest.
const UNBIASED_LIMIT = 256 - (256 % UNRESERVED.length);

/**
 * Makes a PKCE code verifier (RFC 7636 §4.1): `length` characters drawn uniformly from the
 * unreserved set, from `crypto.getRandomValues`.
 *
 * @param length How many characters, 43 to 128. @default 64
 * @throws {InvalidOptionsError} `length` is not an integer from 43 to 128.
 */
export function generateCodeVerifier(length = 64): string {
	if (!Number.isInteger(length) || length < 43 || length > 128) {
		throw new InvalidOptionsError('A code verifier must be 43 to 128 characters long (RFC 7636)');
	}
	let verifier = '';
	while (verifier.length < length) {
		for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
			if (byte < UNBIASED_LIMIT && verifier.length < length) {
				verifier += UNRESERVED[byte % UNRESERVED.length];
			}
		}
	}
	return verifier;
}

/**
 * The code challenge for a verifier (RFC 7636 §4.2): for `S256`, the base64url (unpadded)
 * SHA-256 of the verifier; for `plain`, the verifier itself.
 *
 * @param method @default 'S256'
 * @throws {InvalidOptionsError} The verifier is not 43 to 128 unreserved characters, or the method
 *   is unknown. The message never contains the verifier.
 */
export async function computeCodeChallenge(
	verifier: string,
	method: CodeChallengeMethod = 'S256',
): Promise<string> {
	if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) {
		throw new InvalidOptionsError(
			'A code verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_" and "~" (RFC 7636)',
		);
	}
	if (method === 'plain') return verifier;
	if (method !== 'S256') {
		throw new InvalidOptionsError(
			`Unknown code challenge method ${String(method)}: use 'S256' or 'plain'`,
		);
	}
	const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
	return base64Url(new Uint8Array(digest));
}

/**
 * Makes an unguessable `state` for an authorization request: 256 random bits, base64url.
 * Keep it (in the user's session, not in a cookie anyone can set) and check it on the callback.
 */
export function generateState(): string {
	return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Base64url without padding (RFC 4648 §5), as RFC 7636 and JOSE use it. */
export function base64Url(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}
