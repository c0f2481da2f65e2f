// A server whose error answer echoes what it was sent (the form, the Authorization header) must
// not get the client's credentials into our errors: in no encoding, in no field, in no cause.
import type { IncomingMessage } from 'node:http';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TokenResponseError } from '../../src/errors/index.js';
import {
	type ClientAuthentication,
	clientSecretBasic,
	clientSecretJwt,
	clientSecretPost,
} from '../../src/protocol/client-authentication.js';
import { refreshTokenGrant } from '../../src/protocol/grants.js';
import { requestToken } from '../../src/session/request-token.js';
import { revokeToken } from '../../src/session/revoke.js';
import { type Handler, sendJson } from '../helpers/http-server.js';
import { useScriptedServer } from '../helpers/scripted-server.js';

// Characters that each encoding writes differently: percent, form (+), JSON (\").
const SECRET = 'S3cret/with+plus&amp "quoted" and spaces-0123456789';
const REFRESH = 'RT-refresh/token+0123456789';
const server = useScriptedServer();

/** Every form of what the request carried that the echo below can quote. */
function echoes(request: IncomingMessage & { body: string }): string[] {
	const form = new URLSearchParams(request.body);
	const authorization = request.headers.authorization ?? '';
	const basic = authorization.replace(/^Basic /, '');
	return [
		request.body,
		authorization,
		basic,
		basic === authorization ? '' : atob(basic),
		JSON.stringify(Object.fromEntries(form)),
		encodeURIComponent(form.get('client_secret') ?? ''),
		form.get('client_assertion') ?? '',
	].filter((text) => text !== '');
}

/** Every form of the secrets, as the assertions look for them. */
const forms = (value: string) => [
	value,
	encodeURIComponent(value),
	new URLSearchParams({ v: value }).toString().slice(2),
	JSON.stringify(value).slice(1, -1),
];
const basicOf = (id: string, secret: string) =>
	btoa(
		`${new URLSearchParams({ v: id }).toString().slice(2)}:${new URLSearchParams({ v: secret }).toString().slice(2)}`,
	);

function expectNothingSent(error: unknown, extra: string[] = []): void {
	expect(error).toBeInstanceOf(Error);
	const e = error as Error & { body?: string; errorDescription?: string };
	const shown = [
		e.message,
		e.errorDescription ?? '',
		e.body ?? '',
		JSON.stringify(e),
		inspect(e, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
		String(e.cause ?? ''),
	].join('\n');
	for (const secret of [...forms(SECRET), ...forms(REFRESH), basicOf('app', SECRET), ...extra]) {
		expect(shown).not.toContain(secret);
	}
}

const echoing =
	(status: number, shape: (echoed: string) => unknown): Handler =>
	(request, response) =>
		sendJson(response, status, shape(echoes(request).join(' | ')));

const auths: [string, ClientAuthentication][] = [
	['client_secret_basic', clientSecretBasic('app', SECRET)],
	['client_secret_post', clientSecretPost('app', SECRET)],
	['client_secret_jwt', clientSecretJwt('app', SECRET)],
];

async function failure(promise: Promise<unknown>): Promise<unknown> {
	return promise.then(
		() => {
			throw new Error('expected a failure');
		},
		(error: unknown) => error,
	);
}

const refresh = (clientAuthentication: ClientAuthentication) =>
	requestToken({
		tokenEndpoint: server.url('/token'),
		grant: refreshTokenGrant({ refreshToken: REFRESH }),
		clientAuthentication,
		retry: false,
	});

describe.each(auths)('with %s, an echoed request', (_, auth) => {
	it('in error_description: redacted in every encoding', async () => {
		let assertion = '';
		server.answer('/token', (request, response) => {
			assertion = new URLSearchParams(request.body).get('client_assertion') ?? '';
			echoing(400, (echoed) => ({ error: 'invalid_client', error_description: echoed }))(
				request,
				response,
			);
		});
		const error = await failure(refresh(auth));
		expectNothingSent(error, assertion === '' ? [] : forms(assertion));
		expect((error as Error).message).toContain('[redacted]');
	});

	it('in an error field that is not a code, and in other fields', async () => {
		server.answer(
			'/token',
			echoing(401, (echoed) => ({ error: { message: echoed, code: 190 }, echo: [echoed] })),
		);
		const error = await failure(refresh(auth));
		expectNothingSent(error);
		// Kept, redacted: what a provider said is what tells a developer what went wrong.
		expect(error).toMatchObject({ status: 401, fields: { error: { code: 190 } } });
		expect((error as TokenResponseError).providerMessage).toContain('[redacted]');
	});

	it('in a body that is not JSON: the kept body is redacted', async () => {
		server.answer('/token', (request, response) => {
			response.writeHead(400, { 'content-type': 'text/html' });
			response.end(`<pre>${echoes(request).join('\n')}</pre>`);
		});
		const error = await failure(refresh(auth));
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).body).toContain('[redacted]');
		expectNothingSent(error);
	});
});

describe('revocation', () => {
	it('an echoed token and Basic credentials are redacted', async () => {
		server.answer(
			'/revoke',
			echoing(400, (echoed) => ({ error: 'invalid_request', error_description: echoed })),
		);
		const error = await failure(
			revokeToken({
				revocationEndpoint: server.url('/revoke'),
				token: REFRESH,
				clientAuthentication: clientSecretBasic('app', SECRET),
				retry: false,
			}),
		);
		expectNothingSent(error);
	});
});

describe('TokenResponseError keeps its body out of sight', () => {
	it('inspect with showHidden shows no token from a broken success body', async () => {
		const token = 'AT-issued-token-0123456789';
		server.answer('/token', (_, response) => {
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(`{"access_token":"${token}",`);
		});
		const error = await failure(refresh(clientSecretPost('app', SECRET)));
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).body).toContain(token);
		expect(inspect(error, { showHidden: true, depth: Number.POSITIVE_INFINITY })).not.toContain(
			token,
		);
		expect(JSON.stringify(error)).not.toContain(token);
	});
});
