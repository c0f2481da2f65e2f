/**
 * An embedded authorization server and protected API on 127.0.0.1, built on oidc-provider, for the
 * demo and the interop tests: authorization code with PKCE, client credentials, rotating refresh
 * tokens (a reused one is refused and revokes its grant), revocation, introspection, the device
 * flow, and `private_key_jwt` / `client_secret_jwt` client authentication.
 *
 * It runs oidc-provider 8, chosen when Node 20 was still supported (9 requires Node 22, which the
 * package now requires too; moving to 9 is open). It prints nothing here: every default it would
 * warn about (in-memory adapter, development keys and interactions, default TTL and policy
 * functions) is replaced below.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, {
	type Adapter,
	type AdapterPayload,
	type ClientMetadata,
	type Configuration,
	type JWK,
	type KoaContextWithOIDC,
} from 'oidc-provider';
import { DPoPResource, type DPoPResourceStats } from './dpop-resource.js';

/** Options of `startAuthServer`. All optional. */
export interface AuthServerOptions {
	/**
	 * Lifetime of access tokens (and client credentials tokens), in seconds, or a function asked
	 * at each issue (a test that waits out one lifetime, then wants the next to outlast its burst).
	 * @default 3600
	 */
	accessTokenTtl?: number | (() => number) | undefined;
	/**
	 * Lifetime of refresh tokens, in seconds.
	 * @default 86_400
	 */
	refreshTokenTtl?: number | undefined;
	/**
	 * Issue a new refresh token at each refresh; the spent one, presented again, is refused with
	 * `invalid_grant` and revokes every token of its grant.
	 * @default true
	 */
	rotateRefreshTokens?: boolean | undefined;
	/**
	 * The redirect URI registered for the authorization code clients.
	 * @default 'http://127.0.0.1/callback'
	 */
	redirectUri?: string | undefined;
	/**
	 * DPoP (RFC 9449) at both ends, nonces required: the token endpoint binds tokens to the proof's
	 * key, and the API takes only `Authorization: DPoP` with a proof it checks (signature, `htm`,
	 * `htu`, `ath`, `jti` replay, the key against the token's binding, its own nonce).
	 * @default false
	 */
	dpop?: boolean | undefined;
	/**
	 * Take only pushed authorization requests (RFC 9126), from every client; the metadata says
	 * `require_pushed_authorization_requests: true`.
	 * @default false: only the clients registered so (`parPublic`, `parConfidential`) must push
	 */
	requirePushedAuthorizationRequests?: boolean | undefined;
	/**
	 * More APIs (RFC 8707 resource indicators, such as other servers' origins) the server issues
	 * access tokens for: JWTs (ES256, the server's `jwks`) whose `aud` is the indicator, for the
	 * API to verify itself.
	 * @default []
	 */
	resources?: readonly string[] | undefined;
}

/** The clients registered at the server, with what a client needs to authenticate. */
export interface AuthServerClients {
	/** Authorization code + refresh, `client_secret_basic`. */
	readonly confidential: { readonly clientId: string; readonly clientSecret: string };
	/** Authorization code with PKCE + refresh, no client authentication. */
	readonly public: { readonly clientId: string };
	/** Client credentials, `client_secret_basic`; may introspect and revoke. */
	readonly service: { readonly clientId: string; readonly clientSecret: string };
	/** Client credentials, `private_key_jwt` (ES256) with the key below. */
	readonly privateKeyJwt: {
		readonly clientId: string;
		readonly privateKey: CryptoKey;
		readonly keyId: string;
	};
	/** Client credentials, `client_secret_jwt` (HS256). */
	readonly clientSecretJwt: { readonly clientId: string; readonly clientSecret: string };
	/** Device authorization grant + refresh, no client authentication. */
	readonly device: { readonly clientId: string };
	/** As `public`, but registered to push its authorization requests (RFC 9126) or be refused. */
	readonly parPublic: { readonly clientId: string };
	/** As `confidential`, but registered to push its authorization requests or be refused. */
	readonly parConfidential: { readonly clientId: string; readonly clientSecret: string };
}

/** What the server has seen since it started. */
export interface AuthServerStats {
	/** Requests to the token endpoint, any grant. */
	tokenRequests: number;
	/** Token requests with `grant_type=refresh_token`. */
	refreshRequests: number;
	/** Requests to the protected API. */
	apiRequests: number;
	/** API requests refused with 401. */
	api401: number;
	/** Refreshes that issued a token (not counting refusals such as `use_dpop_nonce`). */
	refreshesIssued: number;
	/** With `dpop`: what the API saw of proofs. */
	dpop: DPoPResourceStats | undefined;
	/** Requests to the pushed authorization request endpoint. */
	parRequests: number;
	/** Refreshes that issued a token, by the `resource` they named (`''` for none). */
	refreshesByResource: Map<string, number>;
}

export interface AuthServer {
	/** The issuer identifier, `http://127.0.0.1:<port>` (discovery lives under it). */
	readonly issuer: string;
	/** The server's origin: the same as `issuer`. */
	readonly origin: string;
	/** The protected API's base URL (`<origin>/api`); any path under it answers `{ ok, sub, scope }`. */
	readonly api: string;
	/** The resource indicator the access tokens are issued for (the API's base URL). */
	readonly resource: string;
	readonly tokenEndpoint: string;
	/** The pushed authorization request endpoint (RFC 9126), `<origin>/request`. */
	readonly pushedAuthorizationRequestEndpoint: string;
	readonly authorizationEndpoint: string;
	readonly redirectUri: string;
	/** The scopes the API knows: `api:read api:write`. */
	readonly scope: string;
	readonly clients: AuthServerClients;
	readonly stats: AuthServerStats;
	/**
	 * Plays the user's browser: follows an authorization URL through the login and consent pages
	 * (over HTTP, with cookies) and returns the callback URL carrying the code.
	 */
	approve(url: string | URL, options?: { account?: string }): Promise<string>;
	/** Approves a device authorization by its user code, as the user on their phone would. */
	approveDevice(userCode: string, options?: { account?: string }): Promise<void>;
	/** With `dpop`: the API's DPoP check, whose nonce a test may rotate. */
	readonly dpopResource: DPoPResource | undefined;
	/** Revokes every grant and token issued so far: the API refuses them all. */
	revokeAll(): void;
	/** Stops the server and drops open connections. */
	close(): Promise<void>;
}

const API_SCOPE = 'api:read api:write';

/** Starts the server on 127.0.0.1 and a free port. */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
	const ttlOption = options.accessTokenTtl ?? 3600;
	const accessTokenTtl = typeof ttlOption === 'function' ? ttlOption : () => ttlOption;
	const refreshTokenTtl = options.refreshTokenTtl ?? 86_400;
	const redirectUri = options.redirectUri ?? 'http://127.0.0.1/callback';
	const dpopResource = options.dpop === true ? new DPoPResource() : undefined;
	const stats: AuthServerStats = {
		tokenRequests: 0,
		refreshRequests: 0,
		apiRequests: 0,
		api401: 0,
		refreshesIssued: 0,
		dpop: dpopResource?.stats,
		parRequests: 0,
		refreshesByResource: new Map(),
	};
	const moreResources = new Set(options.resources ?? []);

	let handle: (request: IncomingMessage, response: ServerResponse) => void = (_, response) => {
		response.writeHead(503);
		response.end();
	};
	const server = createServer((request, response) => handle(request, response));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	// Nothing here may keep a test run or the demo alive.
	server.unref();
	const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const resource = `${origin}/api`;

	const { clients, clientJwk } = await makeClients();
	const store = new MemoryStorage();
	const provider = new Provider(origin, {
		adapter: (name: string) => new MemoryAdapter(name, store),
		clients: clientMetadata(clients, clientJwk, redirectUri),
		jwks: { keys: [signingKey()] },
		// The one signing key is ES256 (RSA keys are slow to generate); ID tokens use it too.
		clientDefaults: { id_token_signed_response_alg: 'ES256' },
		cookies: { keys: [randomBytes(32).toString('base64url')] },
		scopes: ['openid', 'offline_access', ...API_SCOPE.split(' ')],
		findAccount: (_ctx: KoaContextWithOIDC, sub: string) => ({
			accountId: sub,
			claims: () => ({ sub }),
		}),
		interactions: {
			url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}`,
		},
		// A refresh token for every client that may use the grant, offline_access or not.
		issueRefreshToken: (_ctx: KoaContextWithOIDC, client) =>
			client.grantTypeAllowed('refresh_token'),
		rotateRefreshToken: options.rotateRefreshTokens ?? true,
		pkce: { required: () => true },
		// A page of the server's own origin (the browser tests') sends `Origin` on its POSTs: that is
		// same-origin, not CORS. Every other origin stays refused.
		clientBasedCORS: (_ctx: KoaContextWithOIDC, requestOrigin: string) => requestOrigin === origin,
		renderError: (ctx: KoaContextWithOIDC, out) => {
			ctx.type = 'json';
			ctx.body = out;
		},
		ttl: {
			AccessToken: () => accessTokenTtl(),
			ClientCredentials: () => accessTokenTtl(),
			RefreshToken: refreshTokenTtl,
			AuthorizationCode: 60,
			DeviceCode: 600,
			IdToken: 3600,
			Interaction: 600,
			Session: 3600,
			Grant: refreshTokenTtl,
		},
		features: {
			devInteractions: { enabled: false },
			clientCredentials: { enabled: true },
			introspection: { enabled: true, allowedPolicy: () => true },
			revocation: { enabled: true },
			dPoP: {
				enabled: options.dpop === true,
				...(options.dpop === true
					? { nonceSecret: randomBytes(32), requireNonce: () => true }
					: {}),
			},
			deviceFlow: { enabled: true },
			pushedAuthorizationRequests: {
				enabled: true,
				requirePushedAuthorizationRequests: options.requirePushedAuthorizationRequests ?? false,
			},
			resourceIndicators: {
				enabled: true,
				// Every token is for the API unless a request names it: opaque, looked up by the API.
				defaultResource: () => resource,
				useGrantedResource: () => true,
				getResourceServerInfo: (_ctx: KoaContextWithOIDC, indicator: string) =>
					moreResources.has(indicator)
						? {
								scope: API_SCOPE,
								audience: indicator,
								accessTokenTTL: accessTokenTtl(),
								accessTokenFormat: 'jwt',
								jwt: { sign: { alg: 'ES256' } },
							}
						: {
								scope: API_SCOPE,
								audience: resource,
								accessTokenTTL: accessTokenTtl(),
								accessTokenFormat: 'opaque',
							},
			},
		},
	} satisfies Configuration);

	provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
		if (ctx.oidc.params?.grant_type === 'refresh_token') {
			stats.refreshRequests++;
			stats.refreshesIssued++;
			const named = String(ctx.oidc.params.resource ?? '');
			stats.refreshesByResource.set(named, (stats.refreshesByResource.get(named) ?? 0) + 1);
		}
	});
	provider.on('grant.error', (ctx: KoaContextWithOIDC) => {
		if (ctx.oidc.params?.grant_type === 'refresh_token') stats.refreshRequests++;
	});
	const providerCallback = provider.callback();

	handle = (request, response) => {
		const url = new URL(request.url ?? '/', origin);
		if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
			void answerApi(provider, request, response, stats, dpopResource, origin).catch(() => {
				if (!response.headersSent) response.writeHead(500);
				response.end();
			});
			return;
		}
		const interaction = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/.exec(url.pathname);
		if (interaction !== null) {
			void answerInteraction(provider, request, response, resource).catch((error: unknown) => {
				if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
				response.end(error instanceof Error ? error.message : 'interaction failed');
			});
			return;
		}
		if (url.pathname === '/token' && request.method === 'POST') stats.tokenRequests++;
		if (url.pathname === '/request' && request.method === 'POST') stats.parRequests++;
		void providerCallback(request, response);
	};

	return {
		issuer: origin,
		origin,
		api: resource,
		resource,
		tokenEndpoint: `${origin}/token`,
		pushedAuthorizationRequestEndpoint: `${origin}/request`,
		authorizationEndpoint: `${origin}/auth`,
		redirectUri,
		scope: API_SCOPE,
		clients,
		stats,
		dpopResource,
		approve: (url, approveOptions) =>
			playBrowser(new URL(url), origin, approveOptions?.account ?? 'alice'),
		approveDevice: async (userCode, approveOptions) => {
			const code = await provider.DeviceCode.findByUserCode(
				userCode.toUpperCase().replace(/\W/g, ''),
			);
			if (code === undefined)
				throw new Error(`No device authorization has the user code ${userCode}`);
			const accountId = approveOptions?.account ?? 'alice';
			const grant = new provider.Grant({ accountId, clientId: code.clientId });
			const requested = new Set((code.params?.scope as string | undefined)?.split(' ') ?? []);
			const scope =
				API_SCOPE.split(' ')
					.filter((s) => requested.has(s))
					.join(' ') || API_SCOPE;
			grant.addResourceScope(resource, scope);
			Object.assign(code, {
				accountId,
				authTime: Math.floor(Date.now() / 1000),
				grantId: await grant.save(),
				scope,
				resource,
			});
			await code.save();
		},
		revokeAll: () => store.clear(),
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

/** The protected API: a bearer token the provider issued for it, still valid, or 401. */
async function answerApi(
	provider: Provider,
	request: IncomingMessage,
	response: ServerResponse,
	stats: AuthServerStats,
	dpop: DPoPResource | undefined,
	origin: string,
): Promise<void> {
	stats.apiRequests++;
	request.resume();
	const scheme = dpop === undefined ? 'Bearer' : 'DPoP';
	const value = new RegExp(`^${scheme} (\\S+)$`, 'i').exec(
		request.headers.authorization ?? '',
	)?.[1];
	const token =
		value === undefined
			? undefined
			: ((await provider.AccessToken.find(value)) ??
				(await provider.ClientCredentials.find(value)));
	if (dpop !== undefined && value !== undefined && token?.isValid) {
		const refusal = await dpop.check(request, origin, value, token.jkt);
		if (refusal !== undefined) {
			stats.api401++;
			response.writeHead(401, {
				'www-authenticate': `DPoP error="${refusal.error}", error_description="${refusal.description}", algs="ES256 EdDSA RS256 PS256"`,
				'dpop-nonce': dpop.nonce,
				'content-type': 'application/json',
			});
			response.end(JSON.stringify({ error: refusal.error }));
			return;
		}
	}
	if (token === undefined || !token.isValid) {
		stats.api401++;
		response.writeHead(401, {
			'www-authenticate': 'Bearer error="invalid_token"',
			'content-type': 'application/json',
		});
		response.end(JSON.stringify({ error: 'invalid_token' }));
		return;
	}
	const sub = 'accountId' in token ? token.accountId : token.clientId;
	response.writeHead(200, { 'content-type': 'application/json' });
	response.end(JSON.stringify({ ok: true, sub, clientId: token.clientId, scope: token.scope }));
}

/** Login and consent pages: a form each, as small as a user can still fill in. */
async function answerInteraction(
	provider: Provider,
	request: IncomingMessage,
	response: ServerResponse,
	resource: string,
): Promise<void> {
	const details = await provider.interactionDetails(request, response);
	const action = `/interaction/${details.uid}`;
	if (request.method === 'GET') {
		const form =
			details.prompt.name === 'login'
				? `<form method="post" action="${action}/login"><input name="login" value=""><input type="password" name="password" value=""><button>Sign in</button></form>`
				: `<form method="post" action="${action}/confirm"><input type="hidden" name="confirm" value="yes"><button>Allow</button></form>`;
		response.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
		response.end(`<!DOCTYPE html><title>${details.prompt.name}</title>${form}`);
		return;
	}
	const body = new URLSearchParams(await readBody(request));
	if (details.prompt.name === 'login') {
		const accountId = body.get('login');
		if (!accountId) throw new Error('login needs a user name');
		await provider.interactionFinished(
			request,
			response,
			{ login: { accountId } },
			{ mergeWithLastSubmission: false },
		);
		return;
	}
	const { session, params, prompt } = details;
	const grant = details.grantId
		? await provider.Grant.find(details.grantId)
		: new provider.Grant({ accountId: session?.accountId, clientId: String(params.client_id) });
	if (grant === undefined) throw new Error('grant not found');
	const missing = prompt.details;
	if (Array.isArray(missing.missingOIDCScope))
		grant.addOIDCScope(missing.missingOIDCScope.join(' '));
	const resourceScopes = (missing.missingResourceScopes ?? {}) as Record<string, string[]>;
	for (const [indicator, scopes] of Object.entries(resourceScopes)) {
		grant.addResourceScope(indicator, scopes.join(' '));
	}
	if (Object.keys(resourceScopes).length === 0) grant.addResourceScope(resource, API_SCOPE);
	await provider.interactionFinished(
		request,
		response,
		{ consent: { grantId: await grant.save() } },
		{ mergeWithLastSubmission: true },
	);
}

/**
 * Follows redirects from an authorization URL as a browser would, keeping cookies and submitting
 * each form it is shown, until a redirect leaves the server: that is the callback.
 */
async function playBrowser(start: URL, origin: string, account: string): Promise<string> {
	const cookies = new Map<string, string>();
	let next: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams } = {
		url: start,
		method: 'GET',
	};
	for (let step = 0; step < 20; step++) {
		const response = await fetch(next.url, {
			method: next.method,
			redirect: 'manual',
			headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
			...(next.body === undefined ? {} : { body: next.body }),
		});
		for (const line of response.headers.getSetCookie()) {
			const [pair = '', ...attributes] = line.split(';');
			const [name = '', value = ''] = pair.trim().split(/=(.*)/s);
			const expired = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
			if (expired || value === '') cookies.delete(name);
			else cookies.set(name, value);
		}
		const location = response.headers.get('location');
		if (location !== null) {
			await response.body?.cancel();
			const target = new URL(location, next.url);
			if (target.origin !== origin) return target.href;
			next = { url: target, method: 'GET' };
			continue;
		}
		const html = await response.text();
		const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
		if (!response.ok || action === undefined) {
			throw new Error(
				`The authorization server answered ${response.status}: ${html.slice(0, 300)}`,
			);
		}
		const body = new URLSearchParams();
		for (const [, name = '', value = ''] of html.matchAll(
			/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g,
		)) {
			body.set(name, value);
		}
		if (body.has('login')) body.set('login', account);
		if (body.has('password')) body.set('password', 'any');
		next = { url: new URL(action, next.url), method: 'POST', body };
	}
	throw new Error('The authorization did not reach the callback within 20 steps');
}

function readBody(request: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		request.on('error', reject);
	});
}

async function makeClients(): Promise<{ clients: AuthServerClients; clientJwk: JWK }> {
	const { privateKey, publicKey } = await crypto.subtle.generateKey(
		{ name: 'ECDSA', namedCurve: 'P-256' },
		false,
		['sign', 'verify'],
	);
	const keyId = 'client-key-1';
	const clientJwk = { ...((await crypto.subtle.exportKey('jwk', publicKey)) as JWK), kid: keyId };
	const clients: AuthServerClients = {
		confidential: { clientId: 'web-app', clientSecret: secret() },
		public: { clientId: 'spa' },
		service: { clientId: 'service', clientSecret: secret() },
		privateKeyJwt: {
			clientId: 'jwt-key-service',
			privateKey,
			keyId,
		},
		clientSecretJwt: { clientId: 'jwt-secret-service', clientSecret: secret() },
		device: { clientId: 'tv' },
		parPublic: { clientId: 'par-spa' },
		parConfidential: { clientId: 'par-web-app', clientSecret: secret() },
	};
	return { clients, clientJwk };
}

function clientMetadata(
	clients: AuthServerClients,
	clientJwk: JWK,
	redirectUri: string,
): ClientMetadata[] {
	const code: Partial<ClientMetadata> = {
		grant_types: ['authorization_code', 'refresh_token'],
		response_types: ['code'],
		redirect_uris: [redirectUri],
	};
	const credentials: Partial<ClientMetadata> = {
		grant_types: ['client_credentials'],
		response_types: [],
		redirect_uris: [],
	};
	return [
		{
			client_id: clients.confidential.clientId,
			client_secret: clients.confidential.clientSecret,
			...code,
		},
		{ client_id: clients.public.clientId, token_endpoint_auth_method: 'none', ...code },
		{
			client_id: clients.service.clientId,
			client_secret: clients.service.clientSecret,
			...credentials,
		},
		{
			client_id: clients.privateKeyJwt.clientId,
			token_endpoint_auth_method: 'private_key_jwt',
			token_endpoint_auth_signing_alg: 'ES256',
			jwks: { keys: [clientJwk] },
			...credentials,
		},
		{
			client_id: clients.clientSecretJwt.clientId,
			client_secret: clients.clientSecretJwt.clientSecret,
			token_endpoint_auth_method: 'client_secret_jwt',
			token_endpoint_auth_signing_alg: 'HS256',
			...credentials,
		},
		{
			client_id: clients.device.clientId,
			token_endpoint_auth_method: 'none',
			grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
			response_types: [],
			redirect_uris: [],
		},
		{
			client_id: clients.parPublic.clientId,
			token_endpoint_auth_method: 'none',
			require_pushed_authorization_requests: true,
			...code,
		},
		{
			client_id: clients.parConfidential.clientId,
			client_secret: clients.parConfidential.clientSecret,
			require_pushed_authorization_requests: true,
			...code,
		},
	];
}

function secret(): string {
	return randomBytes(32).toString('base64url');
}

function signingKey(): JWK {
	const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
	return {
		...(privateKey.export({ format: 'jwk' }) as JWK),
		kid: 'server-key-1',
		use: 'sig',
		alg: 'ES256',
	};
}

interface Entry {
	payload: AdapterPayload;
	expiresAt: number | undefined;
}

/** Every model's records, in memory, with the indexes oidc-provider looks them up by. */
class MemoryStorage {
	readonly records = new Map<string, Entry>();
	readonly byGrant = new Map<string, Set<string>>();

	clear(): void {
		this.records.clear();
		this.byGrant.clear();
	}
}

/** An oidc-provider adapter over `MemoryStorage` (the provider's own warns that it is one). */
class MemoryAdapter implements Adapter {
	constructor(
		private readonly model: string,
		private readonly storage: MemoryStorage,
	) {}

	#key(id: string): string {
		return `${this.model}:${id}`;
	}

	#get(key: string): AdapterPayload | undefined {
		const entry = this.storage.records.get(key);
		if (entry === undefined) return undefined;
		if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
			this.storage.records.delete(key);
			return undefined;
		}
		return structuredClone(entry.payload);
	}

	async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
		const key = this.#key(id);
		const expiresAt = expiresIn > 0 ? Date.now() + expiresIn * 1000 : undefined;
		this.storage.records.set(key, { payload: structuredClone(payload), expiresAt });
		if (payload.grantId !== undefined) {
			const keys = this.storage.byGrant.get(payload.grantId) ?? new Set<string>();
			keys.add(key);
			this.storage.byGrant.set(payload.grantId, keys);
		}
		if (payload.userCode !== undefined) {
			this.storage.records.set(`${this.model}:userCode:${payload.userCode}`, {
				payload: { id } as AdapterPayload,
				expiresAt,
			});
		}
		if (payload.uid !== undefined) {
			this.storage.records.set(`${this.model}:uid:${payload.uid}`, {
				payload: { id } as AdapterPayload,
				expiresAt,
			});
		}
	}

	async find(id: string): Promise<AdapterPayload | undefined> {
		return this.#get(this.#key(id));
	}

	async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
		const id = this.#get(`${this.model}:userCode:${userCode}`)?.id;
		return typeof id === 'string' ? this.find(id) : undefined;
	}

	async findByUid(uid: string): Promise<AdapterPayload | undefined> {
		const id = this.#get(`${this.model}:uid:${uid}`)?.id;
		return typeof id === 'string' ? this.find(id) : undefined;
	}

	async consume(id: string): Promise<void> {
		const entry = this.storage.records.get(this.#key(id));
		if (entry !== undefined) entry.payload.consumed = Math.floor(Date.now() / 1000);
	}

	async destroy(id: string): Promise<void> {
		this.storage.records.delete(this.#key(id));
	}

	async revokeByGrantId(grantId: string): Promise<void> {
		for (const key of this.storage.byGrant.get(grantId) ?? []) this.storage.records.delete(key);
		this.storage.byGrant.delete(grantId);
	}
}
