import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { OAuth2ResponseError } from '../errors/oauth2-response-error.js';
import { withScopes } from '../protocol/authorization-url.js';
import {
	type DeviceAuthorization,
	type DeviceAuthorizationRequestOptions,
	deviceAuthorizationRequest,
	parseDeviceAuthorizationResponse,
	SLOW_DOWN_INCREMENT,
} from '../protocol/device-authorization.js';
import { deviceCodeGrant } from '../protocol/grants.js';
import type { ProviderProfile } from '../protocol/profile.js';
import type { Token } from '../protocol/token.js';
import { delay } from '../utils/delay.js';
import {
	type RequestTokenOptions,
	requestToken,
	type SendTokenRequestOptions,
} from './request-token.js';
import { sendEndpointRequest } from './send-endpoint-request.js';

/** Options of `startDeviceAuthorization`: what to ask for, and how the request is sent. */
export interface StartDeviceAuthorizationOptions
	extends DeviceAuthorizationRequestOptions,
		SendTokenRequestOptions {
	/**
	 * A provider profile: its `authorizationScopes` (Microsoft's `offline_access`) are added to
	 * `scope`, its `scopeSeparator` is the default, and its `tokenRequestHeaders` are sent (the
	 * caller's `headers` win). Pass it to `waitForDeviceToken` too.
	 * @default undefined: none
	 */
	profile?: ProviderProfile | undefined;
}

/** Options of `pollDeviceToken`: the token request of RFC 8628 §3.4, without its grant. */
export interface PollDeviceTokenOptions extends Omit<RequestTokenOptions, 'grant'> {
	/** The `deviceCode` of the device authorization. */
	deviceCode: string;
}

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

/** Options of `waitForDeviceToken`. `now` is also the clock the deadline is checked with. */
export interface WaitForDeviceTokenOptions
	extends Omit<PollDeviceTokenOptions, 'deviceCode' | 'signal'>,
		DeviceWaitOptions {}

/**
 * Starts the device authorization grant (RFC 8628 §3.1): returns the codes to show the user and to
 * poll with.
 *
 * @example
 * const authorization = await startDeviceAuthorization({
 *   deviceAuthorizationEndpoint: metadata.device_authorization_endpoint,
 *   clientAuthentication: noneClientAuthentication('cli'),
 *   scope: ['openid', 'offline_access'],
 * });
 *
 * @throws {OAuth2ResponseError} An error answer, such as `invalid_client` or `invalid_scope`.
 * @throws {TokenResponseError} The answer lacks a field or has one of the wrong form.
 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
 * @throws {InsecureTransportError} The endpoint is `http:` on a host that is not loopback.
 */
export async function startDeviceAuthorization(
	options: StartDeviceAuthorizationOptions,
): Promise<DeviceAuthorization> {
	const { profile } = options;
	const separator = options.scopeSeparator ?? profile?.scopeSeparator;
	const headers = new Headers(profile?.tokenRequestHeaders);
	for (const [name, value] of new Headers(options.headers)) headers.set(name, value);
	const request = {
		...options,
		scope: withScopes(options.scope, profile?.authorizationScopes ?? [], separator ?? ' '),
		scopeSeparator: separator,
		headers,
	};
	const answer = await sendEndpointRequest(() => deviceAuthorizationRequest(request), {
		endpointName: 'device authorization endpoint',
		...options,
	});
	return parseDeviceAuthorizationResponse(answer.body, answer);
}

/**
 * Polls the token endpoint once with the device code (RFC 8628 §3.4). `authorization_pending` and
 * `slow_down` are answers, not errors; anything else the server refuses with is thrown.
 *
 * @throws {OAuth2ResponseError} `access_denied`, `expired_token`, `invalid_grant`...
 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
 * @throws {TokenResponseError} The answer cannot be read, or has no access token.
 */
export function pollDeviceToken(options: PollDeviceTokenOptions): Promise<DevicePoll> {
	const { deviceCode, ...rest } = options;
	return devicePoll(requestToken({ ...rest, grant: deviceCodeGrant({ deviceCode }) }));
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
 * Waits for the user to approve a device authorization (RFC 8628 §3.4, §3.5): polls the token
 * endpoint every `interval` seconds, the first poll one interval after the call, and adds 5 seconds
 * to the interval at each `slow_down`, for that poll and every later one. Each poll is retried on
 * network errors, 5xx and 429 as any token request is.
 *
 * @example
 * process.stderr.write(`Open ${authorization.verificationUri} and enter ${authorization.userCode}\n`);
 * const token = await waitForDeviceToken({
 *   tokenEndpoint: metadata.token_endpoint,
 *   deviceAuthorization: authorization,
 *   clientAuthentication: noneClientAuthentication('cli'),
 *   signal: AbortSignal.timeout(10 * 60_000),
 * });
 *
 * @throws {OAuth2ResponseError} `access_denied` (the user said no); `expired_token`, from the server
 *   or, with no `status`, because the device code expires before the next poll could be sent.
 * @throws {TokenRequestError} A poll got no usable answer after its retries.
 * @throws {InvalidOptionsError} `deviceAuthorization` has no positive interval or finite expiresAt.
 * Rejects with the signal's reason when it aborts, at once, whether sleeping or polling.
 */
export function waitForDeviceToken(options: WaitForDeviceTokenOptions): Promise<Token> {
	const { deviceAuthorization, onPending, sleep, signal, ...poll } = options;
	const { deviceCode } = deviceAuthorization;
	return waitForApproval(
		options,
		() => pollDeviceToken({ ...poll, deviceCode, ...(signal === undefined ? {} : { signal }) }),
		'waitForDeviceToken',
		options.now,
	);
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
