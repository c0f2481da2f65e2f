// The session's 401 handling on arbitrary WWW-Authenticate headers: at most one refresh and one
// retry, whatever the header says, none when the challenge blames something else than the token,
// and only typed errors that print no secret.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unauthorizedCause } from '../../src/protocol/www-authenticate.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { expectTypedErrorWithout, fuzzTimeout, runs, secret } from './runs.js';

const API = 'https://api.example.com';
const TOKEN_ENDPOINT = 'https://as.example.com/token';

const ERROR_CODES = [
	'invalid_token',
	'insufficient_scope',
	'invalid_request',
	'INSUFFICIENT_SCOPE',
	'insufficient_user_authentication',
];

/** The cause a well-formed challenge of the generator below names. */
function expectedKind(scheme: string, error: string | undefined): string {
	if (!['bearer', 'dpop'].includes(scheme.toLowerCase()) || error === undefined) return 'token';
	const kinds: Record<string, string> = {
		invalid_token: 'token',
		insufficient_scope: 'scope',
		insufficient_user_authentication: 'step-up',
	};
	return kinds[error.toLowerCase()] ?? 'other';
}

/** A challenge as RFC 6750 §3 writes it, with odd spacing, quoting and extra parameters. */
const challenge = fc
	.record({
		scheme: fc.constantFrom('Bearer', 'bearer', 'DPoP', 'Basic', ''),
		error: fc.option(fc.constantFrom(...ERROR_CODES), { nil: undefined }),
		quoted: fc.boolean(),
		space: fc.constantFrom('', ' ', '  ', '\t'),
		others: fc.array(
			fc.tuple(
				fc.constantFrom('realm', 'scope', 'error_uri', 'x'),
				fc.stringMatching(/^[a-z ]{0,10}$/),
			),
			{ maxLength: 3 },
		),
	})
	.map(({ scheme, error, quoted, space, others }) => {
		const params = others.map(([name, v]) => `${name}="${v}"`);
		if (error !== undefined) {
			const v = quoted ? `"${error}"` : error;
			params.splice(others.length > 0 ? 1 : 0, 0, `error${space}=${space}${v}`);
		}
		return { header: `${scheme} ${params.join(', ')}`.trim(), scheme, error };
	});

/** Any string a header may hold (Headers refuses CR, LF and NUL, and code points above 255). */
const headerValue = fc.oneof(
	fc.string({ unit: 'binary-ascii', maxLength: 80 }),
	fc.string({ maxLength: 80 }),
	challenge.map((c) => c.header),
	fc
		.tuple(challenge, fc.string({ maxLength: 20 }), challenge)
		.map(([a, text, b]) => `${a.header}${text}${b.header}`),
);

function unauthorized(header: string | undefined): Response {
	const headers = new Headers();
	if (header !== undefined) {
		try {
			headers.set('www-authenticate', header);
		} catch {
			// Not a value a server can send: the answer comes without the header.
		}
	}
	return new Response('{"error":"invalid_token"}', { status: 401, headers });
}

describe('unauthorizedCause on any header (property)', () => {
	it(
		'never throws, and reads the error code of a well-formed challenge',
		() => {
			fc.assert(
				fc.property(headerValue, (header) => {
					expect(['token', 'step-up', 'scope', 'other']).toContain(
						unauthorizedCause(unauthorized(header).headers.get('www-authenticate'), 'Bearer').kind,
					);
				}),
				runs,
			);
			fc.assert(
				fc.property(challenge, ({ header, scheme, error }) => {
					expect(unauthorizedCause(header, 'Bearer').kind).toBe(expectedKind(scheme, error));
				}),
				runs,
			);
		},
		fuzzTimeout,
	);
});

/** What the token endpoint of the stub answers to a refresh. */
const tokenAnswers = (secrets: {
	clientSecret: string;
	refreshToken: string;
}): (() => Response)[] => [
	() => Response.json({ access_token: 'at-new', token_type: 'Bearer', expires_in: 3600 }),
	() =>
		Response.json(
			{ error: 'invalid_grant', error_description: `${secrets.refreshToken} was used` },
			{ status: 400 },
		),
	() =>
		Response.json(
			{ error: 'invalid_client', error_description: `bad secret ${secrets.clientSecret}` },
			{ status: 401 },
		),
	() => new Response(`<html>${secrets.refreshToken}</html>`, { status: 500 }),
	() => new Response(`{"access_token": "${secrets.refreshToken}`, { status: 200 }),
	() => {
		throw new TypeError(`fetch failed: ${TOKEN_ENDPOINT}`);
	},
];

describe('a session whose API answers 401 with any WWW-Authenticate (property)', () => {
	it(
		'refreshes at most once, retries at most once, and throws only typed errors without secrets',
		async () => {
			const scenario = fc.record({
				clientSecret: secret,
				refreshToken: secret,
				accessToken: secret,
				header: fc.option(headerValue, { nil: undefined }),
				retryHeader: fc.option(headerValue, { nil: undefined }),
				mode: fc.constantFrom('auto', 'raise-updated', 'manual' as const),
				clientAuthentication: fc.constantFrom('client_secret_post', 'client_secret_basic' as const),
				answer: fc.integer({ min: 0, max: 5 }),
			});
			await fc.assert(
				fc.asyncProperty(scenario, async (s) => {
					const answers = tokenAnswers(s);
					let apiCalls = 0;
					let tokenCalls = 0;
					const fetchStub: typeof fetch = async (input) => {
						const url = input instanceof Request ? input.url : String(input);
						if (url === TOKEN_ENDPOINT) {
							tokenCalls++;
							return (answers[s.answer] ?? answers[0])!();
						}
						apiCalls++;
						return unauthorized(apiCalls === 1 ? s.header : s.retryHeader);
					};
					const session = new OAuth2Session({
						clientId: 'app',
						clientSecret: s.clientSecret,
						clientAuthentication: s.clientAuthentication,
						tokenEndpoint: TOKEN_ENDPOINT,
						token: { access_token: s.accessToken, refresh_token: s.refreshToken, expires_in: 3600 },
						allowedOrigins: [API],
						refresh: s.mode,
						fetch: fetchStub,
						retry: false,
						proactiveRefresh: false,
					});
					try {
						const response = await session.fetch(`${API}/me`);
						expect(response.status).toBe(401);
					} catch (error) {
						expectTypedErrorWithout(error, [s.clientSecret, s.refreshToken, s.accessToken]);
					} finally {
						session.close();
					}
					expect(apiCalls).toBeGreaterThanOrEqual(1);
					expect(apiCalls).toBeLessThanOrEqual(2);
					expect(tokenCalls).toBeLessThanOrEqual(1);
					const header = unauthorized(s.header).headers.get('www-authenticate');
					if (unauthorizedCause(header, 'Bearer').kind !== 'token') {
						expect([apiCalls, tokenCalls]).toEqual([1, 0]);
					}
				}),
				runs,
			);
		},
		fuzzTimeout,
	);
});
