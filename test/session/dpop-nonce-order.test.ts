/**
 * A late DPoP nonce must not replace a newer one (RFC 9449 §8.2, §9): answers arrive in any order,
 * and a slow answer to a request signed before the server rotated its nonce brings back the old
 * nonce. The session keeps the newer one, so the requests after it are not refused. Real servers
 * on 127.0.0.1 check every proof (demo/dpop-resource.ts), with a nonce rotated strictly.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DPoPResource } from '../../demo/dpop-resource.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { dpopTestKey } from '../helpers/dpop-session.js';
import { startServer, type TestServer } from '../helpers/http-server.js';

const ACCESS_TOKEN = 'at-dpop-nonce-order';
const BURST = 10;

interface RotatingApi extends TestServer {
	readonly resource: DPoPResource;
	/** Requests refused with `use_dpop_nonce`. */
	readonly challenges: number;
	/**
	 * The next request to `/slow` is answered 200 with the nonce of its arrival, after the server
	 * rotated its nonce, and only once `release()` is called: an answer held back on its way.
	 */
	holdSlow(): { arrived: Promise<void>; release(): void };
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

async function startRotatingApi(): Promise<RotatingApi> {
	const resource = new DPoPResource();
	let slow: { arrive(): void; released: Promise<void> } | undefined;
	const server = await startServer(async (request, response) => {
		const refusal = await resource.check(request, server.origin, ACCESS_TOKEN, jkt);
		const nonce = resource.nonce;
		if (refusal !== undefined) {
			response.writeHead(401, {
				'www-authenticate': `DPoP error="${refusal.error}"`,
				'dpop-nonce': nonce,
			});
			response.end();
			return;
		}
		const held = request.url === '/slow' ? slow : undefined;
		if (held !== undefined) {
			slow = undefined;
			resource.rotateNonce();
			held.arrive();
			await held.released;
		}
		response.writeHead(200, { 'content-type': 'application/json', 'dpop-nonce': nonce });
		response.end('{"ok":true}');
	});
	const api: RotatingApi = {
		...server,
		resource,
		get challenges() {
			return resource.stats.nonceChallenges;
		},
		holdSlow() {
			let arrive = (): void => {};
			let release = (): void => {};
			const arrived = new Promise<void>((resolve) => {
				arrive = resolve;
			});
			const released = new Promise<void>((resolve) => {
				release = resolve;
			});
			slow = { arrive, released };
			return { arrived, release };
		},
	};
	open.push(api);
	return api;
}

function sessionFor(api: RotatingApi): OAuth2Session {
	const session = new OAuth2Session({
		clientId: 'nonce-order-test',
		allowedOrigins: [api.origin],
		token: { accessToken: ACCESS_TOKEN, tokenType: 'DPoP', expiresAt: Date.now() + 3_600_000 },
		dpop: { keyPair },
		proactiveRefresh: false,
	});
	open.push(session);
	return session;
}

const statusOf = async (response: Promise<Response>) => (await response).status;

describe('a slow answer carrying a nonce the server replaced since', () => {
	it('does not put the old nonce back: no request after it is refused', async () => {
		const api = await startRotatingApi();
		const session = sessionFor(api);
		expect(await statusOf(session.fetch(`${api.origin}/warm`))).toBe(200);
		// Answered with the nonce it came with, after the server moved on to the next one.
		const slow = api.holdSlow();
		const held = session.fetch(`${api.origin}/slow`);
		await slow.arrived;
		// Refused with the new nonce and sent again with it: the session knows the new one.
		const challenges = api.challenges;
		expect(await statusOf(session.fetch(`${api.origin}/after-rotation`))).toBe(200);
		expect(api.challenges - challenges).toBe(1);
		slow.release();
		expect(await statusOf(held)).toBe(200);
		const before = api.challenges;
		const statuses = await Promise.all(
			Array.from({ length: BURST }, (_, i) => statusOf(session.fetch(`${api.origin}/next/${i}`))),
		);
		expect(statuses).toEqual(Array(BURST).fill(200));
		expect(api.challenges - before).toBe(0);
		expect(api.resource.stats.refused).toEqual([]);
	});
});
