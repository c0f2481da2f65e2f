import { defineConfig } from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		setupFiles: ['test/setup/no-console.ts'],
		reporters: ['default', './test/setup/summary-reporter.ts'],
		testTimeout: 20_000,
		hookTimeout: 30_000,
		// Tests that start servers and child processes share two cores; more workers only add contention.
		maxWorkers: 2,
	},
});
