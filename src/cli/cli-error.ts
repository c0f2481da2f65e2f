/** A failure the CLI explains in one line, without a stack trace. Exit code 1. */
export class CliError extends Error {
	override name = 'CliError' as const;
}

/** A command line that cannot run: the usage is printed. Exit code 2. */
export class UsageError extends Error {
	override name = 'UsageError' as const;
}
