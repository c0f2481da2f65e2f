// What every property of the fuzz suite shares: how many runs (FUZZ_RUNS, 1,000 by default; `npm run
// test:long` sets 100,000), the generated secrets, and the checks on what a run may throw.
import { inspect } from 'node:util';
import fc from 'fast-check';
import { expect } from 'vitest';
import { isOAuth2Error } from '../../src/errors/index.js';

const fromEnv = Number(process.env.FUZZ_RUNS);

/** Runs per property: `FUZZ_RUNS` when set to a positive number, else 1,000. */
export const fuzzRuns = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1_000;

/** The options every `fc.assert` takes. */
export const runs: fc.Parameters<unknown> = { numRuns: fuzzRuns };

/**
 * A test timeout that only catches a hang: 1,000 runs of the slowest property take about 9 s alone
 * and over 30 s on a loaded two-core machine (CI runs three suites), so it allows two minutes and
 * grows with the runs.
 */
export const fuzzTimeout = Math.max(120_000, fuzzRuns * 10);

/**
 * High-entropy secrets from an alphabet (upper case after "SECRET") that no other generated value
 * and no message of the library can contain by accident: finding one in an error is a leak.
 */
export const secret = fc.stringMatching(/^SECRET[A-Z0-9]{16,40}$/);

/** Every printout of a value someone may log: message, JSON, `inspect` to any depth, `String`. */
export function printouts(value: unknown): string {
	const message = value instanceof Error ? value.message : '';
	return [
		message,
		JSON.stringify(value),
		inspect(value),
		inspect(value, { depth: Number.POSITIVE_INFINITY }),
		String(value),
	].join('\n');
}

/** A library error (`isOAuth2Error`) that prints none of `secrets`. */
export function expectTypedErrorWithout(error: unknown, secrets: readonly string[]): void {
	expect(isOAuth2Error(error), `not a typed error: ${inspect(error)}`).toBe(true);
	expectNoSecret(error, secrets);
}

/** No printout of `value` contains any of `secrets`. */
export function expectNoSecret(value: unknown, secrets: readonly string[]): void {
	const text = printouts(value);
	for (const s of secrets) expect(text.includes(s), `a secret leaked: ${text}`).toBe(false);
}

/** What `run` returned, or what it threw. */
export function outcome<T>(run: () => T): { value: T } | { error: unknown } {
	try {
		return { value: run() };
	} catch (error) {
		return { error };
	}
}
