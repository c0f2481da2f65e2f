/**
 * README's web app quickstart (examples/web-app.ts) run as a server would run it: login, callback
 * and API call as separate requests, each through the one OAuth2Client, against a scripted
 * authorization server and API in place of `fetch`. The example imports the package by name; here
 * that is src/.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeCodeChallenge } from '../../src/index.js';

vi.mock('oauth2-session', () => import('../../src/index.js'));
// The example makes its client when loaded, as a server does at start: the secret comes first.
vi.stubEnv('CLIENT_SECRET', 'test-secret');
const { callback, login, profile } = await import('../../examples/web-app.js');
type ServerSession = import('../../examples/web-app.js').ServerSession;

interface Server {
	challenges: Map<string, string>;
	tokenRequests: URLSearchParams[];
	lifetime: number;
	issued: number;
}

let server: Server;

/** The authorization server's token endpoint and the API, as the example's URLs name them. */
async function scriptedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
	const request = new Request(input, init);
	const url = new URL(request.url);
	if (url.href === 'https://auth.example.com/token') {
		const params = new URLSearchParams(await request.text());
		server.tokenRequests.push(params);
		expect(request.headers.get('authorization')).toBe(`Basic ${btoa('web-app:test-secret')}`);
		if (params.get('grant_type') === 'authorization_code') {
			const challenge = server.challenges.get(params.get('code') ?? '');
			const verifier = params.get('code_verifier') ?? '';
			if (challenge === undefined || (await computeCodeChallenge(verifier)) !== challenge) {
				return Response.json({ error: 'invalid_grant' }, { status: 400 });
			}
		}
		server.issued++;
		return Response.json({
			access_token: `access-${server.issued}`,
			token_type: 'Bearer',
			expires_in: server.lifetime,
			refresh_token: `refresh-${server.issued}`,
		});
	}
	if (url.href === 'https://api.example.com/me') {
		const valid = request.headers.get('authorization') === `Bearer access-${server.issued}`;
		return valid ? Response.json({ name: 'Ada' }) : new Response(null, { status: 401 });
	}
	return new Response(null, { status: 404 });
}

/** The user approves: the server keeps the PKCE challenge for a code and redirects back. */
function approve(authorizationUrl: string, code: string, state?: string): string {
	const url = new URL(authorizationUrl);
	server.challenges.set(code, url.searchParams.get('code_challenge') ?? '');
	const back = new URL(url.searchParams.get('redirect_uri') ?? '');
	back.searchParams.set('code', code);
	back.searchParams.set('state', state ?? url.searchParams.get('state') ?? '');
	return back.href;
}

beforeEach(() => {
	server = { challenges: new Map(), tokenRequests: [], lifetime: 3600, issued: 0 };
	vi.stubGlobal('fetch', scriptedFetch);
});

afterEach(() => {
	vi.unstubAllGlobals();
});

describe('README web app quickstart', () => {
	it('signs in across three requests and calls the API as the user', async () => {
		const user: ServerSession = { id: 'web-1' };
		const url = await login(user);
		const sent = new URL(url);
		expect(sent.origin + sent.pathname).toBe('https://auth.example.com/authorize');
		expect(sent.searchParams.get('state')).toBe(user.oauth?.state);
		expect(sent.searchParams.get('code_challenge_method')).toBe('S256');
		expect(sent.searchParams.get('scope')).toBe('openid email offline_access');

		await callback(user, approve(url, 'code-1'));
		expect(user.oauth).toBeUndefined();
		expect(server.tokenRequests.map((params) => params.get('grant_type'))).toEqual([
			'authorization_code',
		]);

		expect(await profile(user)).toEqual({ name: 'Ada' });
		expect(await profile({ id: 'web-2' })).toBeUndefined(); // another user, never signed in
	});

	it('refuses a callback whose state is not the one sent, and uses the state only once', async () => {
		const user: ServerSession = { id: 'web-3' };
		const url = await login(user);
		await expect(callback(user, approve(url, 'code-2', 'forged'))).rejects.toMatchObject({
			name: 'StateMismatchError',
		});
		await expect(callback(user, approve(url, 'code-2'))).rejects.toThrow('No sign-in in progress');
		expect(server.tokenRequests).toEqual([]);
	});

	it('refreshes once when two requests of one user find the token expired', async () => {
		server.lifetime = 1;
		const user: ServerSession = { id: 'web-4' };
		await callback(user, approve(await login(user), 'code-3'));
		await new Promise((resolve) => setTimeout(resolve, 1_100));
		server.lifetime = 3600;

		const answers = await Promise.all([profile(user), profile(user)]);
		expect(answers).toEqual([{ name: 'Ada' }, { name: 'Ada' }]);
		expect(server.tokenRequests.map((params) => params.get('grant_type'))).toEqual([
			'authorization_code',
			'refresh_token',
		]);
	});
});
