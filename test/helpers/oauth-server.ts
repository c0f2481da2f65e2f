import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, startServer, type TestServer } from './http-server.js';

/** How the server behaves; every field can be changed while it runs. */
export interface OAuthServerSettings {
	/** Lifetime of issued access tokens, seconds. */
	accessTokenLifetime: number;
	/** Delay before the token endpoint answers, ms. */
	tokenLatency: number;
	/**
	 * Holds the answer to the nth token request (1-based) until the promise it returns settles; for
	 * tests that need a refresh still under way when something else happens, whatever the load.
	 */
	tokenHold?: ((nth: number) => Promise<unknown> | undefined) | undefined;
	/** Issue a new refresh token on each refresh and refuse a reused one with invalid_grant. */
	rotateRefreshTokens: boolean;
	/** A reused refresh token also revokes every token of its grant (what careful servers do). */
	revokeGrantOnReuse: boolean;
	/** Statuses the next token requests answer with, in order, before answering normally. */
	tokenFailures: number[];
	/** The client id and secret the token endpoint accepts (basic or post). */
	clientId: string;
	clientSecret: string;
}

/** What the server has seen. */
export interface OAuthServerStats {
	tokenRequests: number;
	refreshRequests: number;
	apiRequests: number;
	api401: number;
	/** Revocation requests (RFC 7009) accepted. */
	revocations: number;
	/** Authorization headers seen by /elsewhere (a path tests use as "another origin"). */
	leaked: string[];
}

export interface OAuthTestServer extends TestServer {
	readonly settings: OAuthServerSettings;
	readonly stats: OAuthServerStats;
	readonly tokenEndpoint: string;
	/** Issues a token pair directly, as a login would, and returns it as a token endpoint answer. */
	issue(options?: { expiresIn?: number }): TokenAnswer;
	/**
	 * Resolves once `stats.tokenRequests` reaches `count`: a signal to wait on, where a poll with a
	 * deadline fails when a loaded machine is slower than the deadline.
	 */
	tokenRequestsReach(count: number): Promise<void>;
	/** Makes every access token issued so far invalid (the API answers 401). */
	revokeAccessTokens(): void;
	resetStats(): void;
}

export type TokenAnswer = {
	access_token: string;
	token_type: 'Bearer';
	expires_in: number;
	refresh_token: string;
	scope: string;
};

interface Grant {
	id: number;
	revoked: boolean;
}

/**
 * A small OAuth 2 server on 127.0.0.1 with a protected API: rotating refresh tokens, a reused one
 * answered with invalid_grant, configurable latency and failures, and counters of what it saw.
 */
export async function startOAuthServer(
	options: Partial<OAuthServerSettings> = {},
): Promise<OAuthTestServer> {
	const settings: OAuthServerSettings = {
		accessTokenLifetime: 3600,
		tokenLatency: 0,
		rotateRefreshTokens: true,
		revokeGrantOnReuse: false,
		tokenFailures: [],
		clientId: 'app',
		clientSecret: 's3cret',
		...options,
	};
	const stats: OAuthServerStats = {
		tokenRequests: 0,
		refreshRequests: 0,
		apiRequests: 0,
		api401: 0,
		revocations: 0,
		leaked: [],
	};
	const accessTokens = new Map<string, { expiresAt: number; grant: Grant }>();
	const refreshTokens = new Map<string, { used: boolean; grant: Grant }>();
	let grants = 0;
	let waiters: { count: number; resolve: () => void }[] = [];
	const wake = () => {
		const due = waiters.filter((w) => stats.tokenRequests >= w.count);
		waiters = waiters.filter((w) => !due.includes(w));
		for (const waiter of due) waiter.resolve();
	};
	const codes = new Map<string, { challenge: string | null; redirectUri: string | null }>();

	const issueFor = (grant: Grant, expiresIn = settings.accessTokenLifetime): TokenAnswer => {
		const access = `at-${randomBytes(12).toString('hex')}`;
		const refresh = `rt-${randomBytes(12).toString('hex')}`;
		accessTokens.set(access, { expiresAt: Date.now() + expiresIn * 1000, grant });
		refreshTokens.set(refresh, { used: false, grant });
		return {
			access_token: access,
			token_type: 'Bearer',
			expires_in: expiresIn,
			refresh_token: refresh,
			scope: 'read write',
		};
	};

	const authenticated = (header: string | undefined, params: URLSearchParams): boolean => {
		if (header?.startsWith('Basic ')) {
			const [id, secret] = Buffer.from(header.slice(6), 'base64')
				.toString()
				.split(':')
				.map(decodeURIComponent);
			return id === settings.clientId && secret === settings.clientSecret;
		}
		return (
			params.get('client_id') === settings.clientId &&
			params.get('client_secret') === settings.clientSecret
		);
	};

	const tokenEndpoint = async (
		body: string,
		authorization: string | undefined,
		response: ServerResponse,
	) => {
		stats.tokenRequests++;
		wake();
		const nth = stats.tokenRequests;
		if (settings.tokenLatency > 0) await new Promise((r) => setTimeout(r, settings.tokenLatency));
		await settings.tokenHold?.(nth);
		const failure = settings.tokenFailures.shift();
		if (failure !== undefined) {
			response.writeHead(failure, { 'content-type': 'text/html' });
			response.end('<html><body>Service Unavailable</body></html>');
			return;
		}
		const params = new URLSearchParams(body);
		if (!authenticated(authorization, params)) {
			sendJson(response, 401, { error: 'invalid_client' });
			return;
		}
		const grantType = params.get('grant_type');
		if (grantType === 'authorization_code') {
			const issued = codes.get(params.get('code') ?? '');
			codes.delete(params.get('code') ?? '');
			const verifier = params.get('code_verifier') ?? '';
			const challenge = createHash('sha256').update(verifier).digest('base64url');
			if (
				issued === undefined ||
				issued.challenge !== challenge ||
				issued.redirectUri !== params.get('redirect_uri')
			) {
				sendJson(response, 400, { error: 'invalid_grant' });
				return;
			}
			sendJson(response, 200, issueFor({ id: ++grants, revoked: false }));
			return;
		}
		if (grantType === 'client_credentials') {
			sendJson(response, 200, issueFor({ id: ++grants, revoked: false }));
			return;
		}
		if (grantType !== 'refresh_token') {
			sendJson(response, 400, { error: 'unsupported_grant_type' });
			return;
		}
		stats.refreshRequests++;
		const presented = refreshTokens.get(params.get('refresh_token') ?? '');
		if (
			presented === undefined ||
			presented.grant.revoked ||
			(settings.rotateRefreshTokens && presented.used)
		) {
			if (presented !== undefined && settings.revokeGrantOnReuse) presented.grant.revoked = true;
			sendJson(response, 400, {
				error: 'invalid_grant',
				error_description: 'The refresh token is invalid or was already used',
			});
			return;
		}
		const answer = issueFor(presented.grant);
		if (settings.rotateRefreshTokens) {
			presented.used = true;
		} else {
			refreshTokens.delete(answer.refresh_token);
			delete (answer as Partial<TokenAnswer>).refresh_token;
		}
		sendJson(response, 200, answer);
	};

	const server = await startServer(async (request, response) => {
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		if (url.pathname === '/token' && request.method === 'POST') {
			await tokenEndpoint(request.body, request.headers.authorization, response);
			return;
		}
		if (url.pathname === '/revoke' && request.method === 'POST') {
			const params = new URLSearchParams(request.body);
			if (!authenticated(request.headers.authorization, params)) {
				sendJson(response, 401, { error: 'invalid_client' });
				return;
			}
			// Revoking either token of a grant revokes the whole grant, as most servers do.
			const token = params.get('token') ?? '';
			const grant = refreshTokens.get(token)?.grant ?? accessTokens.get(token)?.grant;
			if (grant !== undefined) grant.revoked = true;
			stats.revocations++;
			response.writeHead(200);
			response.end();
			return;
		}
		if (url.pathname === '/authorize') {
			// Approves at once, as a user clicking "Allow" would, and redirects with a code.
			const code = `code-${randomBytes(8).toString('hex')}`;
			const redirectUri = url.searchParams.get('redirect_uri');
			codes.set(code, { challenge: url.searchParams.get('code_challenge'), redirectUri });
			const target = new URL(redirectUri ?? 'http://127.0.0.1/cb');
			target.searchParams.set('code', code);
			const state = url.searchParams.get('state');
			if (state !== null) target.searchParams.set('state', state);
			response.writeHead(302, { location: target.href });
			response.end();
			return;
		}
		if (url.pathname === '/redirect') {
			response.writeHead(Number(url.searchParams.get('status') ?? 302), {
				location: url.searchParams.get('to') ?? '/',
			});
			response.end();
			return;
		}
		if (url.pathname.startsWith('/elsewhere')) {
			if (request.headers.authorization) stats.leaked.push(request.headers.authorization);
			sendJson(response, 200, { authorization: request.headers.authorization ?? null });
			return;
		}
		if (url.pathname.startsWith('/api')) {
			stats.apiRequests++;
			// ?delay=ms holds the answer, with the token checked after the wait, like a slow API.
			const delay = Number(url.searchParams.get('delay') ?? 0);
			if (delay > 0) await new Promise((r) => setTimeout(r, delay));
			const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
			const known = accessTokens.get(token);
			if (known === undefined || known.grant.revoked || known.expiresAt <= Date.now()) {
				stats.api401++;
				response.writeHead(401, {
					'www-authenticate': 'Bearer error="invalid_token"',
					'content-type': 'application/json',
				});
				response.end(JSON.stringify({ error: 'invalid_token' }));
				return;
			}
			sendJson(response, 200, {
				ok: true,
				path: url.pathname,
				method: request.method,
				body: request.body,
			});
			return;
		}
		sendJson(response, 404, { error: 'not_found' });
	});

	return {
		...server,
		settings,
		stats,
		tokenEndpoint: `${server.origin}/token`,
		issue: (issueOptions = {}) =>
			issueFor({ id: ++grants, revoked: false }, issueOptions.expiresIn),
		tokenRequestsReach: (count) =>
			new Promise<void>((resolve) => {
				waiters.push({ count, resolve });
				wake();
			}),
		revokeAccessTokens: () => {
			for (const entry of accessTokens.values()) entry.expiresAt = 0;
		},
		resetStats: () => {
			Object.assign(stats, {
				tokenRequests: 0,
				refreshRequests: 0,
				apiRequests: 0,
				api401: 0,
				revocations: 0,
				leaked: [],
			});
		},
	};
}
