// The wait for a device authorization's approval (RFC 8628 §3.4, §3.5), whoever sends the polls:
// `waitForDeviceToken`, or a session's `fetchToken({ deviceAuthorization })`, which loads this
// module alone, without the device authorization's parser.
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { OAuth2ResponseError } from '../errors/oauth2-response-error.js';
import type { DeviceAuthorization } from '../protocol/device-authorization.js';
import type { Token } from '../protocol/token.js';
import { delay } from '../utils/delay.js';

/** RFC 8628 §3.5: what `slow_down` adds to the interval, for that poll and every later one. */
const SLOW_DOWN_INCREMENT = 5;

/** What one poll of the token endpoint gave. */
export type DevicePoll =
	| {
			/** The user has not finished yet: poll again after the interval. */
			readonly status: 'pending';
			/** The server answered `slow_down`: the interval must grow by 5 seconds from now on. */
			readonly slowDown: boolean;
	  }
	| {
			/** The user approved. */
			readonly status: 'approved';
			/** The token issued. */
			readonly token: Token;
	  };

/** Where a wait for the user stands, after a poll that was not yet approved. */
export interface DevicePollProgress {
	/** How many polls have been answered. */
	readonly polls: number;
	/** Whether this answer was `slow_down`. */
	readonly slowDown: boolean;
	/** The interval from now on, in seconds. */
	readonly interval: number;
	/** When the next poll is sent, in epoch milliseconds. */
	readonly nextPollAt: number;
	/** When the device code expires, in epoch milliseconds. */
	readonly expiresAt: number;
}

/**
 * How to wait for the user's approval: the options of `session.fetchToken({ deviceAuthorization })`,
 * and the waiting part of `waitForDeviceToken`'s.
 */
export interface DeviceWaitOptions {
	/**
	 * What `startDeviceAuthorization` returned (or the same fields, restored).
	 * @example await startDeviceAuthorization({ ... })
	 */
	deviceAuthorization: Pick<DeviceAuthorization, 'deviceCode' | 'interval' | 'expiresAt'>;
	/**
	 * Called after each answer that is not yet a token, so a command line tool can show progress.
	 * What it throws ends the wait.
	 * @default undefined
	 * @example ({ expiresAt }) => spinner.text = `Waiting (${Math.round((expiresAt - Date.now()) / 1000)} s left)`
	 */
	onPending?: ((progress: DevicePollProgress) => void) | undefined;
	/**
	 * Waits `ms` milliseconds, or rejects with the signal's reason when it aborts. Tests pass one
	 * that moves a fake clock.
	 * @default an abortable setTimeout
	 */
	sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
	/**
	 * Ends the wait at once, whether sleeping or polling, rejecting with its reason.
	 * @default undefined: waits until approval, refusal or expiry
	 */
	signal?: AbortSignal | undefined;
}

/** Reads the outcome of one device code token request: `pending` answers are not errors. */
export async function devicePoll(request: Promise<Token>): Promise<DevicePoll> {
	try {
		return { status: 'approved', token: await request };
	} catch (error) {
		if (
			error instanceof OAuth2ResponseError &&
			(error.error === 'authorization_pending' || error.error === 'slow_down')
		) {
			return { status: 'pending', slowDown: error.error === 'slow_down' };
		}
		throw error;
	}
}

/**
 * The polling loop of RFC 8628 §3.4, §3.5, whoever sends the polls: `pollOnce` is one token request
 * with the device code (`waitForDeviceToken`'s own, or a session's with its DPoP proofs).
 * @throws {InvalidOptionsError} `deviceAuthorization` has no positive interval or finite expiresAt;
 *   the message names `caller`.
 */
export async function waitForApproval(
	options: DeviceWaitOptions,
	pollOnce: () => Promise<DevicePoll>,
	caller: string,
	now: () => number = Date.now,
): Promise<Token> {
	const { deviceAuthorization, onPending, sleep = delay, signal } = options;
	const { expiresAt } = deviceAuthorization;
	let interval = deviceAuthorization.interval;
	if (!(interval > 0) || !Number.isFinite(expiresAt)) {
		throw new InvalidOptionsError(
			`${caller} needs a deviceAuthorization with a positive interval and a finite expiresAt`,
		);
	}
	for (let polls = 0; ; ) {
		signal?.throwIfAborted();
		if (now() + interval * 1000 >= expiresAt) {
			throw new OAuth2ResponseError(
				{
					error: 'expired_token',
					errorDescription: 'the device code expires before the next poll; no request was sent',
				},
				{ context: 'The device flow' },
			);
		}
		await sleep(interval * 1000, signal);
		const result = await pollOnce();
		polls++;
		if (result.status === 'approved') return result.token;
		if (result.slowDown) interval += SLOW_DOWN_INCREMENT;
		onPending?.({
			polls,
			slowDown: result.slowDown,
			interval,
			nextPollAt: now() + interval * 1000,
			expiresAt,
		});
	}
}
