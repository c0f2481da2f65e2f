// Security, in one place: the client secret, a password, a refresh token and a PKCE verifier stay
// out of every error a failing token request can give, in message, JSON and inspect.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { clientSecretBasic, clientSecretPost } from '../../src/protocol/client-authentication.js';
import {
	authorizationCodeGrant,
	fbExchangeTokenGrant,
	passwordGrant,
	refreshTokenGrant,
} from '../../src/protocol/grants.js';
import { facebook } from '../../src/protocol/profiles/index.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { requestToken } from '../../src/session/request-token.js';
import { json, rejection, text, useScriptedServer } from '../helpers/scripted-server.js';

const CLIENT_SECRET = 'SECRETCLIENT0123456789';
const PASSWORD = 'SECRETPASSWORD0123456789';
const REFRESH = 'SECRETREFRESH0123456789';
const VERIFIER = 'SECRETVERIFIER0123456789abcdefghijklmnopqrs';
const FB_TOKEN = 'SECRETFB0123456789';
const secrets = [CLIENT_SECRET, PASSWORD, REFRESH, VERIFIER, FB_TOKEN];

const server = useScriptedServer();

function expectNoSecret(error: unknown): void {
	expect(error).toBeInstanceOf(Error);
	const shown = [
		(error as Error).message,
		JSON.stringify(error),
		inspect(error, { depth: Number.POSITIVE_INFINITY }),
		String(error),
	].join('\n');
	for (const s of secrets) expect(shown).not.toContain(s);
}

// Each grant with the text a server echoing what it was sent would answer: only what the request
// carried can come back.
const grants = [
	[
		'password',
		passwordGrant({ username: 'alice', password: PASSWORD }),
		`${CLIENT_SECRET} ${PASSWORD}`,
	],
	['refresh_token', refreshTokenGrant({ refreshToken: REFRESH }), `${CLIENT_SECRET} ${REFRESH}`],
	[
		'authorization_code',
		authorizationCodeGrant({ code: 'c0de-1234', codeVerifier: VERIFIER }),
		`${CLIENT_SECRET} ${VERIFIER}`,
	],
] as const;

const send = (grant: (typeof grants)[number][1], basic = false) =>
	requestToken({
		tokenEndpoint: server.url('/token'),
		grant,
		clientAuthentication: basic
			? clientSecretBasic('app', CLIENT_SECRET)
			: clientSecretPost('app', CLIENT_SECRET),
		retry: { retries: 1, minTimeout: 5, maxTimeout: 10 },
	});

describe('secrets stay out of token request errors', () => {
	it.each(grants)('%s: invalid_client echoing every secret', async (_, grant, echo) => {
		server.answer(
			'/token',
			json(401, { error: 'invalid_client', error_description: echo, error_uri: echo }),
		);
		expectNoSecret(await rejection(send(grant)));
	});

	it.each(grants)(
		'%s: invalid_client echoing a client_secret_basic secret',
		async (_, grant, echo) => {
			server.answer(
				'/token',
				json(401, { error: 'invalid_client', error_description: echo, error_uri: echo }),
			);
			expectNoSecret(await rejection(send(grant, true)));
		},
	);

	it.each(grants)('%s: a 500 whose body echoes every secret', async (_, grant, echo) => {
		server.answer('/token', text(500, `<pre>${echo}</pre>`));
		const error = await rejection(send(grant));
		expect(error).toMatchObject({ name: 'TokenRequestError', status: 500, attempts: 2 });
		expectNoSecret(error);
	});

	it.each(grants)('%s: a 200 that is not JSON and echoes every secret', async (_, grant, echo) => {
		server.answer('/token', text(200, `{ ${echo}`, 'application/json'));
		expectNoSecret(await rejection(send(grant)));
	});

	it('facebook: a network error on a GET whose query holds the secrets', async () => {
		const error = await rejection(
			requestToken({
				tokenEndpoint: server.url('/token'),
				grant: fbExchangeTokenGrant({ fbExchangeToken: FB_TOKEN }),
				clientAuthentication: clientSecretPost('app', CLIENT_SECRET),
				profile: facebook,
				retry: false,
				fetch: async (input) => {
					throw new TypeError(`request to ${String(input)} failed, reason: ECONNRESET`);
				},
			}),
		);
		expect(error).toMatchObject({ reason: 'network' });
		expectNoSecret(error);
	});

	it('through a session: a refused refresh, its events and the session ending', async () => {
		server.answer(
			'/token',
			json(400, { error: 'invalid_grant', error_description: `${CLIENT_SECRET} ${REFRESH}` }),
		);
		const session = new OAuth2Session({
			clientId: 'app',
			clientSecret: CLIENT_SECRET,
			clientAuthentication: 'client_secret_post',
			tokenEndpoint: server.url('/token'),
			token: { access_token: 'at-1', refresh_token: REFRESH, expires_in: -10 },
			allowedOrigins: [server.origin],
		});
		const seen: unknown[] = [];
		session.on('sessionEnded', (event) => seen.push(event.error));
		session.on('refreshFailed', (event) => seen.push(event.error));
		expectNoSecret(await rejection(session.fetch(server.url('/api'))));
		expect(seen).toHaveLength(1);
		for (const error of seen) expectNoSecret(error);
		expect(inspect(session, { depth: Number.POSITIVE_INFINITY })).not.toContain(REFRESH);
	});
});
