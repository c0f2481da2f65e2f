/**
 * DPoP nonces of resource servers under bursts (RFC 9449 §8, §9): a burst to an origin whose nonce
 * is not known yet sends its first request alone and the others with the nonce it brought back,
 * so a server that requires nonces sees N + 1 requests for N, not 2N. Real servers on 127.0.0.1
 * check every proof (demo/dpop-resource.ts) and count what they saw.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DPoPRefusal, DPoPResource } from '../../demo/dpop-resource.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { dpopTestKey } from '../helpers/dpop-session.js';
import { startServer, type TestServer } from '../helpers/http-server.js';

const ACCESS_TOKEN = 'at-dpop-nonce-test';
const BURST = 50;

/** What a gate tells the server to do with a request once it opens: answer it, or cut it. */
type GateOutcome = 'answer' | 'drop';

interface NonceApi extends TestServer {
	readonly resource: DPoPResource;
	/** Requests seen, refused ones included. */
	readonly requests: number;
	/** Requests refused with 401 `use_dpop_nonce`. */
	readonly challenges: number;
	/** Holds the answer to the request with this 1-based index until the promise settles. */
	gate: ((index: number) => Promise<GateOutcome> | undefined) | undefined;
	/** Resolves once `count` requests have arrived. */
	arrived(count: number): Promise<void>;
}

let keyPair: CryptoKeyPair;
let jkt: string;
const open: Array<{ close(): unknown }> = [];

beforeAll(async () => {
	({ keyPair, jkt } = await dpopTestKey());
});
afterEach(async () => {
	await Promise.all(open.splice(0).map((item) => item.close()));
});

/** An API that checks each proof for the test's token and key, and sends its nonce on each answer. */
async function startApi(options: { requiresNonce?: boolean } = {}): Promise<NonceApi> {
	const resource = new DPoPResource(options);
	const requiresNonce = options.requiresNonce ?? true;
	let requests = 0;
	const waiting: Array<{ count: number; resolve: () => void }> = [];
	const answer = async (response: ServerResponse, refusal: DPoPRefusal | undefined) => {
		const nonce: Record<string, string> = requiresNonce ? { 'dpop-nonce': resource.nonce } : {};
		if (refusal === undefined) {
			response.writeHead(200, { 'content-type': 'application/json', ...nonce });
			response.end('{"ok":true}');
			return;
		}
		response.writeHead(401, {
			'www-authenticate': `DPoP error="${refusal.error}", algs="ES256"`,
			...nonce,
		});
		response.end();
	};
	const server = await startServer(async (request, response) => {
		const index = ++requests;
		for (const waiter of waiting.filter((w) => w.count <= requests)) {
			waiting.splice(waiting.indexOf(waiter), 1);
			waiter.resolve();
		}
		const held = api.gate?.(index);
		if (held !== undefined && (await held) === 'drop') {
			request.socket.destroy();
			return;
		}
		const token = /^DPoP (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
		await answer(
			response,
			token === ACCESS_TOKEN
				? await resource.check(request, server.origin, token, jkt)
				: { error: 'invalid_token', description: 'unknown token' },
		);
	});
	const api: NonceApi = {
		origin: server.origin,
		server: server.server,
		close: server.close,
		resource,
		gate: undefined,
		get requests() {
			return requests;
		},
		get challenges() {
			return resource.stats.nonceChallenges;
		},
		arrived: (count: number) =>
			count <= requests
				? Promise.resolve()
				: new Promise<void>((resolve) => waiting.push({ count, resolve })),
	};
	open.push(api);
	return api;
}

/** A session holding a DPoP token bound to the test's key, allowed to call `apis`. */
function sessionFor(...apis: NonceApi[]): OAuth2Session {
	const session = new OAuth2Session({
		clientId: 'nonce-test',
		allowedOrigins: apis.map((api) => api.origin),
		token: { accessToken: ACCESS_TOKEN, tokenType: 'DPoP', expiresAt: Date.now() + 3_600_000 },
		dpop: { keyPair },
		proactiveRefresh: false,
	});
	open.push(session);
	return session;
}

/** Fires `count` requests at once; resolves with their statuses. */
function burst(session: OAuth2Session, api: NonceApi, count = BURST, tag = 'b'): Promise<number[]> {
	return Promise.all(
		Array.from({ length: count }, (_, i) =>
			session.fetch(`${api.origin}/${tag}/${i}`).then((response) => response.status),
		),
	);
}

/** A gate that holds the first request until `open()`, and lets the others through. */
function holdFirst(api: NonceApi, outcome: GateOutcome = 'answer'): { open(): void } {
	let open = (): void => {};
	const first = new Promise<GateOutcome>((resolve) => {
		open = () => resolve(outcome);
	});
	api.gate = (index) => (index === 1 ? first : undefined);
	return { open };
}

describe('a burst to an origin whose nonce is not known yet', () => {
	it('sends its first request alone: 50 requests cost 51, one refused', async () => {
		const api = await startApi();
		const session = sessionFor(api);
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.challenges).toBe(1);
		expect(api.requests).toBe(BURST + 1);
		expect(api.resource.stats.refused).toEqual([]);
		// Steady state: the nonce is known, each request goes once.
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.requests).toBe(2 * BURST + 1);
	});

	it('a server that never asks for a nonce: exactly 50, and later bursts are not held', async () => {
		const api = await startApi({ requiresNonce: false });
		const session = sessionFor(api);
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.requests).toBe(BURST);
		// The origin answered without asking: no request waits for another. The server answers
		// none before it holds all 50, which it never would if any waited for another's answer.
		const all = api.arrived(2 * BURST).then((): GateOutcome => 'answer');
		api.gate = () => all;
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.requests).toBe(2 * BURST);
		expect(api.challenges).toBe(0);
	});

	it('holding one origin never holds another', async () => {
		const [slow, fast] = await Promise.all([startApi(), startApi()]);
		const session = sessionFor(slow, fast);
		const gate = holdFirst(slow);
		const started = performance.now();
		const held = burst(session, slow);
		await slow.arrived(1);
		expect(await burst(session, fast)).toEqual(Array(BURST).fill(200));
		expect(fast.requests).toBe(BURST + 1);
		// While the first is unanswered, the others to its origin are not sent (for a second at
		// most: past that they go, which a loaded machine may take to get here).
		if (performance.now() - started < 900) expect(slow.requests).toBe(1);
		gate.open();
		expect(await held).toEqual(Array(BURST).fill(200));
		expect(slow.requests).toBe(BURST + 1);
	});
});

describe('the held requests go on whatever becomes of the first', () => {
	it('a first request left unanswered (a long poll): the others go after a second at most', async () => {
		const api = await startApi({ requiresNonce: false });
		const session = sessionFor(api);
		// The first is answered only once all 50 have arrived: waiting for it would never end.
		const all = api.arrived(BURST).then((): GateOutcome => 'answer');
		api.gate = (index) => (index === 1 ? all : undefined);
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.requests).toBe(BURST);
	});

	const firstFails = async (
		fail: 'network' | 'abort' | 'timeout',
	): Promise<{ api: NonceApi; first: unknown; statuses: number[] }> => {
		const api = await startApi();
		const session = sessionFor(api);
		const controller = new AbortController();
		const gate = holdFirst(api, fail === 'network' ? 'drop' : 'answer');
		const first = session
			.fetch(`${api.origin}/first`, { signal: controller.signal })
			.catch((error: unknown) => error);
		await api.arrived(1);
		// The timeout's clock starts once the first request is in: started with it, 100 ms could run
		// out on a loaded machine before it was sent, and nothing would ever arrive.
		if (fail === 'timeout') {
			const timeout = AbortSignal.timeout(100);
			timeout.addEventListener('abort', () => controller.abort(timeout.reason), { once: true });
		}
		const others = burst(session, api, BURST - 1);
		if (fail === 'network') gate.open();
		if (fail === 'abort') controller.abort();
		const statuses = await others;
		gate.open();
		return { api, first: await first, statuses };
	};

	it('a network error: they go on with no nonce, each retried once', async () => {
		const { api, first, statuses } = await firstFails('network');
		expect(first).toBeInstanceOf(TypeError);
		expect(statuses).toEqual(Array(BURST - 1).fill(200));
		// No nonce came back: each of the others is refused once and sent again with the nonce.
		expect(api.requests).toBe(1 + 2 * (BURST - 1));
	});

	it('an abort or a timeout of the first: they go on', async () => {
		for (const fail of ['abort', 'timeout'] as const) {
			const { first, statuses } = await firstFails(fail);
			expect((first as Error).name).toBe(fail === 'abort' ? 'AbortError' : 'TimeoutError');
			expect(statuses).toEqual(Array(BURST - 1).fill(200));
		}
	});

	it('a held request aborted ends at once with the abort reason, unsent', async () => {
		const other = await startApi();
		const toOther = sessionFor(other);
		// The held request goes anyway a second after the first was sent: a run whose abort came
		// later than that (a loaded machine) shows nothing, and is run again rather than judged.
		for (let run = 1; ; run++) {
			const api = await startApi();
			const session = sessionFor(api);
			const gate = holdFirst(api);
			const started = performance.now();
			const first = session.fetch(`${api.origin}/first`);
			await api.arrived(1);
			const controller = new AbortController();
			const held = session.fetch(`${api.origin}/held`, { signal: controller.signal });
			// A whole burst to another origin gives the held request every chance to be sent.
			expect(await burst(toOther, other, 10)).toEqual(Array(10).fill(200));
			const reason = new Error('given up');
			const inTime = performance.now() - started < 900;
			controller.abort(reason);
			if (!inTime && run < 5) {
				gate.open();
				await Promise.allSettled([first, held]);
				continue;
			}
			await expect(held).rejects.toBe(reason);
			expect(api.requests).toBe(1);
			gate.open();
			expect((await first).status).toBe(200);
			expect(api.requests).toBe(2);
			return;
		}
	});
});

describe('a nonce the server replaces', () => {
	it('rotated while 50 are in flight: each is sent once more, no more', async () => {
		const api = await startApi();
		const session = sessionFor(api);
		expect((await session.fetch(`${api.origin}/warm`)).status).toBe(200);
		const before = api.requests;
		// All 50 reach the server with the old nonce before it rotates and answers any.
		const all = api.arrived(before + BURST).then((): GateOutcome => {
			api.resource.rotateNonce();
			api.gate = undefined;
			return 'answer';
		});
		api.gate = () => all;
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.requests - before).toBe(2 * BURST);
		// Requests signed after the refusals carry the new nonce: sent once.
		expect(await burst(session, api)).toEqual(Array(BURST).fill(200));
		expect(api.requests - before).toBe(3 * BURST);
	});

	it('announced on successful answers (RFC 9449 §8.2): the session takes it, nothing is refused', async () => {
		const api = await startApi();
		const session = sessionFor(api);
		expect((await session.fetch(`${api.origin}/warm`)).status).toBe(200);
		const challenges = api.challenges;
		for (let round = 0; round < 5; round++) {
			// The answers of this round announce the next nonce; the old one is still accepted.
			api.resource.rotateNonce({ keepPrevious: true });
			expect(await burst(session, api, 10, `r${round}`)).toEqual(Array(10).fill(200));
		}
		expect(api.challenges).toBe(challenges);
		expect(api.resource.stats.refused).toEqual([]);
	});
});
