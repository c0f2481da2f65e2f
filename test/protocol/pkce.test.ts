import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors/index.js';
import {
	base64Url,
	computeCodeChallenge,
	generateCodeVerifier,
	generateState,
} from '../../src/protocol/pkce.js';

const UNRESERVED = /^[A-Za-z0-9\-._~]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

// RFC 7636 Appendix B.
const APPENDIX_B_OCTETS = [
	116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105,
	214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];

describe('computeCodeChallenge (RFC 7636)', () => {
	it('encodes the Appendix B octets to its verifier', () => {
		expect(base64Url(new Uint8Array(APPENDIX_B_OCTETS))).toBe(
			'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
		);
	});

	it.each([
		[[], ''],
		[[0xfb], '-w'],
		[[0xff, 0xff], '__8'],
		[[0, 0, 0], 'AAAA'],
	])('base64url of %j is %s (no padding, - and _)', (bytes, expected) => {
		expect(base64Url(new Uint8Array(bytes))).toBe(expected);
	});

	it('matches the Appendix B vector', async () => {
		await expect(computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe(
			'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
		);
		await expect(
			computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'S256'),
		).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
	});

	it('plain returns the verifier itself', async () => {
		const verifier = 'a'.repeat(43);
		await expect(computeCodeChallenge(verifier, 'plain')).resolves.toBe(verifier);
	});

	it('S256 is base64url without padding: 43 characters for 32 bytes', async () => {
		for (let i = 0; i < 20; i++) {
			const challenge = await computeCodeChallenge(generateCodeVerifier());
			expect(challenge).toMatch(BASE64URL);
			expect(challenge).toHaveLength(43);
		}
	});

	it.each([
		['too short', 'a'.repeat(42)],
		['too long', 'a'.repeat(129)],
		['outside the unreserved set', `${'a'.repeat(42)}+`],
		['with a space', `${'a'.repeat(42)} `],
		['non-ASCII', `${'a'.repeat(42)}é`],
	])('refuses a verifier %s without echoing it', async (_, verifier) => {
		const error = await computeCodeChallenge(verifier).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect((error as Error).message).not.toContain(verifier);
	});

	it('refuses an unknown method', async () => {
		await expect(
			computeCodeChallenge('a'.repeat(43), 'S512' as unknown as 'S256'),
		).rejects.toBeInstanceOf(InvalidOptionsError);
	});
});

describe('generateCodeVerifier', () => {
	it('is 64 unreserved characters by default', () => {
		const verifier = generateCodeVerifier();
		expect(verifier).toHaveLength(64);
		expect(verifier).toMatch(UNRESERVED);
	});

	it.each([43, 44, 100, 128])('makes %i characters', (length) => {
		const verifier = generateCodeVerifier(length);
		expect(verifier).toHaveLength(length);
		expect(verifier).toMatch(UNRESERVED);
	});

	it.each([0, 42, 129, 43.5, Number.NaN])('refuses length %s', (length) => {
		expect(() => generateCodeVerifier(length)).toThrow(InvalidOptionsError);
	});

	it('differs on every call', () => {
		const verifiers = new Set(Array.from({ length: 100 }, () => generateCodeVerifier()));
		expect(verifiers.size).toBe(100);
	});

	it('uses the whole unreserved set, with no character favoured', () => {
		const counts = new Map<string, number>();
		for (let i = 0; i < 1000; i++) {
			for (const char of generateCodeVerifier(128)) counts.set(char, (counts.get(char) ?? 0) + 1);
		}
		// 128,000 draws over 66 characters: 1,939 each, give or take 44. A byte % 66 would give
		// 8 characters about 1,500 draws; the bounds are 5.5 standard deviations wide.
		expect(counts.size).toBe(66);
		for (const count of counts.values()) {
			expect(count).toBeGreaterThan(1700);
			expect(count).toBeLessThan(2180);
		}
	});
});

describe('generateState', () => {
	it('carries at least 128 random bits, base64url', () => {
		const state = generateState();
		expect(state).toMatch(BASE64URL);
		// Each base64url character carries 6 bits.
		expect(state.length * 6).toBeGreaterThanOrEqual(128);
	});

	it('differs on every call', () => {
		const states = new Set(Array.from({ length: 100 }, () => generateState()));
		expect(states.size).toBe(100);
	});

	it('is not a constant-prefixed or low-entropy string', () => {
		// Every position varies across calls: no fixed prefix, no zero padding.
		const samples = Array.from({ length: 64 }, () => generateState());
		const length = samples[0]!.length;
		for (let position = 0; position < length - 1; position++) {
			const seen = new Set(samples.map((s) => s[position]));
			expect(seen.size).toBeGreaterThan(8);
		}
	});
});
