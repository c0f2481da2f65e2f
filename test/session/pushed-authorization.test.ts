// Pushed authorization requests (RFC 9126) through the session and pushAuthorizationRequest,
// against a scripted server on 127.0.0.1: what is pushed, what the URL keeps, and every way the
// push endpoint can answer wrong.
import { describe, expect, it } from 'vitest';
import {
	InsecureTransportError,
	InvalidOptionsError,
	OAuth2ResponseError,
	TokenResponseError,
} from '../../src/errors/index.js';
import type { AuthorizationServerMetadata } from '../../src/protocol/discovery.js';
import { computeCodeChallenge } from '../../src/protocol/pkce.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { sessionAuthorizationUrl } from '../../src/session/authorization.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { normalizeOptions, type OAuth2SessionOptions } from '../../src/session/options.js';
import { pushAuthorizationRequest } from '../../src/session/pushed-authorization.js';
import { json, rejection, useScriptedServer } from '../helpers/scripted-server.js';

const server = useScriptedServer();
const redirectUri = 'http://127.0.0.1:9/callback';
const requestUri = 'urn:ietf:params:oauth:request_uri:bwc4JK-ESC0w8acc191e-Y1LTC2';
const pushed = json(201, { request_uri: requestUri, expires_in: 90 });
const noRetry = { retries: 2, minTimeout: 1, maxTimeout: 1 };

const options = (extra: Partial<OAuth2SessionOptions> = {}): OAuth2SessionOptions => ({
	clientId: 'app',
	clientSecret: 's3cret',
	authorizationEndpoint: server.url('/authorize'),
	pushedAuthorizationRequestEndpoint: server.url('/par'),
	tokenEndpoint: server.url('/token'),
	redirectUri,
	scope: ['read', 'write'],
	proactiveRefresh: false,
	retry: noRetry,
	...extra,
});
const metadata = (fields: Partial<AuthorizationServerMetadata>): AuthorizationServerMetadata => ({
	issuer: server.origin,
	authorization_endpoint: server.url('/authorize'),
	token_endpoint: server.url('/token'),
	...fields,
});
const pushes = () => server.hitsOn('/par').map((hit) => new URLSearchParams(hit.body));

describe('session.authorizationUrl() with a push endpoint', () => {
	it('pushes the parameters with client authentication; the URL carries only client_id and request_uri', async () => {
		server.answer('/par', pushed);
		const profile = defineProfile({
			name: 'test',
			tokenRequestHeaders: { 'x-tenant': 'blue' },
			authorizationParams: { prompt: 'consent' },
		});
		const session = new OAuth2Session(options({ profile }));
		const before = Date.now();
		const request = await session.authorizationUrl({ nonce: 'n-1' });

		const url = new URL(request.url);
		expect(`${url.origin}${url.pathname}`).toBe(server.url('/authorize'));
		expect([...url.searchParams]).toEqual([
			['client_id', 'app'],
			['request_uri', requestUri],
		]);
		expect(request).toMatchObject({ requestUri, nonce: 'n-1' });
		expect(request.expiresAt).toBeGreaterThanOrEqual(before + 90_000);
		expect(request.expiresAt).toBeLessThanOrEqual(Date.now() + 90_000);

		const [hit] = server.hitsOn('/par');
		expect(hit?.method).toBe('POST');
		expect(hit?.headers.authorization).toBe(`Basic ${btoa('app:s3cret')}`);
		expect(hit?.headers['x-tenant']).toBe('blue');
		const body = new URLSearchParams(hit?.body);
		expect(Object.fromEntries(body)).toEqual({
			response_type: 'code',
			client_id: 'app',
			redirect_uri: redirectUri,
			scope: 'read write',
			state: request.state,
			code_challenge: await computeCodeChallenge(request.codeVerifier ?? '', 'S256'),
			code_challenge_method: 'S256',
			nonce: 'n-1',
			prompt: 'consent',
		});
		session.close();
	});

	it('fetchToken({ authorizationResponse }) then uses the state and verifier of the push', async () => {
		server.answer('/par', pushed);
		server.answer('/token', json(200, { access_token: 'at-1', token_type: 'Bearer' }));
		const session = new OAuth2Session(options({ clientSecret: undefined }));
		const { state, codeVerifier } = await session.authorizationUrl();
		const token = await session.fetchToken({
			authorizationResponse: `${redirectUri}?code=c-1&state=${state}`,
		});
		expect(token.accessToken).toBe('at-1');
		const sent = new URLSearchParams(server.hitsOn('/token')[0]?.body);
		expect(sent.get('code_verifier')).toBe(codeVerifier);
		expect(await computeCodeChallenge(codeVerifier ?? '', 'S256')).toBe(
			pushes()[0]?.get('code_challenge'),
		);
		// A public client names itself in the body, once.
		expect(pushes()[0]?.getAll('client_id')).toEqual(['app']);
		session.close();
	});

	it("pushes to the metadata's endpoint; false, as option or per call, puts the parameters in the URL", async () => {
		server.answer('/par', pushed);
		const fromMetadata = {
			pushedAuthorizationRequestEndpoint: undefined,
			authorizationEndpoint: undefined,
			metadata: metadata({ pushed_authorization_request_endpoint: server.url('/par') }),
		};
		const session = new OAuth2Session(options(fromMetadata));
		expect((await session.authorizationUrl()).requestUri).toBe(requestUri);
		const inUrl = await session.authorizationUrl({ pushedAuthorizationRequestEndpoint: false });
		expect(new URL(inUrl.url).searchParams.get('state')).toBe(inUrl.state);
		expect(inUrl.requestUri).toBeUndefined();
		const off = new OAuth2Session(
			options({ ...fromMetadata, pushedAuthorizationRequestEndpoint: false }),
		);
		expect((await off.authorizationUrl()).requestUri).toBeUndefined();
		expect(server.hitsOn('/par')).toHaveLength(1);
		session.close();
		off.close();
	});

	it('metadata requiring pushed requests, with no endpoint to push to: a typed error, nothing sent', async () => {
		const required = metadata({ require_pushed_authorization_requests: true });
		const message =
			'The authorization server requires pushed authorization requests (its metadata says require_pushed_authorization_requests), but the session has no pushedAuthorizationRequestEndpoint';
		const without = new OAuth2Session(
			options({ pushedAuthorizationRequestEndpoint: undefined, metadata: required }),
		);
		await expect(without.authorizationUrl()).rejects.toThrow(new InvalidOptionsError(message));
		const turnedOff = new OAuth2Session(
			options({ pushedAuthorizationRequestEndpoint: false, metadata: required }),
		);
		await expect(turnedOff.authorizationUrl()).rejects.toThrow(InvalidOptionsError);
		const withOne = new OAuth2Session(options({ metadata: required }));
		await expect(
			withOne.authorizationUrl({ pushedAuthorizationRequestEndpoint: false }),
		).rejects.toThrow(InvalidOptionsError);
		expect(server.hits).toEqual([]);
		for (const session of [without, turnedOff, withOne]) session.close();
	});

	it('refuses a push endpoint that is not an absolute URL, before anything is sent', async () => {
		const session = new OAuth2Session(options({ pushedAuthorizationRequestEndpoint: 'par' }));
		await expect(session.authorizationUrl()).rejects.toThrow(
			new InvalidOptionsError('pushedAuthorizationRequestEndpoint must be an absolute URL'),
		);
		expect(server.hits).toEqual([]);
		session.close();
	});
});

describe('what the push endpoint answers wrong', () => {
	const authorizationUrl = (extra: Partial<OAuth2SessionOptions> = {}) =>
		new OAuth2Session(options(extra)).authorizationUrl();

	it('an error answer is an OAuth2ResponseError, with the secret it echoes redacted', async () => {
		server.answer(
			'/par',
			json(400, {
				error: 'invalid_request',
				error_description: 'bad client_secret s3cret-long-value',
			}),
		);
		const error = await rejection(
			authorizationUrl({
				clientSecret: 's3cret-long-value',
				clientAuthentication: 'client_secret_post',
			}),
		);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: 'invalid_request', status: 400 });
		expect(JSON.stringify(error)).not.toContain('s3cret-long-value');
		expect((error as Error).message).not.toContain('s3cret-long-value');
		expect((error as Error).message).toContain('pushed authorization request endpoint');
		expect(server.hitsOn('/par')).toHaveLength(1);
	});

	it.each<[string, unknown]>([
		['no request_uri', { expires_in: 60 }],
		['a zero expires_in', { request_uri: requestUri, expires_in: 0 }],
		['expires_in as a string', { request_uri: requestUri, expires_in: '60' }],
	])('%s is a TokenResponseError (invalid-field)', async (_, body) => {
		server.answer('/par', json(201, body));
		const error = await rejection(authorizationUrl());
		expect(error).toBeInstanceOf(TokenResponseError);
		expect(error).toMatchObject({ problem: 'invalid-field', status: 201 });
	});

	it("an answer larger than the session's maxResponseSize is refused while it streams in", async () => {
		server.answer(
			'/par',
			json(201, { request_uri: requestUri, expires_in: 60, padding: 'x'.repeat(8192) }),
		);
		const error = await rejection(authorizationUrl({ maxResponseSize: 4096 }));
		expect(error).toMatchObject({ name: 'TokenResponseError', problem: 'too-large' });
	});

	it('a 503 is retried with the same state, verifier and nonce', async () => {
		server.answer('/par', json(503, { error: 'temporarily_unavailable' }), pushed);
		const session = new OAuth2Session(options());
		const { state, requestUri: answered } = await session.authorizationUrl({ nonce: 'n' });
		expect(answered).toBe(requestUri);
		const [first, second] = pushes();
		expect(pushes()).toHaveLength(2);
		expect(first?.toString()).toBe(second?.toString());
		expect(first?.get('state')).toBe(state);
		session.close();
	});

	it('plain http: to a host that is not loopback is refused before anything is sent', async () => {
		const error = await rejection(
			authorizationUrl({ pushedAuthorizationRequestEndpoint: 'http://as.example/par' }),
		);
		expect(error).toBeInstanceOf(InsecureTransportError);
	});

	it('an authorization endpoint the URL cannot be built on is refused before the push', async () => {
		server.answer('/par', pushed);
		await expect(
			authorizationUrl({ authorizationEndpoint: `${server.url('/authorize')}?request_uri=x` }),
		).rejects.toThrow(InvalidOptionsError);
		expect(server.hits).toEqual([]);
	});

	it("the caller's signal aborts the push", async () => {
		server.answer('/par', () => new Promise(() => {}));
		const controller = new AbortController();
		const session = new OAuth2Session(options());
		const pending = session.authorizationUrl({ signal: controller.signal });
		await server.arrived('/par', 1);
		expect(server.hitsOn('/par')).toHaveLength(1);
		controller.abort(new Error('user left'));
		await expect(pending).rejects.toThrow('user left');
		session.close();
	});
});

describe('the DPoP hook of a push', () => {
	it('pushAuthorizationRequest: dpop_jkt in the body, prepareRequest on every attempt', async () => {
		server.answer('/par', json(500, {}), pushed);
		const proofs: string[] = [];
		const request = await pushAuthorizationRequest({
			pushedAuthorizationRequestEndpoint: server.url('/par'),
			authorizationEndpoint: server.url('/authorize'),
			clientId: 'app',
			dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
			retry: noRetry,
			prepareRequest: (parts) => {
				const proof = `proof-${proofs.length}`;
				proofs.push(proof);
				parts.headers.set('dpop', proof);
			},
		});
		expect(request.requestUri).toBe(requestUri);
		const hits = server.hitsOn('/par');
		expect(hits.map((hit) => hit.headers.dpop)).toEqual(['proof-0', 'proof-1']);
		expect(pushes().map((body) => body.get('dpop_jkt'))).toEqual([
			'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
			'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
		]);
	});

	it('the session passes its hooks through sessionAuthorizationUrl', async () => {
		server.answer('/par', pushed);
		const seen: string[] = [];
		await sessionAuthorizationUrl(
			normalizeOptions(options()),
			{},
			{
				dpopJkt: 'jkt-1',
				prepareRequest: (parts) => void seen.push(parts.url.href),
			},
		);
		expect(seen).toEqual([server.url('/par')]);
		expect(pushes()[0]?.get('dpop_jkt')).toBe('jkt-1');
	});
});
