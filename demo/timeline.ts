/** What the demos print with: a clock since the start and the token's age as a bar. */
import type { Token } from '../src/index.js';

const BAR_CELLS = 20;

/** Seconds since `started`, right-aligned: " 12.3s". */
export function clock(started: number, now: number = Date.now()): string {
	return `${((now - started) / 1000).toFixed(1).padStart(5)}s`;
}

/** The token's age as a bar that is full when it expires: "█████···············". */
export function ageBar(token: Token | undefined, now: number = Date.now()): string {
	const lifetime = token?.lifetime;
	if (token?.issuedAt === undefined || lifetime === undefined || lifetime <= 0) {
		return '·'.repeat(BAR_CELLS);
	}
	const filled = Math.round(((now - token.issuedAt) / lifetime) * BAR_CELLS);
	return '█'.repeat(Math.max(0, Math.min(BAR_CELLS, filled))).padEnd(BAR_CELLS, '·');
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const timer = setTimeout(done, ms);
		signal.addEventListener('abort', done, { once: true });
		function done() {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}
	});
}

/**
 * Aborts after `seconds`, or at Ctrl-C (SIGINT). A plain timer: `AbortSignal.timeout` inside
 * `AbortSignal.any` can be garbage collected before it fires on Node 20, and the run never ends.
 */
export function stopAfter(seconds: number): AbortSignal {
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), seconds * 1000);
	process.on('SIGINT', () => {
		clearTimeout(timer);
		controller.abort();
	});
	return controller.signal;
}
