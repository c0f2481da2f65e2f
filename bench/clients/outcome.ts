/** What became of one request: its final HTTP status, or what the client threw, in a few words. */
export function describeError(error: unknown): string {
	if (!(error instanceof Error)) return `thrown ${String(error)}`;
	// The bench server's port changes every run and says nothing.
	return `${error.name}: ${error.message}`
		.replace(/https?:\/\/127\.0\.0\.1:\d+/g, '<server>')
		.replace(/\s+/g, ' ')
		.slice(0, 100);
}

/** Counts `outcome` in `outcomes`. */
export function tally(outcomes: Record<string, number>, outcome: string): void {
	outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
