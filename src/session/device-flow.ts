import { withScopes } from '../protocol/authorization-url.js';
import {
	type DeviceAuthorization,
	type DeviceAuthorizationRequestOptions,
	deviceAuthorizationRequest,
	parseDeviceAuthorizationResponse,
} from '../protocol/device-authorization.js';
import { deviceCodeGrant } from '../protocol/grants.js';
import type { ProviderProfile } from '../protocol/profile.js';
import type { Token } from '../protocol/token.js';
import {
	type DevicePoll,
	type DeviceWaitOptions,
	devicePoll,
	waitForApproval,
} from './device-wait.js';
import {
	type RequestTokenOptions,
	requestToken,
	type SendTokenRequestOptions,
} from './request-token.js';
import { sendEndpointRequest } from './send-endpoint-request.js';

export type { DevicePoll, DevicePollProgress, DeviceWaitOptions } from './device-wait.js';

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
