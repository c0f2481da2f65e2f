// Telemetry of refreshes and lock waits: through the session's events, and, where the runtime has
// node:diagnostics_channel (Node, Deno, Bun), through channels named after the package, so a
// tracer or a logger can subscribe without holding the session. The module is looked up with
// process.getBuiltinModule rather than imported: a browser bundle never sees it, and a runtime
// without it reports through the events alone.
import { ReauthenticationRequiredError } from '../errors/reauthentication-required-error.js';
import { StorageError } from '../errors/storage-error.js';
import type { Token } from '../protocol/token.js';
import type {
	Emitter,
	LockWaitOutcome,
	OAuth2SessionEvents,
	RefreshOutcome,
	RefreshReason,
} from './events.js';

/** The part of node:diagnostics_channel used here; no Node types in runtime-neutral code. */
interface Channel {
	readonly hasSubscribers: boolean;
	publish(message: object): void;
}
interface TracingChannel {
	readonly hasSubscribers: boolean;
	tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>;
}
interface DiagnosticsChannel {
	channel(name: string): Channel;
	tracingChannel(name: string): TracingChannel;
}

/**
 * The context of a trace on the `oauth2-session:refresh` tracing channel: `reason`, `resource` and
 * `storeKey` from `start` on; `outcome` and `durationMs` set before `asyncEnd` (and `error` before `error`).
 * It never holds the token: the traced function returns nothing, so `result` stays `undefined`.
 */
export interface RefreshTrace {
	/** Why the refresh was asked for. */
	reason: RefreshReason;
	/** The origin of the `resources` API whose token it gets; `undefined` for the session's own. */
	resource: string | undefined;
	/** The store key of the session refreshing (`storeKey`; a user's key in `OAuth2Client`). */
	storeKey: string;
	/** How it ended; set before `asyncEnd`. */
	outcome?: RefreshOutcome;
	/** How long it took, in milliseconds; set before `asyncEnd`. */
	durationMs?: number;
	/** What it failed with; set by the channel before `error`. */
	error?: unknown;
}

/** A message of the `oauth2-session:lock` channel: a wait for the store's lock, ended. */
export interface LockWaitMessage {
	/** How the wait ended. */
	outcome: LockWaitOutcome;
	/** How long it took, in milliseconds. */
	durationMs: number;
	/** The store key whose lock was waited for. */
	storeKey: string;
}

let channels: { refresh: TracingChannel; lock: Channel } | null | undefined;

/** The package's channels, made at the first refresh; `undefined` where the runtime has none. */
function diagnostics(): { refresh: TracingChannel; lock: Channel } | undefined {
	if (channels === undefined) {
		const dc = (
			globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
		).process?.getBuiltinModule?.('node:diagnostics_channel') as DiagnosticsChannel | undefined;
		channels =
			typeof dc?.tracingChannel === 'function'
				? {
						refresh: dc.tracingChannel('oauth2-session:refresh'),
						lock: dc.channel('oauth2-session:lock'),
					}
				: null;
	}
	return channels ?? undefined;
}

type Events = Emitter<OAuth2SessionEvents>;

/**
 * Runs one refresh and reports it: `refreshStarted` and `refreshFinished`, and a trace on the
 * `oauth2-session:refresh` tracing channel whose context is `{ reason, resource, storeKey }`, then
 * `outcome` and `durationMs` (and `error`), never the token. The refresh runs inside the trace, so
 * a tracer that binds a store to its `start` channel parents the token request's span to it.
 *
 * @param obtained How many tokens the session has got from the server: one more after the run
 *   tells a refresh of its own from a token adopted from the store.
 */
export async function reportRefresh(
	events: Events,
	subject: Pick<RefreshTrace, 'reason' | 'resource' | 'storeKey'>,
	run: () => Promise<Token>,
	obtained: () => number,
): Promise<Token> {
	const { reason, resource } = subject;
	events.emit('refreshStarted', { reason, resource });
	const started = performance.now();
	const before = obtained();
	const measured = async (trace?: object): Promise<Token> => {
		const finish = (outcome: RefreshOutcome, error: unknown) => {
			const durationMs = performance.now() - started;
			if (trace !== undefined) Object.assign(trace, { outcome, durationMs });
			events.emit('refreshFinished', { reason, resource, outcome, durationMs, error });
		};
		try {
			const token = await run();
			finish(obtained() > before ? 'success' : 'adopted', undefined);
			return token;
		} catch (error) {
			finish(error instanceof ReauthenticationRequiredError ? 'ended' : 'failed', error);
			throw error;
		}
	};
	const channel = diagnostics()?.refresh;
	if (channel?.hasSubscribers !== true) return measured();
	let token: Token | undefined;
	const trace: RefreshTrace = { ...subject };
	// The traced function returns nothing: the channel puts its result in the context.
	await channel.tracePromise(async () => {
		token = await measured(trace);
	}, trace);
	return token as Token;
}

/** Reports a wait for the store's lock, from now to the first of `acquired()` and `failed()`. */
export function lockWait(
	events: Events,
	storeKey: string,
): { acquired(): void; failed(error: unknown): void } {
	const started = performance.now();
	let reported = false;
	const report = (outcome: LockWaitOutcome) => {
		if (reported) return;
		reported = true;
		const durationMs = performance.now() - started;
		events.emit('lockWaited', { outcome, durationMs });
		const channel = diagnostics()?.lock;
		if (channel?.hasSubscribers) {
			channel.publish({ outcome, durationMs, storeKey } satisfies LockWaitMessage);
		}
	};
	return {
		acquired: () => report('acquired'),
		failed: (error) => {
			const problem = error instanceof StorageError ? error.problem : undefined;
			report(
				problem === 'lock-timeout'
					? 'timeout'
					: problem === 'unavailable'
						? 'unavailable'
						: 'failed',
			);
		},
	};
}
