/**
 * `npm run demo`: a daemon-style client against an embedded authorization server, no account needed.
 *
 * 1. Starts an oidc-provider authorization server and a protected API on 127.0.0.1: 5-second access
 *    tokens, rotating refresh tokens (a reused one is refused).
 * 2. Signs in once, as a daemon's first login does: authorization code + PKCE, the user's browser
 *    played by the server's `approve()`. (For a real daemon: `npx oauth2-session login`.)
 * 3. Calls the API through one OAuth2Session, a few requests at a time, with the token kept in a
 *    FileStore in a fresh temporary folder. The session refreshes ahead of expiry by itself.
 *
 * Prints a timeline, stops after --seconds (default 30) or Ctrl-C, prints a summary, and exits
 * non-zero if any request failed. Options: --seconds N, --lifetime N (access token seconds, default 5).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OAuth2Session } from '../src/index.js';
import { FileStore } from '../src/storage/file.js';
import { startAuthServer } from './auth-server.js';
import { ageBar, clock, pause, stopAfter } from './timeline.js';

const { values } = parseArgs({
	options: {
		seconds: { type: 'string', default: '30' },
		lifetime: { type: 'string', default: '5' },
	},
});
const seconds = Number(values.seconds);
const lifetime = Number(values.lifetime);

const server = await startAuthServer({ accessTokenTtl: lifetime });
const dir = await mkdtemp(join(tmpdir(), 'oauth2-session-demo-'));
const store = new FileStore({ dir });
const { clientId, clientSecret } = server.clients.confidential;
const session = new OAuth2Session({
	clientId,
	clientSecret,
	authorizationEndpoint: server.authorizationEndpoint,
	tokenEndpoint: server.tokenEndpoint,
	redirectUri: server.redirectUri,
	scope: ['offline_access', 'api:read'],
	baseUrl: `${server.api}/`,
	store,
});

const started = Date.now();
const counts = { ok: 0, failed: 0, refreshes: 0, slowest: 0 };
function line(event: string): void {
	const { ok, failed } = counts;
	process.stdout.write(
		`${clock(started)}  ${ageBar(session.token)}  ok ${String(ok).padStart(4)}  failed ${failed}  ${event}\n`,
	);
}
session.on('tokenUpdated', ({ source }) => {
	if (source !== 'refresh') return;
	counts.refreshes++;
	line(`↻ refreshed (#${counts.refreshes}): new access token, new refresh token`);
});
session.on('refreshFailed', ({ error }) => line(`refresh failed, retrying: ${error.message}`));

process.stdout.write(
	`Authorization server and API on ${server.origin}: ${lifetime}s access tokens, rotating refresh tokens.\n` +
		`Token store: FileStore in ${dir}\n` +
		`For ${seconds}s (Ctrl-C to stop early): 3 API requests every 250 ms through one OAuth2Session.\n` +
		"The bar is the access token's age: full when it expires.\n\n" +
		`  time  ${'token age'.padEnd(20)}  requests\n`,
);

try {
	// A daemon's first login, once. The "user" approves in the server's login and consent pages.
	const { url } = await session.authorizationUrl();
	const callback = await server.approve(url);
	await session.fetchToken({ authorizationResponse: callback, issuer: server.issuer });
	line('signed in: authorization code + PKCE, token saved in the FileStore');
	const stop = stopAfter(seconds);
	for (let tick = 1; !stop.aborted; tick++) {
		await Promise.all([1, 2, 3].map((n) => callApi(`items/${n}`)));
		if (tick % 4 === 0) line('');
		await pause(250, stop);
	}
} finally {
	session.close();
	await store.close();
	await server.close();
	await rm(dir, { recursive: true, force: true });
}

process.stdout.write(
	`\nSummary: ${counts.ok + counts.failed} requests, ${counts.refreshes} refreshes, ${counts.failed} failures; ` +
		`slowest request ${counts.slowest} ms; ${server.stats.tokenRequests} token requests at the server.\n`,
);
process.exitCode = counts.failed === 0 ? 0 : 1;

async function callApi(path: string): Promise<void> {
	const sent = Date.now();
	try {
		const response = await session.fetch(path);
		await response.body?.cancel();
		if (response.ok) counts.ok++;
		else {
			counts.failed++;
			line(`✗ GET ${path}: HTTP ${response.status}`);
		}
	} catch (error) {
		counts.failed++;
		line(`✗ GET ${path}: ${error instanceof Error ? error.message : String(error)}`);
	}
	counts.slowest = Math.max(counts.slowest, Date.now() - sent);
}
