import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
	InvalidOptionsError,
	ReauthenticationRequiredError,
	TokenResponseError,
} from '../../src/errors/index.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { defineProfile } from '../../src/protocol/profile.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import { startServer, type TestServer } from '../helpers/http-server.js';

// A token endpoint that answers in XML, as some legacy gateways do: neither JSON nor a form. The
// session's decoder reads it, for fetchToken and for every refresh, before the profile's hooks.
let server: TestServer;
let issued = 0;
let answerNext: { status: number; xml: string } | undefined;
const requests: string[] = [];

const xmlToken = (n: number) =>
	`<?xml version="1.0"?><token><access_token>at-${n}</access_token><token_type>Bearer</token_type><expires_in>3600</expires_in><refresh_token>rt-${n}</refresh_token></token>`;

beforeAll(async () => {
	server = await startServer((request, response) => {
		if (request.url === '/token') {
			requests.push(new URLSearchParams(request.body).get('grant_type') ?? '');
			const answer = answerNext ?? { status: 200, xml: xmlToken(++issued) };
			answerNext = undefined;
			response.writeHead(answer.status, { 'content-type': 'application/xml' });
			response.end(answer.xml);
			return;
		}
		const ok = request.headers.authorization === `Bearer at-${issued}`;
		response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
		response.end(JSON.stringify({ ok }));
	});
});
afterEach(() => {
	requests.length = 0;
	answerNext = undefined;
});
afterAll(() => server.close());

/** Each element's text, by tag: `<a>1</a><b>x</b>` -> `{ a: '1', b: 'x' }`. Enough for the test. */
function decodeXml(text: string): Record<string, string> {
	const fields: Record<string, string> = {};
	for (const [, name, value] of text.matchAll(/<(\w+)>([^<]*)<\/\1>/g)) {
		if (name !== undefined && value !== undefined) fields[name] = value;
	}
	if (Object.keys(fields).length === 0) throw new SyntaxError(`no fields in ${text}`);
	return fields;
}

const make = (options: Partial<OAuth2SessionOptions> = {}) =>
	new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: `${server.origin}/token`,
		allowedOrigins: [server.origin],
		grant: clientCredentialsGrant(),
		proactiveRefresh: false,
		retry: false,
		decoder: decodeXml,
		...options,
	});

describe('the decoder option', () => {
	it('reads an XML answer for fetchToken() and for a refresh', async () => {
		const session = make();
		const token = await session.fetchToken();
		expect(token).toMatchObject({ accessToken: `at-${issued}`, refreshToken: `rt-${issued}` });
		await session.setToken({
			access_token: token.accessToken,
			refresh_token: token.refreshToken,
			expires_in: -60,
		});
		expect(await (await session.fetch(`${server.origin}/api`)).json()).toEqual({ ok: true });
		expect(requests).toEqual(['client_credentials', 'refresh_token']);
		expect(session.token?.refreshToken).toBe(`rt-${issued}`);
	});

	it('runs before the profile hooks, which see what it decoded', async () => {
		const seen: unknown[] = [];
		const profile = defineProfile({
			name: 'xml-gateway',
			hooks: { accessTokenResponse: [(answer) => void seen.push(answer.body)] },
		});
		await make({ profile }).fetchToken();
		expect(seen).toEqual([expect.objectContaining({ access_token: `at-${issued}` })]);
	});

	it('reads error answers too: an XML invalid_grant ends the session', async () => {
		const session = make({
			grant: undefined,
			token: { access_token: 'old', refresh_token: 'rt-x', expires_in: -60 },
		});
		answerNext = { status: 400, xml: '<error><error>invalid_grant</error></error>' };
		await expect(session.fetch(`${server.origin}/api`)).rejects.toBeInstanceOf(
			ReauthenticationRequiredError,
		);
		expect(session.token).toBeUndefined();
	});

	it('without it, the same answer is unparseable', async () => {
		const error = await make({ decoder: undefined })
			.fetchToken()
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).problem).toBe('unparseable');
	});

	it('a decoder that throws gives an unparseable TokenResponseError that does not quote the answer', async () => {
		answerNext = { status: 200, xml: '<nothing-here secret="rt-SECRET"/>' };
		const error = await make()
			.fetchToken()
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(TokenResponseError);
		expect((error as TokenResponseError).problem).toBe('unparseable');
		expect((error as Error).message).not.toContain('rt-SECRET');
		expect(String((error as Error).cause)).not.toContain('rt-SECRET');
	});

	it('refuses a decoder that is not a function', () => {
		expect(() => make({ decoder: 'xml' as never })).toThrow(InvalidOptionsError);
	});
});
