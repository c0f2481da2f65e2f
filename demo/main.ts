/**
 * `npm run demo`: a daemon-style client on an embedded default, no account needed.
 *
 * Starts a local authorization server and protected API on 127.0.0.1 (short-lived access tokens,
 * rotating refresh tokens, a reused one refused), then keeps calling the API through one
 * OAuth2Session with bursts of concurrent requests. Prints a timeline and a summary; exits
 * non-zero if any request failed.
 *
 * Options: --seconds N (default 12), --lifetime N (access token lifetime, default 4).
 */
import { parseArgs } from 'node:util';
import { clientCredentialsGrant, OAuth2Session } from '../src/index.js';
import { startOAuthServer } from '../test/helpers/oauth-server.js';

const { values } = parseArgs({
	options: {
		seconds: { type: 'string', default: '12' },
		lifetime: { type: 'string', default: '4' },
	},
});
const seconds = Number(values.seconds);
const lifetime = Number(values.lifetime);

const server = await startOAuthServer({ accessTokenLifetime: lifetime, tokenLatency: 30 });
const session = new OAuth2Session({
	clientId: 'app',
	clientSecret: 's3cret',
	tokenEndpoint: server.tokenEndpoint,
	grant: clientCredentialsGrant(),
	allowedOrigins: [server.origin],
});

let refreshes = 0;
let ok = 0;
let failed = 0;
session.on('tokenUpdated', ({ source }) => {
	refreshes++;
	line(`token ${source === 'refresh' ? 'refreshed' : 'obtained'} (#${refreshes})`);
});
session.on('refreshFailed', ({ error }) => line(`refresh failed: ${error.message}`));

const started = Date.now();
function line(text: string) {
	const token = session.token;
	const age = token?.issuedAt === undefined ? 0 : (Date.now() - token.issuedAt) / 1000;
	const bar = '█'.repeat(Math.min(20, Math.round((age / lifetime) * 20))).padEnd(20, '·');
	const clock = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
	process.stdout.write(
		`${clock}s  token age ${bar}  ok ${String(ok).padStart(4)}  failed ${failed}  ${text}\n`,
	);
}

process.stdout.write(
	`Local authorization server and API on ${server.origin}: ${lifetime}s access tokens, rotating refresh tokens.\n` +
		`Firing 10 concurrent requests every 250 ms for ${seconds}s through one OAuth2Session.\n\n`,
);

let stopping = false;
process.once('SIGINT', () => {
	stopping = true;
});
let tick = 0;
while (!stopping && Date.now() - started < seconds * 1000) {
	const results = await Promise.allSettled(
		Array.from({ length: 10 }, (_, i) => session.fetch(`${server.origin}/api/items/${i}`)),
	);
	for (const result of results) {
		if (result.status === 'fulfilled' && result.value.ok) ok++;
		else failed++;
	}
	tick++;
	if (tick === Math.floor((seconds * 4) / 2)) {
		server.revokeAccessTokens();
		line('the server revoked every access token: the next burst gets 401s');
	} else if (tick % 4 === 0) {
		line('');
	}
	await new Promise((resolve) => setTimeout(resolve, 250));
}

session.close();
await server.close();
process.stdout.write(
	`\nSummary: ${ok} requests succeeded, ${failed} failed; ${server.stats.tokenRequests} token requests ` +
		`(the first token, then one refresh per expiry or revocation, ahead of time: no request waited).\n`,
);
process.exitCode = failed === 0 ? 0 : 1;
