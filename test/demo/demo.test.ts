/** `npm run demo` as a newcomer runs it, shortened: a child process, its exit code and summary. */
import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('npm run demo', () => {
	it('runs for --seconds 6, refreshes at least once, and ends with 0 failures', {
		timeout: 60_000,
	}, async () => {
		const { code, stdout, stderr } = await runDemo('main.ts', ['--seconds', '6']);
		expect(stderr).toBe('');
		expect(code).toBe(0);
		expect(stdout).toContain('signed in: authorization code + PKCE');
		const summary = /Summary: (\d+) requests, (\d+) refreshes, (\d+) failures/.exec(stdout);
		expect(summary, stdout).not.toBeNull();
		const [, requests, refreshes, failures] = summary!.map(Number);
		expect(failures).toBe(0);
		expect(refreshes).toBeGreaterThanOrEqual(1);
		expect(requests).toBeGreaterThan(0);
	});
});
