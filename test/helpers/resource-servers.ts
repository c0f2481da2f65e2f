import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { TokenRecord } from '../../src/protocol/token-record.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { sendJson, startServer, type TestServer } from './http-server.js';

/** What one API saw. */
export interface ApiStats {
	requests: number;
	/** Requests refused with 401. */
	unauthorized: number;
	/** Requests that carried a token issued for another audience: must stay 0. */
	foreign: number;
}

/** An authorization server issuing one access token per resource (RFC 8707), and two APIs. */
export interface ResourceServers {
	readonly auth: TestServer & {
		readonly tokenEndpoint: string;
		/** Lifetime of the tokens issued from now on, by resource, in seconds (default 3600). */
		readonly lifetimes: Map<string, number>;
		/** Delay before each token answer, ms. */
		latency: number;
		/** Token requests by the `resource` they asked for (`''` for none). */
		readonly byResource: Map<string, number>;
		/** Refresh tokens presented a second time (refused with invalid_grant). */
		reused: number;
		/** Issues a token pair as a sign-in would (access token for `resource`, default `a`'s). */
		signIn(resource?: string): TokenRecord;
		/** Revokes every access token issued for `audience`: its API answers them 401. */
		revoke(audience: string): void;
	};
	readonly a: TestServer & { readonly stats: ApiStats };
	readonly b: TestServer & { readonly stats: ApiStats };
	close(): Promise<void>;
}

/**
 * Starts the three servers on 127.0.0.1. Each API accepts only tokens issued for its own origin;
 * refresh tokens rotate at each use and a reused one is refused.
 */
export async function startResourceServers(): Promise<ResourceServers> {
	const accessTokens = new Map<string, { audience: string; expiresAt: number }>();
	const refreshTokens = new Map<string, { used: boolean }>();
	const lifetimes = new Map<string, number>();
	const byResource = new Map<string, number>();
	let defaultResource = '';
	const issue = (resource: string) => {
		const accessToken = `at-${randomBytes(8).toString('hex')}`;
		const refreshToken = `rt-${randomBytes(8).toString('hex')}`;
		const expiresIn = lifetimes.get(resource) ?? 3600;
		accessTokens.set(accessToken, { audience: resource, expiresAt: Date.now() + expiresIn * 1000 });
		refreshTokens.set(refreshToken, { used: false });
		return {
			access_token: accessToken,
			token_type: 'Bearer',
			expires_in: expiresIn,
			refresh_token: refreshToken,
		};
	};
	const authServer = await startServer(async (request, response) => {
		const params = new URLSearchParams(request.body);
		const resources = params.getAll('resource');
		const key = resources.join(' ');
		byResource.set(key, (byResource.get(key) ?? 0) + 1);
		if (auth.latency > 0) await new Promise((resolve) => setTimeout(resolve, auth.latency));
		const presented = refreshTokens.get(params.get('refresh_token') ?? '');
		if (params.get('grant_type') !== 'refresh_token' || presented === undefined) {
			sendJson(response, 400, { error: 'invalid_grant' });
			return;
		}
		if (presented.used) {
			auth.reused++;
			sendJson(response, 400, { error: 'invalid_grant' });
			return;
		}
		// An access token has one audience (RFC 8707 §2.2).
		if (resources.length > 1) {
			sendJson(response, 400, { error: 'invalid_target' });
			return;
		}
		presented.used = true;
		sendJson(response, 200, issue(resources[0] ?? defaultResource));
	});
	const api = async () => {
		const stats: ApiStats = { requests: 0, unauthorized: 0, foreign: 0 };
		const server: TestServer = await startServer((request, response) => {
			stats.requests++;
			const value = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
			const token = accessTokens.get(value);
			if (token !== undefined && token.audience !== server.origin) stats.foreign++;
			if (
				token === undefined ||
				token.audience !== server.origin ||
				token.expiresAt <= Date.now()
			) {
				stats.unauthorized++;
				response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
				response.end();
				return;
			}
			sendJson(response, 200, { ok: true, audience: token.audience });
		});
		return Object.assign(server, { stats });
	};
	const [a, b] = await Promise.all([api(), api()]);
	defaultResource = a.origin;
	const auth = Object.assign(authServer, {
		tokenEndpoint: `${authServer.origin}/token`,
		lifetimes,
		latency: 0,
		byResource,
		reused: 0,
		signIn: (resource: string = a.origin) => issue(resource),
		revoke: (audience: string) => {
			for (const [value, token] of accessTokens) {
				if (token.audience === audience) accessTokens.delete(value);
			}
		},
	});
	return {
		auth,
		a,
		b,
		close: async () => {
			await Promise.all([auth.close(), a.close(), b.close()]);
		},
	};
}

/**
 * Registers the hooks of a test file on the three servers: started once, their counters reset
 * before each test, and the sessions `twoApiSession` made closed after it.
 */
export function useResourceServers(): {
	servers: () => ResourceServers;
	twoApiSession: (options?: Partial<OAuth2SessionOptions>) => OAuth2Session;
} {
	let servers: ResourceServers | undefined;
	const sessions: OAuth2Session[] = [];
	const started = (): ResourceServers => {
		if (servers === undefined) throw new Error('The resource servers start in beforeAll');
		return servers;
	};
	beforeAll(async () => {
		servers = await startResourceServers();
	});
	afterAll(() => servers?.close());
	beforeEach(() => {
		const { auth, a, b } = started();
		auth.byResource.clear();
		auth.lifetimes.clear();
		auth.reused = 0;
		auth.latency = 0;
		for (const api of [a, b])
			Object.assign(api.stats, { requests: 0, unauthorized: 0, foreign: 0 });
	});
	afterEach(() => {
		for (const session of sessions.splice(0)) session.close();
	});
	const twoApiSession = (options: Partial<OAuth2SessionOptions> = {}): OAuth2Session => {
		const { auth, a, b } = started();
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: auth.tokenEndpoint,
			resources: { [a.origin]: {}, [b.origin]: {} },
			proactiveRefresh: false,
			// The tests' tokens live 1 s: kept as they are, not stretched to the floor.
			minRefreshInterval: 0,
			...options,
		});
		sessions.push(session);
		return session;
	};
	return { servers: started, twoApiSession };
}
