/**
 * A library must not print. Any console call made during a test fails that test,
 * unless the test asked for it with `allowConsole()`.
 */
import { afterEach, beforeEach } from 'vitest';

const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const originals = new Map(methods.map((m) => [m, console[m]]));
let calls: string[] = [];
let allowed = false;

export function allowConsole(): void {
	allowed = true;
}

for (const method of methods) {
	console[method] = (...args: unknown[]) => {
		if (allowed) {
			originals.get(method)?.apply(console, args);
			return;
		}
		calls.push(`console.${method}(${args.map((a) => String(a)).join(', ')})`);
	};
}

beforeEach(() => {
	calls = [];
	allowed = false;
});

afterEach(() => {
	if (calls.length > 0) {
		const seen = calls;
		calls = [];
		throw new Error(`Unexpected console output during the test:\n${seen.join('\n')}`);
	}
});
