// Security, in one place: a callback is believed only with the right state, the right issuer (RFC
// 9207), and a code only redeems with its PKCE verifier; checked before any token request.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthorizationCallback } from '../../src/protocol/authorization-callback.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';

let server: OAuthTestServer;
beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => server.resetStats());
afterAll(() => server.close());

const session = (options: Partial<OAuth2SessionOptions> = {}) =>
	new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: server.tokenEndpoint,
		authorizationEndpoint: `${server.origin}/authorize`,
		redirectUri: 'http://127.0.0.1/cb',
		allowedOrigins: [server.origin],
		...options,
	});
/** The callback URL the server redirects to once the user approves. */
const approve = async (url: string) =>
	(await fetch(url, { redirect: 'manual' })).headers.get('location') as string;

describe('through the session', () => {
	it('a callback with another state is refused before any token request', async () => {
		const s = session();
		const { url } = await s.authorizationUrl();
		const callback = new URL(await approve(url));
		callback.searchParams.set('state', 'forged');
		await expect(s.fetchToken({ authorizationResponse: callback })).rejects.toMatchObject({
			name: 'StateMismatchError',
		});
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('a callback with another iss is refused before any token request (mix-up)', async () => {
		const s = session();
		const { url } = await s.authorizationUrl();
		const callback = new URL(await approve(url));
		callback.searchParams.set('iss', 'https://evil.example');
		await expect(
			s.fetchToken({ authorizationResponse: callback, issuer: server.origin }),
		).rejects.toMatchObject({ name: 'InvalidCallbackError', problem: 'issuer-mismatch' });
		expect(server.stats.tokenRequests).toBe(0);
	});

	it("a code redeemed with another request's PKCE verifier is refused by the server", async () => {
		const s = session();
		const first = await s.authorizationUrl();
		const callback = await approve(first.url);
		const second = await session().authorizationUrl();
		await expect(
			s.fetchToken({
				authorizationResponse: callback,
				state: first.state,
				codeVerifier: second.codeVerifier,
			}),
		).rejects.toMatchObject({ name: 'OAuth2ResponseError', error: 'invalid_grant' });
		expect(server.stats.tokenRequests).toBe(1);
		// The right verifier works, once.
		const again = await approve((await s.authorizationUrl()).url);
		await expect(s.fetchToken({ authorizationResponse: again })).resolves.toBeDefined();
	});
});

describe('a session that knows its issuer checks iss (RFC 9207) by default', () => {
	const withIss = async (s: OAuth2Session, iss: string | undefined) => {
		const callback = new URL(await approve((await s.authorizationUrl()).url));
		if (iss === undefined) callback.searchParams.delete('iss');
		else callback.searchParams.set('iss', iss);
		return callback;
	};
	const metadata = (supported: boolean) => ({
		issuer: server.origin,
		authorization_endpoint: `${server.origin}/authorize`,
		token_endpoint: server.tokenEndpoint,
		authorization_response_iss_parameter_supported: supported,
	});

	it.each([
		['the issuer option', () => session({ issuer: server.origin })],
		['discovery metadata', () => session({ metadata: metadata(false) })],
	])('with %s, another iss is refused before any token request', async (_, make) => {
		const s = make();
		await expect(
			s.fetchToken({ authorizationResponse: await withIss(s, 'https://evil.example') }),
		).rejects.toMatchObject({ name: 'InvalidCallbackError', problem: 'issuer-mismatch' });
		const implicit = new URL('http://127.0.0.1/cb');
		const { state } = await s.authorizationUrl({ responseType: 'token' });
		implicit.hash = `access_token=at-1&token_type=Bearer&state=${state}&iss=https://evil.example`;
		await expect(s.fetchToken({ implicitResponse: implicit })).rejects.toMatchObject({
			problem: 'issuer-mismatch',
		});
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('with metadata that advertises iss, a callback without it is refused', async () => {
		const s = session({ metadata: metadata(true) });
		await expect(
			s.fetchToken({ authorizationResponse: await withIss(s, undefined) }),
		).rejects.toMatchObject({ name: 'InvalidCallbackError', problem: 'missing-issuer' });
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('the right iss, or none where the metadata does not advertise it, signs in', async () => {
		const s = session({ metadata: metadata(false) });
		await expect(
			s.fetchToken({ authorizationResponse: await withIss(s, server.origin) }),
		).resolves.toBeDefined();
		await expect(
			s.fetchToken({ authorizationResponse: await withIss(s, undefined) }),
		).resolves.toBeDefined();
	});

	it('takes its endpoints from the metadata when not given', async () => {
		const s = new OAuth2Session({
			clientId: 'app',
			clientSecret: 's3cret',
			redirectUri: 'http://127.0.0.1/cb',
			metadata: metadata(true),
		});
		const callback = await withIss(s, server.origin);
		await expect(s.fetchToken({ authorizationResponse: callback })).resolves.toBeDefined();
		expect(server.stats.tokenRequests).toBe(1);
	});

	it('refuses an issuer option that contradicts the metadata', () => {
		expect(() =>
			session({ issuer: 'https://other.example', metadata: metadata(false) }),
		).toThrowError(expect.objectContaining({ name: 'InvalidOptionsError' }));
	});
});

describe('a state is good for one callback, whatever happens', () => {
	it('a failed code exchange spends the state: a second code with it is refused unsent', async () => {
		const s = session({ retry: false });
		const { url, state } = await s.authorizationUrl();
		server.settings.tokenFailures.push(503);
		await expect(s.fetchToken({ authorizationResponse: await approve(url) })).rejects.toMatchObject(
			{ name: 'TokenRequestError' },
		);
		// The same authorization request approved again: a fresh code, the same state.
		const second = await approve(url);
		await expect(s.fetchToken({ authorizationResponse: second })).rejects.toMatchObject({
			name: 'StateMismatchError',
			received: 'used',
		});
		await expect(s.fetchToken({ authorizationResponse: second, state })).rejects.toMatchObject({
			name: 'StateMismatchError',
			received: 'used',
		});
		expect(server.stats.tokenRequests).toBe(1);
	});

	it.each([
		['an error answer', (callback: URL) => callback.searchParams.set('error', 'access_denied')],
		['another iss', (callback: URL) => callback.searchParams.set('iss', 'https://evil.example')],
		['another state', (callback: URL) => callback.searchParams.set('state', 'forged')],
		['no code', (callback: URL) => callback.searchParams.delete('code')],
	])('a callback refused for %s spends the state too', async (_, spoil) => {
		const s = session();
		const { url, state } = await s.authorizationUrl();
		const spoilt = new URL(await approve(url));
		spoil(spoilt);
		await expect(
			s.fetchToken({ authorizationResponse: spoilt, issuer: server.origin }),
		).rejects.toBeInstanceOf(Error);
		await expect(
			s.fetchToken({ authorizationResponse: await approve(url), state }),
		).rejects.toMatchObject({ name: 'StateMismatchError', received: 'used' });
		expect(server.stats.tokenRequests).toBe(0);
	});

	it('an implicit callback spends its state as well', async () => {
		const s = session();
		const { state } = await s.authorizationUrl({ responseType: 'token' });
		const callback = `http://127.0.0.1/cb#access_token=at-1&token_type=Bearer&state=${state}`;
		await expect(s.fetchToken({ implicitResponse: callback })).resolves.toMatchObject({
			accessToken: 'at-1',
		});
		await expect(s.fetchToken({ implicitResponse: callback, state })).rejects.toMatchObject({
			name: 'StateMismatchError',
			received: 'used',
		});
	});

	it('a new authorization request after a spent one signs in', async () => {
		const s = session();
		const first = await s.authorizationUrl();
		const spoilt = new URL(await approve(first.url));
		spoilt.searchParams.set('error', 'access_denied');
		await expect(s.fetchToken({ authorizationResponse: spoilt })).rejects.toMatchObject({
			name: 'AuthorizationResponseError',
		});
		const again = await approve((await s.authorizationUrl()).url);
		await expect(s.fetchToken({ authorizationResponse: again })).resolves.toBeDefined();
	});
});

describe('parseAuthorizationCallback', () => {
	const base = 'https://app.example.com/cb';
	it.each([
		['no state', `${base}?code=c0de`, { name: 'StateMismatchError' }],
		['another state', `${base}?code=c0de&state=x`, { name: 'StateMismatchError' }],
		['a repeated state', `${base}?code=c0de&state=s&state=s`, { problem: 'malformed' }],
		[
			'a forged error answer',
			`${base}?error=access_denied&state=x`,
			{ name: 'StateMismatchError' },
		],
		[
			'another iss',
			`${base}?code=c0de&state=s&iss=https://evil.example`,
			{ problem: 'issuer-mismatch' },
		],
		['no iss when required', `${base}?code=c0de&state=s`, { problem: 'missing-issuer' }],
	])('refuses %s', (_, url, expected) => {
		let thrown: unknown;
		try {
			parseAuthorizationCallback(url, {
				expectedState: 's',
				issuer: 'https://as.example',
				requireIssuer: url.endsWith('state=s'),
			});
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toMatchObject(expected);
	});
});
