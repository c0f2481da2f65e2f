// A value no HTTP header can carry is refused where it enters, with our own typed error: the
// runtime's TypeError (Headers.set, Headers.append) quotes the whole value, token or key included.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, TokenResponseError } from '../../src/errors/index.js';
import { buildEndpointRequest } from '../../src/protocol/endpoint-request.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { requestToken } from '../../src/session/request-token.js';
import { json, useScriptedServer } from '../helpers/scripted-server.js';

const SECRET = 'SECRETVALUE0123456789';
const server = useScriptedServer();

async function failure(promise: Promise<unknown>): Promise<Error> {
	const outcome = await promise.then(
		() => undefined,
		(error: unknown) => error,
	);
	expect(outcome).toBeInstanceOf(Error);
	const error = outcome as Error;
	const shown = [
		error.message,
		String(error),
		inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
	].join('\n');
	// JSON.parse quotes the first ten characters of what it could not read.
	expect(shown).not.toContain(SECRET.slice(0, 8));
	return error;
}

describe('an access token the server sent that no header can carry', () => {
	it.each([
		['CR LF', `${SECRET}\r\nX-Injected: 1`],
		['NUL', `${SECRET}\u0000`],
		['non-ASCII', `${SECRET}ö`],
	])('with %s: the refresh fails at arrival, and no API request is sent', async (_, token) => {
		server.answer('/token', json(200, { access_token: token, token_type: 'Bearer' }));
		server.answer('/api', json(200, {}));
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: server.url('/token'),
			grant: clientCredentialsGrant(),
			baseUrl: server.origin,
			retry: false,
		});
		const error = await failure(session.fetch(server.url('/api')));
		expect(error).not.toBeInstanceOf(TypeError);
		expect(server.hitsOn('/api')).toHaveLength(0);
		expect(server.hitsOn('/token')).toHaveLength(1);
	});

	it('a token_type other than Bearer is a TokenResponseError at arrival', async () => {
		server.answer('/token', json(200, { access_token: SECRET, token_type: 'DPoP' }));
		const error = await failure(
			requestToken({ tokenEndpoint: server.url('/token'), grant: clientCredentialsGrant() }),
		);
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).problem).toBe('unsupported-token-type');
	});
});

describe('a header option no request can carry', () => {
	it('requestToken refuses it before sending, without quoting it', async () => {
		const error = await failure(
			requestToken({
				tokenEndpoint: server.url('/token'),
				grant: clientCredentialsGrant(),
				headers: { 'x-api-key': `${SECRET}\r\nX-Injected: 1` },
			}),
		);
		expect(error).toBeInstanceOf(InvalidOptionsError);
		expect(server.hits).toHaveLength(0);
	});

	it('an endpoint request refuses it too', async () => {
		const error = await failure(
			buildEndpointRequest(server.url('/revoke'), 'revocationEndpoint', new URLSearchParams(), {
				headers: { 'x-api-key': `${SECRET}\u0000` },
			}),
		);
		expect(error).toBeInstanceOf(InvalidOptionsError);
	});
});

describe('a custom decoder whose error quotes the body', () => {
	it('keeps the error kind as the cause, not its message', async () => {
		server.answer('/token', (_, response) => void response.end(`${SECRET}`));
		const error = await failure(
			requestToken({
				tokenEndpoint: server.url('/token'),
				grant: clientCredentialsGrant(),
				decoder: (text) => JSON.parse(text),
			}),
		);
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).cause).toBeInstanceOf(SyntaxError);
	});
});
