// Every endpoint we read has a body size limit, enforced while the body streams in: a server
// sending an endless body gets its stream cancelled, not the process's memory.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, TokenResponseError } from '../../src/errors/index.js';
import { clientCredentialsGrant } from '../../src/protocol/grants.js';
import { startDeviceAuthorization } from '../../src/session/device-flow.js';
import { discover } from '../../src/session/discover.js';
import { introspectToken } from '../../src/session/introspect.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { requestToken } from '../../src/session/request-token.js';
import { revokeToken } from '../../src/session/revoke.js';
import { json, useScriptedServer } from '../helpers/scripted-server.js';

const MiB = 1_048_576;
// Bounded, so a client that never stops reading ends the test instead of the machine.
const SERVER_CAP = 64 * MiB;
const server = useScriptedServer();

/**
 * What an endless answer wrote, and `hungUp`, settled when the client went away: a signal to wait
 * on, where a poll with a deadline fails when a loaded machine is slower than the deadline.
 */
function writes() {
	let hangUp = () => {};
	const hungUp = new Promise<void>((resolve) => (hangUp = resolve));
	return { bytes: 0, closed: false, hungUp, hangUp };
}

/** Streams JSON-looking bytes, chunk after chunk, until the client goes away or the cap. */
function endless(written: ReturnType<typeof writes>) {
	return (_: unknown, response: ServerResponse) => {
		response.writeHead(200, { 'content-type': 'application/json' });
		response.write('{"access_token":"');
		const chunk = Buffer.alloc(64 * 1024, 'a');
		response.on('close', () => {
			written.closed = true;
			written.hangUp();
		});
		const pump = () => {
			while (!written.closed && written.bytes < SERVER_CAP) {
				written.bytes += chunk.length;
				if (!response.write(chunk)) return void response.once('drain', pump);
			}
			response.end();
		};
		pump();
	};
}

async function rejection(promise: Promise<unknown>): Promise<TokenResponseError> {
	const error = await promise.then(
		() => undefined,
		(caught: unknown) => caught,
	);
	expect(error).toBeInstanceOf(TokenResponseError);
	expect((error as TokenResponseError).problem).toBe('too-large');
	return error as TokenResponseError;
}

describe('an endless body', () => {
	it('is cancelled once over the default 1 MiB, and the error names the limit', async () => {
		const written = writes();
		server.answer('/token', endless(written));
		const error = await rejection(
			requestToken({ tokenEndpoint: server.url('/token'), grant: clientCredentialsGrant() }),
		);
		expect(error.message).toContain('1048576 bytes');
		expect(error.message).toContain('maxResponseSize');
		await written.hungUp;
		expect(written.closed).toBe(true);
		// What the socket buffers took before the cancel reached the server; far from the cap.
		expect(written.bytes).toBeLessThan(16 * MiB);
		expect(server.hitsOn('/token')).toHaveLength(1);
	});

	it("is cut at the session's own limit", async () => {
		const written = writes();
		server.answer('/token', endless(written));
		server.answer('/api', json(200, {}));
		const session = new OAuth2Session({
			clientId: 'app',
			tokenEndpoint: server.url('/token'),
			grant: clientCredentialsGrant(),
			baseUrl: server.origin,
			maxResponseSize: 4096,
		});
		const error = await rejection(session.fetch(server.url('/api')));
		expect(error.message).toContain('4096 bytes');
		await written.hungUp;
		expect(written.closed).toBe(true);
		expect(written.bytes).toBeLessThan(16 * MiB);
		expect(server.hitsOn('/api')).toHaveLength(0);
	});
});

describe('a Content-Length over the limit', () => {
	it('is refused before the body is read', async () => {
		let closed = false;
		let hangUp = () => {};
		const hungUp = new Promise<void>((resolve) => (hangUp = resolve));
		server.answer('/token', (_, response) => {
			response.on('close', () => {
				closed = true;
				hangUp();
			});
			// Announces 2 MiB and sends a few bytes: a client that waited for the rest would hang.
			response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 * MiB });
			response.write('{"access_token":"at');
		});
		await rejection(
			requestToken({ tokenEndpoint: server.url('/token'), grant: clientCredentialsGrant() }),
		);
		await hungUp;
		expect(closed).toBe(true);
	});
});

describe('every endpoint we read', () => {
	const big = { error: 'x'.repeat(2000) };
	const limit = { maxResponseSize: 1000, retry: false } as const;

	it.each([
		[
			'token',
			() =>
				requestToken({
					tokenEndpoint: server.url('/e'),
					grant: clientCredentialsGrant(),
					...limit,
				}),
		],
		[
			'revocation',
			() => revokeToken({ revocationEndpoint: server.url('/e'), token: 'rt-1', ...limit }),
		],
		[
			'introspection',
			() => introspectToken({ introspectionEndpoint: server.url('/e'), token: 'at-1', ...limit }),
		],
		[
			'device authorization',
			() =>
				startDeviceAuthorization({
					deviceAuthorizationEndpoint: server.url('/e'),
					...limit,
				}),
		],
		[
			'discovery',
			() =>
				discover(server.origin, { cache: false, wellKnown: ['openid-configuration'], ...limit }),
		],
	])('%s: a body over maxResponseSize is a too-large TokenResponseError', async (_, call) => {
		server.answer('/e', json(200, big));
		server.answer('/.well-known/openid-configuration', json(200, big));
		await rejection(call());
	});

	it('takes a body of exactly the limit', async () => {
		const body = JSON.stringify({ access_token: 'at-123456', pad: '' });
		const padded = JSON.stringify({
			access_token: 'at-123456',
			pad: 'p'.repeat(1000 - body.length),
		});
		server.answer(
			'/e',
			(_, response) =>
				void response.writeHead(200, { 'content-type': 'application/json' }).end(padded),
		);
		const token = await requestToken({
			tokenEndpoint: server.url('/e'),
			grant: clientCredentialsGrant(),
			...limit,
		});
		expect(token.accessToken).toBe('at-123456');
	});

	it.each([0, -1, Number.NaN, '1000'])('refuses maxResponseSize %s', async (value) => {
		await expect(
			requestToken({
				tokenEndpoint: server.url('/e'),
				grant: clientCredentialsGrant(),
				maxResponseSize: value as number,
			}),
		).rejects.toThrow(InvalidOptionsError);
	});
});
