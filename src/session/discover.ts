import { InvalidOptionsError } from '../errors/invalid-options-error.js';
import { MetadataError } from '../errors/metadata-error.js';
import {
	type AuthorizationServerMetadata,
	decodeMetadataBody,
	discoveryRequest,
	issuerUrl,
	metadataCacheTtl,
	parseAuthorizationServerMetadata,
	type WellKnown,
} from '../protocol/discovery.js';
import { type SendTokenRequestOptions, sendTokenRequest } from './request-token.js';

/** Options of a `MetadataCache`. */
export interface MetadataCacheOptions {
	/**
	 * How long metadata is kept when its answer's `Cache-Control` does not say, in milliseconds.
	 * @default 3_600_000 (one hour)
	 * @example 10 * 60_000
	 */
	ttl?: number | undefined;
	/**
	 * The clock, in epoch milliseconds.
	 * @default Date.now
	 */
	now?: (() => number) | undefined;
}

/** Options of `discover`. */
export interface DiscoverOptions
	extends Pick<
		SendTokenRequestOptions,
		'fetch' | 'signal' | 'allowInsecure' | 'retry' | 'timeout'
	> {
	/**
	 * Where metadata is kept between calls, per issuer. `false` fetches every time.
	 * @default one cache shared by every call in this JavaScript realm
	 * @example new MetadataCache({ ttl: 5 * 60_000 })
	 */
	cache?: MetadataCache | false | undefined;
	/**
	 * The well-known documents tried, in order, until one is found (an answer other than 4xx or a
	 * non-JSON 2xx stops the search). Most servers that publish both serve the same document twice.
	 * @default ['openid-configuration', 'oauth-authorization-server']
	 * @example ['oauth-authorization-server']
	 */
	wellKnown?: readonly WellKnown[] | undefined;
}

/** Every default of `discover` and `MetadataCache`, in one place. */
export const discoverDefaults = {
	ttl: 3_600_000,
	// OpenID Connect first: nearly every large provider serves it, far fewer serve RFC 8414's.
	wellKnown: ['openid-configuration', 'oauth-authorization-server'],
} as const satisfies { ttl: number; wellKnown: readonly WellKnown[] };

/**
 * Authorization server metadata kept in memory per issuer, each entry as long as its answer's
 * `Cache-Control: max-age` allows (less `Age`), or `ttl` when it does not say.
 */
export class MetadataCache {
	readonly #entries = new Map<
		string,
		{ metadata: AuthorizationServerMetadata; expiresAt: number }
	>();
	readonly #ttl: number;
	readonly #now: () => number;

	constructor(options: MetadataCacheOptions = {}) {
		const ttl = options.ttl ?? discoverDefaults.ttl;
		if (typeof ttl !== 'number' || !(ttl >= 0)) {
			throw new InvalidOptionsError(
				'MetadataCache: ttl must be a number of milliseconds, 0 or more',
			);
		}
		this.#ttl = ttl;
		this.#now = options.now ?? Date.now;
	}

	/** The metadata of `issuer`, unless absent or expired. */
	get(issuer: string): AuthorizationServerMetadata | undefined {
		const entry = this.#entries.get(issuer);
		if (entry === undefined) return undefined;
		if (entry.expiresAt > this.#now()) return entry.metadata;
		this.#entries.delete(issuer);
		return undefined;
	}

	/** Keeps `metadata` for `ttl` milliseconds (this cache's `ttl` when undefined); 0 keeps nothing. */
	set(issuer: string, metadata: AuthorizationServerMetadata, ttl?: number): void {
		const lifetime = ttl ?? this.#ttl;
		if (lifetime > 0) this.#entries.set(issuer, { metadata, expiresAt: this.#now() + lifetime });
		else this.#entries.delete(issuer);
	}

	/** Forgets the metadata of `issuer`, so the next `discover` fetches it. */
	delete(issuer: string): void {
		this.#entries.delete(issuer);
	}

	/** Forgets everything. */
	clear(): void {
		this.#entries.clear();
	}
}

let sharedCache: MetadataCache | undefined;

/**
 * Reads an authorization server's metadata from its issuer identifier: OpenID Connect Discovery 1.0
 * (`<issuer>/.well-known/openid-configuration`), then RFC 8414
 * (`/.well-known/oauth-authorization-server/<issuer path>`). The metadata's `issuer` must be exactly
 * `issuer`, and its endpoints `https:` URLs. Kept in `cache`; a failure is not.
 *
 * Sent as token requests are: network errors, timeouts, 5xx and 429 retried, redirects not followed.
 *
 * @example
 * const metadata = await discover('https://accounts.example.com');
 * const token = await requestToken({ tokenEndpoint: metadata.token_endpoint, ... });
 *
 * @throws {MetadataError} `not-found` at every well-known URL, `issuer-mismatch`, `invalid-field`,
 *   `unparseable` or `not-an-object`.
 * @throws {TokenRequestError} No usable answer after the retries, or a redirect.
 * @throws {InsecureTransportError} The issuer is `http:` on a host that is not loopback.
 * @throws {InvalidOptionsError} The issuer is not an absolute URL, or has a query or fragment.
 */
export async function discover(
	issuer: string,
	options: DiscoverOptions = {},
): Promise<AuthorizationServerMetadata> {
	const allowInsecure = options.allowInsecure ?? false;
	issuerUrl(issuer);
	const order = options.wellKnown ?? discoverDefaults.wellKnown;
	if (order.length === 0) throw new InvalidOptionsError('discover: wellKnown must not be empty');
	if (options.cache === undefined) sharedCache ??= new MetadataCache();
	const cache = options.cache === false ? undefined : (options.cache ?? sharedCache);
	const cached = cache?.get(issuer);
	if (cached !== undefined) return cached;

	const missing: MetadataError[] = [];
	for (const wellKnown of order) {
		const request = discoveryRequest(issuer, wellKnown);
		const url = request.url.href;
		try {
			const answer = await sendTokenRequest(request, {
				endpointName: 'metadata endpoint',
				...options,
				decoder: (text, response) =>
					decodeMetadataBody(text, { status: response.status, issuer, url }),
			});
			const metadata = parseAuthorizationServerMetadata(answer.body, {
				issuer,
				url,
				status: answer.status,
				allowInsecure,
			});
			cache?.set(issuer, metadata, metadataCacheTtl(answer.headers));
			return metadata;
		} catch (error) {
			// Only "nothing here" moves on: a document that is there but wrong is an answer.
			if (!(error instanceof MetadataError) || !isNotHere(error)) throw error;
			missing.push(error);
		}
	}
	throw notFound(issuer, missing);
}

function isNotHere(error: MetadataError): boolean {
	return ['not-found', 'unparseable', 'not-an-object'].includes(error.problem);
}

function notFound(issuer: string, missing: MetadataError[]): MetadataError {
	const [first] = missing;
	if (missing.length === 1 && first !== undefined) return first;
	// A JSON-less page says more than a 404; either says more than a summary of both.
	const telling = missing.find((error) => error.problem !== 'not-found');
	if (telling !== undefined) return telling;
	const tried = missing.map((error) => `${error.url} (HTTP ${error.status})`).join(' or ');
	return new MetadataError(`No metadata of ${issuer} was found at ${tried}`, {
		problem: 'not-found',
		issuer,
		status: missing.at(-1)?.status,
	});
}
