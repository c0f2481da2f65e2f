/** Writes a result line on stdout. */
export function print(line: string): void {
	process.stdout.write(`${line}\n`);
}

/** Writes a message line on stderr, where messages and progress go. */
export function say(line: string): void {
	process.stderr.write(`${line}\n`);
}

/**
 * Shows "<label> (m:ss left)" on stderr until stopped: in place on a terminal, else a line every
 * 15 seconds so a log is not flooded. Returns the function that stops it.
 */
export function showProgress(label: string, deadline: number): () => void {
	const inPlace = process.stderr.isTTY === true;
	const render = () => {
		const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
		const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
		if (inPlace) process.stderr.write(`\r${label} (${clock} left) `);
		else say(`${label} (${clock} left)`);
	};
	render();
	const timer = setInterval(render, inPlace ? 1_000 : 15_000);
	timer.unref();
	return () => {
		clearInterval(timer);
		if (inPlace) process.stderr.write('\n');
	};
}

/** A duration for people: "4m 12s", "2h 5m", "3d 1h". */
export function formatDuration(ms: number): string {
	const seconds = Math.round(Math.abs(ms) / 1000);
	const units: [number, string][] = [
		[86_400, 'd'],
		[3_600, 'h'],
		[60, 'm'],
		[1, 's'],
	];
	const parts: string[] = [];
	let rest = seconds;
	for (const [size, unit] of units) {
		if (rest >= size || (size === 1 && parts.length === 0)) {
			parts.push(`${Math.floor(rest / size)}${unit}`);
			rest %= size;
		}
		if (parts.length === 2) break;
	}
	return parts.join(' ');
}
