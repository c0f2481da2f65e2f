import * as z from 'zod/mini';
import { parseEndpointObject } from './endpoint-object.js';
import {
	buildEndpointRequest,
	type EndpointRequestOptions,
	type TokenTypeHint,
	throwIfEndpointError,
	tokenParams,
} from './endpoint-request.js';
import { otherFields } from './fields.js';
import type { TokenRequestParts } from './token-request.js';
import { parseScope } from './token-response.js';

/** What `introspectionRequest` builds a request from. */
export interface IntrospectionRequestOptions extends EndpointRequestOptions {
	/**
	 * The introspection endpoint, an absolute URL: the `introspection_endpoint` of the server's
	 * metadata.
	 * @example 'https://auth.example.com/oauth/introspect'
	 */
	introspectionEndpoint: string | URL;
	/**
	 * The token to ask about.
	 * @example request.headers.get('authorization')?.replace(/^Bearer /, '')
	 */
	token: string;
	/**
	 * Which kind of token `token` is.
	 * @default undefined: no hint is sent, and the server searches every kind
	 * @example 'access_token'
	 */
	tokenTypeHint?: TokenTypeHint | undefined;
}

/**
 * What the server says about a token (RFC 7662 §2.2). Times are seconds since the epoch, as sent.
 * An inactive token has only `active: false`: nothing else about it may be relied on.
 */
export interface TokenIntrospection {
	/** Whether the token is active: issued by this server, not expired, not revoked. */
	readonly active: boolean;
	/** The token's scopes. */
	readonly scope?: readonly string[] | undefined;
	/** The client the token was issued to. */
	readonly clientId?: string | undefined;
	/** A human-readable name of the resource owner. */
	readonly username?: string | undefined;
	/** The token type, such as `Bearer`. */
	readonly tokenType?: string | undefined;
	/** When the token expires, in seconds since the epoch. */
	readonly exp?: number | undefined;
	/** When the token was issued, in seconds since the epoch. */
	readonly iat?: number | undefined;
	/** When the token starts being valid, in seconds since the epoch. */
	readonly nbf?: number | undefined;
	/** The subject, usually a machine-readable user id. */
	readonly sub?: string | undefined;
	/** The audiences, always as a list. */
	readonly aud?: readonly string[] | undefined;
	/** The issuer. */
	readonly iss?: string | undefined;
	/** The token's identifier. */
	readonly jti?: string | undefined;
	/** Every other field, as the server sent it (`cnf`, `act`, a provider's own). */
	readonly extra: Readonly<Record<string, unknown>>;
}

// null is read as absent: some servers send every field, with null for the ones they lack.
const optionalString = z.optional(z.nullable(z.string()));
const time = z.optional(z.nullable(z.number()));
const stringOrList = z.optional(z.nullable(z.union([z.string(), z.array(z.string())])));

const introspectionSchema = z.looseObject({
	active: z.boolean(),
	scope: stringOrList,
	client_id: optionalString,
	username: optionalString,
	token_type: optionalString,
	exp: time,
	iat: time,
	nbf: time,
	sub: optionalString,
	aud: stringOrList,
	iss: optionalString,
	jti: optionalString,
});

/**
 * Builds a token introspection request (RFC 7662 §2.1): a form `POST` of `token` and
 * `token_type_hint`, then client authentication (most servers require one). Does no I/O.
 *
 * @throws {InvalidOptionsError} The endpoint is not an absolute URL, or the token is empty.
 */
export async function introspectionRequest(
	options: IntrospectionRequestOptions,
): Promise<TokenRequestParts> {
	return buildEndpointRequest(
		options.introspectionEndpoint,
		'introspectionEndpoint',
		tokenParams(options, 'introspectionRequest'),
		options,
	);
}

/**
 * Reads an introspection answer (RFC 7662 §2.2). `active: false` is an answer like any other, not
 * an error.
 *
 * @throws {OAuth2ResponseError} An error answer, such as `invalid_client`.
 * @throws {TokenResponseError} The answer is not an object, has no boolean `active`, or a field of
 *   an active token has the wrong type.
 */
export function parseIntrospectionResponse(
	body: unknown,
	options: {
		status: number;
		response?: Response | undefined;
		/**
		 * What separates scopes in `scope`.
		 * @default ' '
		 */
		scopeSeparator?: ' ' | ',' | undefined;
	},
): TokenIntrospection {
	const endpoint = 'introspection endpoint';
	throwIfEndpointError(body, options.status, endpoint, options.response);
	// An inactive token's other fields are not checked: they must not be used, and a server that
	// sends them anyway should not turn a plain "no" into an error.
	const { active } = parseEndpointObject(
		z.looseObject({ active: z.boolean() }),
		body,
		options.status,
		endpoint,
	);
	if (!active) return Object.freeze({ active: false, extra: Object.freeze({}) });
	const data = parseEndpointObject(introspectionSchema, body, options.status, endpoint);
	const scope = parseScope(data.scope, options.scopeSeparator);
	return Object.freeze({
		active: true,
		scope: scope && Object.freeze(scope),
		clientId: data.client_id ?? undefined,
		username: data.username ?? undefined,
		tokenType: data.token_type ?? undefined,
		exp: data.exp ?? undefined,
		iat: data.iat ?? undefined,
		nbf: data.nbf ?? undefined,
		sub: data.sub ?? undefined,
		aud: audiences(data.aud),
		iss: data.iss ?? undefined,
		jti: data.jti ?? undefined,
		extra: Object.freeze(
			otherFields(body as Record<string, unknown>, introspectionSchema.def.shape),
		),
	});
}

function audiences(
	aud: string | readonly string[] | null | undefined,
): readonly string[] | undefined {
	if (aud === undefined || aud === null) return undefined;
	return Object.freeze(typeof aud === 'string' ? [aud] : [...aud]);
}
