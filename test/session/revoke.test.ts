import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import {
	InsecureTransportError,
	OAuth2ResponseError,
	TokenRequestError,
} from '../../src/errors/index.js';
import { clientSecretBasic, clientSecretPost } from '../../src/protocol/client-authentication.js';
import { type RevokeTokenOptions, revokeToken } from '../../src/session/revoke.js';
import type { Handler } from '../helpers/http-server.js';
import { json, rejection, text, useScriptedServer } from '../helpers/scripted-server.js';

const server = useScriptedServer();

const TOKEN = 'rt-SECRET-0123456789';
const CLIENT_SECRET = 'cs-SECRET-0123456789';
const revoke = (options: Partial<RevokeTokenOptions> = {}) =>
	revokeToken({
		revocationEndpoint: server.url('/revoke'),
		token: TOKEN,
		tokenTypeHint: 'refresh_token',
		clientAuthentication: clientSecretBasic('app', CLIENT_SECRET),
		retry: { retries: 2, minTimeout: 5, maxTimeout: 10 },
		...options,
	});

describe('revokeToken', () => {
	it('POSTs the token and its hint with the client authentication', async () => {
		server.answer('/revoke', text(200, ''));
		await revoke();
		expect(server.hits).toEqual([
			expect.objectContaining({
				method: 'POST',
				url: '/revoke',
				body: `token=${TOKEN}&token_type_hint=refresh_token`,
				headers: expect.objectContaining({
					accept: 'application/json',
					'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
					authorization: `Basic ${btoa(`app:${CLIENT_SECRET}`)}`,
				}),
			}),
		]);
	});

	it.each<[string, Handler]>([
		['an empty 200 (also what an unknown token gets)', text(200, '')],
		['a 200 with text', text(200, 'OK', 'text/plain')],
		['a 200 with a JSON object', json(200, {})],
		['a 204', (_, response) => void response.writeHead(204).end()],
	])('resolves on %s', async (_, handler) => {
		server.answer('/revoke', handler);
		await expect(revoke()).resolves.toBeUndefined();
	});

	it.each<[number, string]>([
		[400, 'unsupported_token_type'],
		[400, 'invalid_request'],
		[401, 'invalid_client'],
	])('HTTP %s %s is an OAuth2ResponseError, not retried', async (status, code) => {
		server.answer('/revoke', json(status, { error: code }));
		const error = await rejection(revoke());
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({ error: code, status });
		expect((error as Error).message).toBe(
			`The revocation endpoint answered ${code} (HTTP ${status})`,
		);
		expect(server.hits).toHaveLength(1);
	});

	it('an HTML 400 is a TokenResponseError', async () => {
		server.answer('/revoke', text(400, '<h1>Bad request</h1>'));
		expect(await rejection(revoke())).toMatchObject({
			name: 'TokenResponseError',
			problem: 'unparseable',
			status: 400,
		});
	});

	it('retries 503 (Retry-After too), building the request afresh each time', async () => {
		server.answer('/revoke', json(503, {}, { 'retry-after': '0' }), json(503, {}), text(200, ''));
		const authentication = vi.fn(clientSecretPost('app', CLIENT_SECRET));
		await revoke({ clientAuthentication: authentication });
		expect(server.hits).toHaveLength(3);
		expect(authentication).toHaveBeenCalledTimes(3);
	});

	it('gives up on 503 after the retries', async () => {
		server.answer('/revoke', json(503, {}));
		const error = await rejection(revoke());
		expect(error).toBeInstanceOf(TokenRequestError);
		expect(error).toMatchObject({ reason: 'http', status: 503, attempts: 3 });
	});

	it('keeps the token and client secret out of an error that echoes them', async () => {
		server.answer(
			'/revoke',
			json(400, {
				error: 'invalid_request',
				error_description: `token ${TOKEN} is not for client app:${CLIENT_SECRET}`,
			}),
		);
		const error = await rejection(
			revoke({ clientAuthentication: clientSecretPost('app', CLIENT_SECRET) }),
		);
		const shown = `${(error as Error).message} ${JSON.stringify(error)} ${inspect(error, { depth: 5 })}`;
		expect(shown).toContain('[redacted]');
		expect(shown).not.toContain(TOKEN);
		expect(shown).not.toContain(CLIENT_SECRET);
	});

	it('refuses http: to a host that is not loopback, sending nothing', async () => {
		const fetch = vi.fn<typeof globalThis.fetch>();
		const error = await rejection(
			revoke({ revocationEndpoint: 'http://as.example/revoke', fetch }),
		);
		expect(error).toBeInstanceOf(InsecureTransportError);
		expect(fetch).not.toHaveBeenCalled();
	});

	it('refuses an empty token, sending nothing', async () => {
		await expect(revoke({ token: '' })).rejects.toThrow('needs token as a non-empty string');
		expect(server.hits).toHaveLength(0);
	});
});

describe('error messages name the endpoint', () => {
	it('a revocation endpoint that cannot be reached is called the revocation endpoint', async () => {
		const error = await revokeToken({
			revocationEndpoint: 'http://127.0.0.1:9/revoke',
			token: 'SECRET-refresh-token',
			retry: false,
		}).catch((e: unknown) => e);
		expect((error as Error).message).toContain('revocation endpoint');
		expect((error as Error).message).not.toContain('token endpoint');
	});
});
