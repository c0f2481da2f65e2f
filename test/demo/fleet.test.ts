/** `npm run demo:fleet`, shortened: processes sharing a FileStore, one refresh per expiry. */
import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('npm run demo:fleet', () => {
	it('3 processes share one token: 0 failures, one refresh per expiry', {
		timeout: 90_000,
	}, async () => {
		const { code, stdout, stderr } = await runDemo('fleet.ts', [
			'--seconds',
			'6',
			'--processes',
			'3',
		]);
		expect(stderr).toBe('');
		expect(code, stdout).toBe(0);
		const summary =
			/Summary: 3 processes, (\d+) requests, (\d+) refreshes .*, (\d+) failures\. The server saw (\d+) refresh requests: one per expiry/.exec(
				stdout,
			);
		expect(summary, stdout).not.toBeNull();
		const [, requests, refreshes, failures, serverRefreshes] = summary!.map(Number);
		expect(failures).toBe(0);
		expect(refreshes).toBeGreaterThanOrEqual(1);
		expect(serverRefreshes).toBe(refreshes);
		expect(requests).toBeGreaterThan(0);
	});
});
