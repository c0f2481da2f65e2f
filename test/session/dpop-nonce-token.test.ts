/**
 * DPoP nonces of a token endpoint under bursts (RFC 9449 §8): concurrent token requests to an
 * endpoint whose nonce is not known yet send the first alone and the others with the nonce it
 * brought, so an endpoint that requires nonces sees N + 1 requests for N, not 2N. The held
 * requests go on at once when the first fails, and a held request's abort ends it at once.
 * A real token endpoint on 127.0.0.1 checks every proof and counts what it saw.
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startAuthServer } from '../../demo/auth-server.js';
import { DPoPResource } from '../../demo/dpop-resource.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { DPoPBinding } from '../../src/session/dpop.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { requestToken } from '../../src/session/request-token.js';
import { MemoryStore } from '../../src/storage/memory.js';
import type { TokenStore } from '../../src/storage/token-store.js';
import { DPOP_REDIRECT_URI, dpopSession, signIn } from '../helpers/dpop-session.js';
import { sendJson, startServer, type TestServer } from '../helpers/http-server.js';

const BURST = 10;

interface NonceTokenEndpoint extends TestServer {
	readonly tokenEndpoint: string;
	/** Token requests seen, refused ones included. */
	readonly requests: number;
	/** Requests refused with 400 `use_dpop_nonce`. */
	readonly challenges: number;
	/** Proofs refused for anything else: must stay empty. */
	readonly refused: string[];
	/** The key thumbprint each access token issued is bound to. */
	readonly bound: Map<string, string>;
	/** Holds the answer to the first request until `open()`: then answers it, or cuts it. */
	holdFirst(outcome: 'answer' | 'drop'): { arrived: Promise<void>; open(): void };
	/**
	 * The next request with a good proof gets a token with the nonce of its arrival, but only once
	 * `open()` is called, and the server issues a new nonce meanwhile (the old one is refused).
	 */
	holdNextAnswer(): { arrived: Promise<void>; open(): void };
}

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
	await Promise.all(open.splice(0).map((item) => item.close()));
});

/** A token endpoint that requires its nonce in every proof and binds the tokens to the proof's key. */
async function startTokenEndpoint(): Promise<NonceTokenEndpoint> {
	let nonce = randomBytes(16).toString('base64url');
	let slow: { arrive(): void; opened: Promise<unknown> } | undefined;
	const seen = new Set<string>();
	const refused: string[] = [];
	const bound = new Map<string, string>();
	let requests = 0;
	let challenges = 0;
	let first: { arrive(): void; opened: Promise<'answer' | 'drop'> } | undefined;
	const server = await startServer(async (request, response) => {
		requests++;
		const held = requests === 1 ? first : undefined;
		if (held !== undefined) {
			held.arrive();
			if ((await held.opened) === 'drop') {
				request.socket.destroy();
				return;
			}
		}
		let thumbprint: string;
		let payload: Record<string, unknown>;
		try {
			const verified = await jwtVerify(String(request.headers.dpop), EmbeddedJWK, {
				typ: 'dpop+jwt',
			});
			payload = verified.payload;
			thumbprint = await calculateJwkThumbprint(
				verified.protectedHeader.jwk as Parameters<typeof calculateJwkThumbprint>[0],
			);
		} catch {
			refused.push('bad proof');
			sendJson(response, 400, { error: 'invalid_dpop_proof' });
			return;
		}
		const problem =
			payload.htm !== 'POST'
				? 'htm'
				: payload.htu !== `${server.origin}/token`
					? 'htu'
					: seen.has(String(payload.jti))
						? 'jti replayed'
						: undefined;
		if (problem !== undefined) {
			refused.push(problem);
			sendJson(response, 400, { error: 'invalid_dpop_proof' });
			return;
		}
		seen.add(String(payload.jti));
		if (payload.nonce !== nonce) {
			challenges++;
			sendJson(response, 400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': nonce });
			return;
		}
		const accessToken = `at-${randomBytes(8).toString('hex')}`;
		bound.set(accessToken, thumbprint);
		const answered = nonce;
		const late = slow;
		if (late !== undefined) {
			slow = undefined;
			nonce = randomBytes(16).toString('base64url');
			late.arrive();
			await late.opened;
		}
		sendJson(
			response,
			200,
			{ access_token: accessToken, token_type: 'DPoP', expires_in: 3600, refresh_token: 'rt' },
			{ 'dpop-nonce': answered },
		);
	});
	const endpoint: NonceTokenEndpoint = {
		...server,
		tokenEndpoint: `${server.origin}/token`,
		get requests() {
			return requests;
		},
		get challenges() {
			return challenges;
		},
		refused,
		bound,
		holdFirst(outcome) {
			const [arrived, arrive] = resolvable<void>();
			const [opened, openIt] = resolvable<'answer' | 'drop'>();
			first = { arrive: () => arrive(), opened };
			return { arrived, open: () => openIt(outcome) };
		},
		holdNextAnswer() {
			const [arrived, arrive] = resolvable<void>();
			const [opened, openIt] = resolvable<void>();
			slow = { arrive: () => arrive(), opened };
			return { arrived, open: () => openIt() };
		},
	};
	open.push(endpoint);
	return endpoint;
}

/** A promise, and the function that resolves it. */
function resolvable<T>(): [Promise<T>, (value: T) => void] {
	let resolve: (value: T) => void = () => {};
	const promise = new Promise<T>((done) => {
		resolve = done;
	});
	return [promise, resolve];
}

/** One DPoP context's token requests, as a session makes them. */
function tokenRequests(endpoint: NonceTokenEndpoint) {
	const binding = new DPoPBinding({
		keyPair: undefined,
		allowBearer: false,
		keepsCryptoKeys: true,
	});
	return async (signal?: AbortSignal) => {
		const { proofs, issued } = await binding.tokenRequest(undefined);
		return issued(
			await requestToken({
				tokenEndpoint: endpoint.tokenEndpoint,
				grant: clientCredentialsGrant(),
				params: { client_id: 'nonce-token-test' },
				dpop: proofs,
				retry: false,
				signal,
			}),
		);
	};
}

describe('token requests fired at once to an endpoint whose nonce is not known yet', () => {
	it('the first goes alone: 10 cost 11, one refused; then each goes once', async () => {
		const endpoint = await startTokenEndpoint();
		const request = tokenRequests(endpoint);
		const tokens = await Promise.all(Array.from({ length: BURST }, () => request()));
		expect(tokens.every((token) => token.tokenType === 'DPoP')).toBe(true);
		expect(endpoint).toMatchObject({ requests: BURST + 1, challenges: 1, refused: [] });
		await Promise.all(Array.from({ length: BURST }, () => request()));
		expect(endpoint.requests).toBe(2 * BURST + 1);
	});

	it('the first cut off (a network error): the others go on at once, each refused once', async () => {
		const endpoint = await startTokenEndpoint();
		const request = tokenRequests(endpoint);
		const gate = endpoint.holdFirst('drop');
		const first = request().catch((error: unknown) => error);
		await gate.arrived;
		const others = Promise.all(Array.from({ length: BURST - 1 }, () => request()));
		gate.open();
		expect((await first) as Error).toMatchObject({ name: 'TokenRequestError' });
		expect(await others).toHaveLength(BURST - 1);
		// No nonce came back with the first: each of the others pays its own refusal.
		expect(endpoint.requests).toBe(1 + 2 * (BURST - 1));
	});

	it('the first aborted: the others go on', async () => {
		const endpoint = await startTokenEndpoint();
		const request = tokenRequests(endpoint);
		const gate = endpoint.holdFirst('answer');
		const controller = new AbortController();
		const first = request(controller.signal).catch((error: unknown) => error);
		await gate.arrived;
		const others = Promise.all(Array.from({ length: BURST - 1 }, () => request()));
		controller.abort();
		expect(((await first) as Error).name).toBe('AbortError');
		expect(await others).toHaveLength(BURST - 1);
		gate.open();
	});

	it('a held request aborted ends at once with the abort reason, unsent', async () => {
		const endpoint = await startTokenEndpoint();
		const request = tokenRequests(endpoint);
		const gate = endpoint.holdFirst('answer');
		const first = request();
		await gate.arrived;
		const controller = new AbortController();
		const held = request(controller.signal);
		// A burst to another endpoint gives the held request every chance to be sent.
		const other = await startTokenEndpoint();
		await Promise.all(Array.from({ length: BURST }, tokenRequests(other)));
		const reason = new Error('given up');
		controller.abort(reason);
		await expect(held).rejects.toBe(reason);
		expect(endpoint.requests).toBe(1);
		gate.open();
		expect((await first).tokenType).toBe('DPoP');
		// The first was refused for its missing nonce, and sent again with it.
		expect(endpoint.requests).toBe(2);
	});
});

describe('a late answer carrying a nonce the token endpoint replaced since', () => {
	it('does not put the old nonce back: no token request after it is refused', async () => {
		const endpoint = await startTokenEndpoint();
		const request = tokenRequests(endpoint);
		await request();
		const slow = endpoint.holdNextAnswer();
		const held = request();
		await slow.arrived;
		// Refused with the new nonce and sent again with it.
		await request();
		expect(endpoint.challenges).toBe(2);
		slow.open();
		expect((await held).tokenType).toBe('DPoP');
		await Promise.all(Array.from({ length: BURST }, () => request()));
		expect(endpoint.challenges).toBe(2);
		expect(endpoint.refused).toEqual([]);
	});
});

describe('a fresh session whose APIs tokens are all due', () => {
	it(`${BURST} requests to ${BURST} APIs at once, a store without a lock: ${BURST} refreshes cost ${BURST + 1} token requests`, async () => {
		const endpoint = await startTokenEndpoint();
		const apis = await Promise.all(
			Array.from({ length: BURST }, async () => {
				const resource = new DPoPResource({ requiresNonce: false });
				const api = await startServer(async (request, response) => {
					const token = /^DPoP (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
					const refusal = await resource.check(
						request,
						api.origin,
						token,
						endpoint.bound.get(token),
					);
					sendJson(response, refusal === undefined ? 200 : 401, {});
				});
				open.push(api);
				return Object.assign(api, { resource });
			}),
		);
		// Its refreshes are not taken one at a time under a lock: they run at once.
		const memory = new MemoryStore();
		const store: TokenStore = {
			get: (key) => memory.get(key),
			set: (key, record) => memory.set(key, record),
			delete: (key) => memory.delete(key),
		};
		const session = new OAuth2Session({
			clientId: 'nonce-token-test',
			tokenEndpoint: endpoint.tokenEndpoint,
			grant: clientCredentialsGrant(),
			resources: Object.fromEntries(apis.map((api) => [api.origin, {}])),
			store,
			proactiveRefresh: false,
			dpop: true,
		});
		open.push(session);
		const statuses = await Promise.all(
			apis.map(async (api) => (await session.fetch(`${api.origin}/me`)).status),
		);
		expect(statuses).toEqual(Array(BURST).fill(200));
		expect(endpoint).toMatchObject({ requests: BURST + 1, challenges: 1, refused: [] });
		for (const api of apis) expect(api.resource.stats.refused).toEqual([]);
	});
});

describe('a token endpoint and an API on one origin, each with nonces of its own', () => {
	it("the API's nonce does not replace the token endpoint's: a refresh after API calls is sent once", async () => {
		const server = await startAuthServer({ redirectUri: DPOP_REDIRECT_URI, dpop: true });
		open.push(server);
		const session = dpopSession(server);
		open.push(session);
		await signIn(session, server);
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		const before = server.stats.tokenRequests;
		await session.refreshToken();
		expect(server.stats.tokenRequests - before).toBe(1);
		// And the API's nonce is still the one its requests carry.
		const challenges = server.stats.dpop?.nonceChallenges;
		expect((await session.fetch(`${server.api}/me`)).status).toBe(200);
		expect(server.stats.dpop?.nonceChallenges).toBe(challenges);
	});
});
