import * as z from 'zod/mini';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { invalidField, parseEndpointObject } from './endpoint-object.js';
import {
	buildEndpointRequest,
	type EndpointRequestOptions,
	throwIfEndpointError,
} from './endpoint-request.js';
import { otherFields } from './fields.js';
import { formatScope, type Scope } from './grants.js';
import type { TokenRequestParts } from './token-request.js';

/** What `deviceAuthorizationRequest` builds a request from. */
export interface DeviceAuthorizationRequestOptions extends EndpointRequestOptions {
	/**
	 * The device authorization endpoint, an absolute URL: the `device_authorization_endpoint` of the
	 * server's metadata.
	 * @example 'https://github.com/login/device/code'
	 */
	deviceAuthorizationEndpoint: string | URL;
	/**
	 * The scope asked for.
	 * @default undefined: the server's default scope
	 * @example ['openid', 'offline_access']
	 */
	scope?: Scope | undefined;
	/**
	 * What joins a scope list.
	 * @default ' '
	 */
	scopeSeparator?: ' ' | ',' | undefined;
}

/** The fields a `DeviceAuthorization` is made from. */
export interface DeviceAuthorizationInit {
	/** The device verification code, sent back when polling. A secret: never shown to the user. */
	deviceCode: string;
	/** The code the user types at `verificationUri`. */
	userCode: string;
	/** Where the user goes, on another device, to enter `userCode`. */
	verificationUri: string;
	/** `verificationUri` with the user code in it, for a QR code or a link. */
	verificationUriComplete?: string | undefined;
	/** How long the codes are valid, in seconds, as sent. */
	expiresIn: number;
	/** When the codes expire, in epoch milliseconds. */
	expiresAt: number;
	/**
	 * The least time between two polls of the token endpoint, in seconds.
	 * @default 5
	 */
	interval?: number | undefined;
	/** Every other field of the answer (Microsoft's `message`, for one). */
	extra?: Readonly<Record<string, unknown>> | undefined;
}

/** RFC 8628 §3.2: the interval when the server does not send one. */
export const DEFAULT_DEVICE_POLL_INTERVAL = 5;

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A device authorization (RFC 8628 §3.2): what to show the user, and what to poll with.
 * Immutable. `toJSON()` and Node's `inspect` leave the device code out, so it can be logged.
 */
export class DeviceAuthorization {
	/** The device verification code, sent back when polling. */
	readonly deviceCode: string;
	/** The code the user types at `verificationUri`. */
	readonly userCode: string;
	/** Where the user enters `userCode`. */
	readonly verificationUri: string;
	/** `verificationUri` with the user code in it, if the server sent one. */
	readonly verificationUriComplete: string | undefined;
	/** How long the codes are valid, in seconds, as sent. */
	readonly expiresIn: number;
	/** When the codes expire, in epoch milliseconds. */
	readonly expiresAt: number;
	/** The least time between two polls, in seconds. */
	readonly interval: number;
	/** Every other field of the answer. */
	readonly extra: Readonly<Record<string, unknown>>;

	constructor(init: DeviceAuthorizationInit) {
		for (const field of ['deviceCode', 'userCode', 'verificationUri'] as const) {
			if (typeof init?.[field] !== 'string' || init[field] === '') {
				throw new InvalidOptionsError(
					`A device authorization needs ${field} as a non-empty string`,
				);
			}
		}
		const interval = init.interval ?? DEFAULT_DEVICE_POLL_INTERVAL;
		if (!(interval > 0) || !Number.isFinite(init.expiresAt) || !(init.expiresIn > 0)) {
			throw new InvalidOptionsError(
				'A device authorization needs a positive interval and expiresIn, and a finite expiresAt',
			);
		}
		this.deviceCode = init.deviceCode;
		this.userCode = init.userCode;
		this.verificationUri = init.verificationUri;
		this.verificationUriComplete = init.verificationUriComplete;
		this.expiresIn = init.expiresIn;
		this.expiresAt = init.expiresAt;
		this.interval = interval;
		this.extra = Object.freeze({ ...init.extra });
		Object.freeze(this);
	}

	/** A summary without the device code, safe to log. */
	toJSON(): Record<string, unknown> {
		return {
			deviceCode: '[redacted]',
			userCode: this.userCode,
			verificationUri: this.verificationUri,
			verificationUriComplete: this.verificationUriComplete,
			expiresAt: isoTime(this.expiresAt),
			interval: this.interval,
			extra: Object.keys(this.extra),
		};
	}

	/**
	 * Node's `util.inspect` hook: the redacted `toJSON()` summary, on one line. Internal because
	 * users never call it and the API docs can only show it as `[inspectSymbol]`.
	 * @internal
	 */
	[inspectSymbol](): string {
		const fields = Object.entries(this.toJSON())
			.filter(([, value]) => value !== undefined)
			.map(([key, value]) => `${key}: ${Array.isArray(value) ? `[${value.join(', ')}]` : value}`);
		return `DeviceAuthorization { ${fields.join(', ')} }`;
	}
}

// Sent as a number or, in a form answer, a numeric string.
const seconds = z
	.union([z.number(), z.string()])
	.check(
		z.refine(
			(value) => String(value).trim() !== '' && Number(value) > 0 && Number.isFinite(Number(value)),
		),
	);
// Shown to the user, perhaps as a link: a javascript: URL must not get through.
const webUrl = z.string().check(z.refine(isWebUrl));

const deviceAuthorizationSchema = z.looseObject({
	device_code: z.string().check(z.minLength(1)),
	user_code: z.string().check(z.minLength(1)),
	verification_uri: z.optional(webUrl),
	// Google's name, from a draft of RFC 8628.
	verification_url: z.optional(webUrl),
	verification_uri_complete: z.optional(z.nullable(webUrl)),
	expires_in: seconds,
	interval: z.optional(z.nullable(seconds)),
});

/**
 * Builds a device authorization request (RFC 8628 §3.1): a form `POST` of `scope`, then client
 * authentication (a public client passes `noneClientAuthentication(clientId)`). Does no I/O.
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL.
 */
export async function deviceAuthorizationRequest(
	options: DeviceAuthorizationRequestOptions,
): Promise<TokenRequestParts> {
	const params = new URLSearchParams();
	const scope = formatScope(options.scope, options.scopeSeparator);
	if (scope !== undefined) params.set('scope', scope);
	return buildEndpointRequest(
		options.deviceAuthorizationEndpoint,
		'deviceAuthorizationEndpoint',
		params,
		options,
	);
}

/**
 * Reads a device authorization answer (RFC 8628 §3.2 and §3.3). Tolerates `expires_in` and
 * `interval` as numeric strings, Google's `verification_url`, and no `interval` (5 seconds).
 *
 * @throws {OAuth2ResponseError} An error answer, such as `invalid_client` or `invalid_scope`.
 * @throws {TokenResponseError} The answer is not an object, or a field is missing or wrong
 *   (a verification URI that is not an `http(s):` URL, a non-positive `expires_in`...).
 */
export function parseDeviceAuthorizationResponse(
	body: unknown,
	options: {
		/** When the request was started, in epoch milliseconds: `expires_in` counts from here. */
		requestedAt: number;
		status: number;
		response?: Response | undefined;
	},
): DeviceAuthorization {
	const endpoint = 'device authorization endpoint';
	throwIfEndpointError(body, options.status, endpoint, options.response);
	const data = parseEndpointObject(deviceAuthorizationSchema, body, options.status, endpoint);
	const verificationUri = data.verification_uri ?? data.verification_url;
	if (verificationUri === undefined) {
		throw invalidField(endpoint, 'verification_uri', options.status);
	}
	const expiresIn = Number(data.expires_in);
	return new DeviceAuthorization({
		deviceCode: data.device_code,
		userCode: data.user_code,
		verificationUri,
		verificationUriComplete: data.verification_uri_complete ?? undefined,
		expiresIn,
		expiresAt: options.requestedAt + expiresIn * 1000,
		interval: data.interval == null ? undefined : Number(data.interval),
		extra: otherFields(body as Record<string, unknown>, deviceAuthorizationSchema.def.shape),
	});
}

function isWebUrl(value: string): boolean {
	try {
		return ['http:', 'https:'].includes(new URL(value).protocol);
	} catch {
		return false;
	}
}

function isoTime(time: number): string | number {
	const date = new Date(time);
	// A server may send an expires_in no Date can hold; printing must not throw for it.
	return Number.isNaN(date.getTime()) ? time : date.toISOString();
}
