import * as z from 'zod/mini';
import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { MetadataError } from '../errors/metadata-error.js';
import { isLoopbackHost } from '../utils/secure-transport.js';
import type { TokenRequestParts } from './token-request.js';

/**
 * Which well-known document to read: OpenID Connect Discovery 1.0 §4 (`openid-configuration`,
 * appended to the issuer) or RFC 8414 §3 (`oauth-authorization-server`, inserted before its path).
 */
export type WellKnown = 'openid-configuration' | 'oauth-authorization-server';

const endpointFields = [
	'authorization_endpoint',
	'token_endpoint',
	'jwks_uri',
	'registration_endpoint',
	'revocation_endpoint',
	'introspection_endpoint',
	'device_authorization_endpoint',
	'pushed_authorization_request_endpoint',
	'userinfo_endpoint',
	'end_session_endpoint',
	'check_session_iframe',
	'backchannel_authentication_endpoint',
] as const;

const listFields = [
	'scopes_supported',
	'response_types_supported',
	'response_modes_supported',
	'grant_types_supported',
	'token_endpoint_auth_methods_supported',
	'token_endpoint_auth_signing_alg_values_supported',
	'revocation_endpoint_auth_methods_supported',
	'introspection_endpoint_auth_methods_supported',
	'code_challenge_methods_supported',
	'dpop_signing_alg_values_supported',
	'subject_types_supported',
	'id_token_signing_alg_values_supported',
	'claims_supported',
	'ui_locales_supported',
] as const;

const flagFields = [
	'authorization_response_iss_parameter_supported',
	'require_pushed_authorization_requests',
	'tls_client_certificate_bound_access_tokens',
	'claims_parameter_supported',
	'request_parameter_supported',
	'request_uri_parameter_supported',
	'require_request_uri_registration',
] as const;

/**
 * Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery 1.0 §3), as the server sent
 * it: wire names, every field kept, frozen. The fields typed here have been checked; the others are
 * as sent.
 *
 * Typed, when present: the standard endpoint URLs (`token_endpoint`, `jwks_uri`...) as strings,
 * the `*_supported` lists as string arrays, and the flags (`*_parameter_supported`, `require_*`,
 * `tls_client_certificate_bound_access_tokens`) as booleans.
 */
export type AuthorizationServerMetadata = {
	/** The issuer identifier, equal to the one asked for. */
	readonly issuer: string;
	/** mTLS endpoint aliases (RFC 8705 §5), endpoint name to absolute URL. */
	readonly mtls_endpoint_aliases?: Readonly<Record<string, string>>;
} & { readonly [K in (typeof endpointFields)[number]]?: string } & {
	readonly [K in (typeof listFields)[number]]?: readonly string[];
} & { readonly [K in (typeof flagFields)[number]]?: boolean } & {
	readonly [field: string]: unknown;
};

/** How a metadata answer is judged. */
export interface ParseMetadataOptions {
	/** The issuer asked for; the metadata's `issuer` must be this very string. */
	issuer: string;
	/** The HTTP status of the answer. @default 200 */
	status?: number | undefined;
	/** The metadata URL, for errors. @default undefined */
	url?: string | undefined;
	/**
	 * Accept plain `http:` endpoints on hosts that are not loopback. Only for test setups you control.
	 * @default false
	 */
	allowInsecure?: boolean | undefined;
}

const metadataSchema = z.looseObject({
	issuer: z.string(),
	mtls_endpoint_aliases: z.optional(z.record(z.string(), z.string())),
	...Object.fromEntries(endpointFields.map((field) => [field, z.optional(z.string())])),
	...Object.fromEntries(listFields.map((field) => [field, z.optional(z.array(z.string()))])),
	...Object.fromEntries(flagFields.map((field) => [field, z.optional(z.boolean())])),
});

/**
 * Checks the form of an issuer identifier (RFC 8414 §2): an absolute URL without query or fragment.
 * Returns it as a URL. Whether its scheme is safe is checked when a request is sent.
 *
 * @throws {InvalidOptionsError} It is not.
 */
export function issuerUrl(issuer: string): URL {
	let url: URL | undefined;
	try {
		url = typeof issuer === 'string' ? new URL(issuer) : undefined;
	} catch {}
	if (url === undefined || url.search !== '' || url.hash !== '' || issuer.includes('#')) {
		throw new InvalidOptionsError('The issuer must be an absolute URL without query or fragment');
	}
	return url;
}

/**
 * The well-known URL of an issuer's metadata. A trailing `/` of the issuer's path is dropped first,
 * as both specifications say.
 *
 * @example
 * wellKnownUrl('https://as.example/tenant', 'openid-configuration').href
 * // 'https://as.example/tenant/.well-known/openid-configuration'
 * wellKnownUrl('https://as.example/tenant', 'oauth-authorization-server').href
 * // 'https://as.example/.well-known/oauth-authorization-server/tenant'
 */
export function wellKnownUrl(issuer: string, wellKnown: WellKnown): URL {
	const url = issuerUrl(issuer);
	const path = url.pathname.replace(/\/$/, '');
	url.pathname =
		wellKnown === 'openid-configuration'
			? `${path}/.well-known/openid-configuration`
			: `/.well-known/oauth-authorization-server${path}`;
	return url;
}

/**
 * Builds a metadata request: a `GET` of the well-known URL that asks for JSON. Does no I/O.
 *
 * @throws {InvalidOptionsError} The issuer is not a valid issuer identifier.
 */
export function discoveryRequest(issuer: string, wellKnown: WellKnown): TokenRequestParts {
	return {
		url: wellKnownUrl(issuer, wellKnown),
		method: 'GET',
		headers: new Headers({ accept: 'application/json' }),
		params: new URLSearchParams(),
	};
}

/**
 * Decodes a metadata answer body. Only a 2xx body is read: any other answer is judged by its status.
 *
 * @throws {MetadataError} `unparseable`: a 2xx body that is not JSON.
 */
export function decodeMetadataBody(
	text: string,
	options: { status: number; issuer: string; url?: string | undefined },
): unknown {
	if (options.status < 200 || options.status > 299) return undefined;
	try {
		return JSON.parse(text);
	} catch {
		throw new MetadataError(
			`The metadata of ${options.issuer} at ${options.url ?? 'its well-known URL'} is not JSON`,
			{ problem: 'unparseable', ...options },
		);
	}
}

/**
 * Checks authorization server metadata (RFC 8414 §3.3, OpenID Connect Discovery 1.0 §4.3): its
 * `issuer` must be exactly the one asked for, known fields must have their type, and every endpoint
 * must be an absolute `https:` URL (`http:` on loopback) without fragment. Unknown fields are kept;
 * a known field set to `null` is dropped. Returns a frozen copy.
 *
 * @throws {MetadataError} `not-found` (an answer outside 2xx), `not-an-object`, `issuer-mismatch` or
 *   `invalid-field`.
 */
export function parseAuthorizationServerMetadata(
	body: unknown,
	options: ParseMetadataOptions,
): AuthorizationServerMetadata {
	const status = options.status ?? 200;
	const details = { issuer: options.issuer, url: options.url, status };
	const where = `The metadata of ${options.issuer}${options.url ? ` at ${options.url}` : ''}`;
	if (status < 200 || status > 299) {
		throw new MetadataError(`${where} was not found (HTTP ${status})`, {
			problem: 'not-found',
			...details,
		});
	}
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw new MetadataError(`${where} is not a JSON object`, {
			problem: 'not-an-object',
			...details,
		});
	}
	const copy: Record<string, unknown> = structuredClone(body as Record<string, unknown>);
	if (copy.issuer !== options.issuer) {
		// Quoted, for a trailing slash too many or too few is the usual cause; cut, for it is the server's.
		const named = copy.issuer === undefined ? 'no issuer' : `issuer ${quote(copy.issuer)}`;
		throw new MetadataError(`${where} names ${named}, not ${options.issuer}`, {
			problem: 'issuer-mismatch',
			field: 'issuer',
			...details,
		});
	}
	for (const key of Object.keys(metadataSchema.def.shape)) {
		if (copy[key] === null) delete copy[key];
	}
	const parsed = z.safeParse(metadataSchema, copy);
	const wrongType = parsed.success ? undefined : String(parsed.error.issues[0]?.path[0]);
	const insecure = insecureEndpoint(copy, options.allowInsecure ?? false);
	const field = wrongType ?? insecure;
	if (field !== undefined) {
		throw new MetadataError(
			wrongType === undefined
				? `${where} has a ${field} that is not an absolute https: URL without fragment`
				: `${where} has a ${field} of the wrong type`,
			{ problem: 'invalid-field', field, ...details },
		);
	}
	return deepFreeze(copy) as AuthorizationServerMetadata;
}

/**
 * How long a metadata answer may be kept, in milliseconds, from its `Cache-Control` (`max-age`
 * less `Age`; `no-store` and `no-cache` give 0). `undefined` when it does not say.
 */
export function metadataCacheTtl(headers: Headers): number | undefined {
	const directives = (headers.get('cache-control') ?? '')
		.toLowerCase()
		.split(',')
		.map((directive) => directive.trim());
	if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
	const maxAge = directives
		.map((directive) => /^max-age\s*=\s*"?(\d+)"?$/.exec(directive)?.[1])
		.find((value) => value !== undefined);
	if (maxAge === undefined) return undefined;
	const age = /^\d+$/.test(headers.get('age')?.trim() ?? '') ? Number(headers.get('age')) : 0;
	return Math.max(0, Number(maxAge) - age) * 1000;
}

/** The first endpoint field of `metadata` that is not a URL credentials may be sent to, if any. */
function insecureEndpoint(
	metadata: Record<string, unknown>,
	allowInsecure: boolean,
): string | undefined {
	const aliases = metadata.mtls_endpoint_aliases;
	const entries = [
		...endpointFields.map((field) => [field, metadata[field]] as const),
		...Object.entries(typeof aliases === 'object' && aliases !== null ? aliases : {}).map(
			([name, value]) => [`mtls_endpoint_aliases.${name}`, value] as const,
		),
	];
	for (const [field, value] of entries) {
		if (value === undefined) continue;
		let url: URL | undefined;
		try {
			url = new URL(String(value));
		} catch {}
		if (url === undefined || String(value).includes('#') || !isSecureUrl(url, allowInsecure)) {
			return field;
		}
	}
	return undefined;
}

function isSecureUrl(url: URL, allowInsecure: boolean): boolean {
	return (
		url.protocol === 'https:' ||
		(url.protocol === 'http:' && (allowInsecure || isLoopbackHost(url.hostname)))
	);
}

function quote(value: unknown): string {
	const json = JSON.stringify(value) ?? String(value);
	return json.length > 100 ? `${json.slice(0, 100)}…` : json;
}

function deepFreeze<T>(value: T): T {
	if (typeof value === 'object' && value !== null) {
		for (const inner of Object.values(value)) deepFreeze(inner);
		Object.freeze(value);
	}
	return value;
}
