/**
 * `npm run demo:spa`: a browser page on 127.0.0.1 that signs in with authorization code + PKCE
 * against the embedded authorization server (5-second access tokens, rotating refresh tokens),
 * keeps the token in IndexedDB, and calls the API. Open it in two tabs: one refresh per expiry,
 * whichever tab gets there first; the other adopts the new token.
 *
 * Sign in with any user name and password. Runs until Ctrl-C, printing what the server saw.
 */
import { startSpaDemo } from './spa-server.js';

const demo = await startSpaDemo({ accessTokenTtl: 5 });
const stats = demo.authServer.stats;
process.stdout.write(
	`Open ${demo.url} in a browser, sign in (any name and password), then open it in a second tab.\n` +
		'Ctrl-C to stop.\n\n',
);
let last = '';
const timer = setInterval(() => {
	const line =
		`server: ${stats.apiRequests} API requests (${stats.api401} refused), ` +
		`${stats.tokenRequests} token requests, ${stats.refreshRequests} of them refreshes`;
	if (line !== last) process.stdout.write(`${line}\n`);
	last = line;
}, 5_000);
process.once('SIGINT', () => {
	clearInterval(timer);
	void demo.close();
});
