/** The longest delay `setTimeout` honours; longer ones fire at once. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A timer for any delay: delays past `MAX_TIMER_DELAY` (about 24.8 days) are waited in steps, and in
 * Node the timer is `unref()`ed so it never keeps a process alive. Returns a cancel function.
 */
export function scheduleAt(
	at: number,
	callback: () => void,
	now: () => number = Date.now,
): () => void {
	let handle: ReturnType<typeof setTimeout> | undefined;
	const arm = () => {
		const delay = Math.max(0, at - now());
		if (delay > MAX_TIMER_DELAY) {
			handle = setTimeout(arm, MAX_TIMER_DELAY);
		} else {
			handle = setTimeout(callback, delay);
		}
		(handle as unknown as { unref?: () => void }).unref?.();
	};
	arm();
	return () => {
		if (handle !== undefined) clearTimeout(handle);
		handle = undefined;
	};
}
