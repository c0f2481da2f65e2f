import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OAuth2ResponseError } from '../../src/errors/index.js';
import { clientSecretBasic } from '../../src/protocol/client-authentication.js';
import { type IntrospectTokenOptions, introspectToken } from '../../src/session/introspect.js';
import { json, useScriptedServer } from '../helpers/scripted-server.js';

const server = useScriptedServer();

const TOKEN = 'at-SECRET-0123456789';
const introspect = (options: Partial<IntrospectTokenOptions> = {}) =>
	introspectToken({
		introspectionEndpoint: server.url('/introspect'),
		token: TOKEN,
		tokenTypeHint: 'access_token',
		clientAuthentication: clientSecretBasic('api', 'api-secret'),
		retry: { retries: 2, minTimeout: 5, maxTimeout: 10 },
		...options,
	});

describe('introspectToken', () => {
	it('POSTs the token with the client authentication and reads an active answer', async () => {
		server.answer(
			'/introspect',
			json(200, {
				active: true,
				scope: 'orders:read orders:write',
				client_id: 'app',
				sub: 'user-1',
				aud: 'https://api.example',
				exp: 1_900_000_000,
				cnf: { 'x5t#S256': 'abc' },
			}),
		);
		expect(await introspect()).toEqual({
			active: true,
			scope: ['orders:read', 'orders:write'],
			clientId: 'app',
			sub: 'user-1',
			aud: ['https://api.example'],
			exp: 1_900_000_000,
			extra: { cnf: { 'x5t#S256': 'abc' } },
		});
		expect(server.hits).toEqual([
			expect.objectContaining({
				method: 'POST',
				body: `token=${TOKEN}&token_type_hint=access_token`,
				headers: expect.objectContaining({
					accept: 'application/json',
					authorization: `Basic ${btoa('api:api-secret')}`,
				}),
			}),
		]);
	});

	it('reads active: false as an answer', async () => {
		server.answer('/introspect', json(200, { active: false }));
		expect(await introspect()).toEqual({ active: false, extra: {} });
	});

	it('retries a 503', async () => {
		server.answer('/introspect', json(503, {}), json(200, { active: false }));
		expect((await introspect()).active).toBe(false);
		expect(server.hits).toHaveLength(2);
	});

	it('throws an error answer as OAuth2ResponseError, the echoed token redacted', async () => {
		server.answer(
			'/introspect',
			json(401, { error: 'invalid_client', error_description: `cannot introspect ${TOKEN}` }),
		);
		const error = await introspect().catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(OAuth2ResponseError);
		expect(error).toMatchObject({
			error: 'invalid_client',
			status: 401,
			errorDescription: 'cannot introspect [redacted]',
		});
		expect(`${(error as Error).message} ${inspect(error)}`).not.toContain(TOKEN);
	});

	it('throws TokenResponseError for an answer without active', async () => {
		server.answer('/introspect', json(200, { scope: 'a' }));
		await expect(introspect()).rejects.toMatchObject({
			name: 'TokenResponseError',
			problem: 'invalid-field',
		});
	});
});
