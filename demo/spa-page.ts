/**
 * The page of `npm run demo:spa` (bundled for the browser by demo/spa-server.ts): signs in with
 * authorization code + PKCE, keeps the token in IndexedDB, and calls the API every 500 ms. Every
 * tab of the origin shares the token: one tab refreshes, the others adopt the new token.
 */
import { OAuth2Session } from '../src/index.js';
import { IndexedDBStore } from '../src/storage/indexeddb.js';
import type { SpaConfig } from './spa-server.js';

/** What the page has done so far; the headless test reads it as `window.demo`. */
interface PageCounts {
	ok: number;
	failed: number;
	refreshed: number;
	adopted: number;
	signedIn: boolean;
}

declare global {
	interface Window {
		demo: PageCounts;
	}
}

const counts: PageCounts = { ok: 0, failed: 0, refreshed: 0, adopted: 0, signedIn: false };
window.demo = counts;
const log = document.querySelector('#log') as HTMLElement;
const say = (text: string) => {
	log.textContent = `${new Date().toLocaleTimeString()}  ${text}\n${log.textContent}`;
};

const config = (await (await fetch('/config.json')).json()) as SpaConfig;
const session = new OAuth2Session({
	clientId: config.clientId,
	authorizationEndpoint: config.authorizationEndpoint,
	tokenEndpoint: `${location.origin}/token`,
	redirectUri: `${location.origin}/callback`,
	scope: ['offline_access', 'api:read'],
	baseUrl: `${location.origin}/api/`,
	store: new IndexedDBStore({ databaseName: 'oauth2-session-demo' }),
});
session.on('tokenUpdated', ({ source }) => {
	if (source === 'refresh') {
		counts.refreshed++;
		say('↻ this tab refreshed the token');
	} else if (source === 'store') {
		counts.adopted++;
		say('↻ adopted the token another tab refreshed');
	}
});

if (location.pathname === '/callback') {
	// Back from the authorization server: check state, exchange the code (PKCE verifier kept here).
	const pending = JSON.parse(sessionStorage.getItem('oauth') ?? '{}');
	sessionStorage.removeItem('oauth');
	await session.fetchToken({
		authorizationResponse: location.href,
		...pending,
		issuer: config.issuer,
	});
	history.replaceState(null, '', '/');
	say('signed in: authorization code + PKCE; token saved in IndexedDB');
}

await session.ready;
const button = document.querySelector('#sign-in') as HTMLButtonElement;
if (session.token === undefined) {
	button.hidden = false;
	button.onclick = async () => {
		const { url, state, codeVerifier } = await session.authorizationUrl();
		sessionStorage.setItem('oauth', JSON.stringify({ state, codeVerifier }));
		location.assign(url);
	};
} else {
	counts.signedIn = true;
	say('calling the API every 500 ms; open this page in another tab too');
	setInterval(async () => {
		try {
			const response = await session.fetch('items');
			if (response.ok) counts.ok++;
			else {
				counts.failed++;
				say(`✗ HTTP ${response.status}`);
			}
		} catch (error) {
			counts.failed++;
			say(`✗ ${error instanceof Error ? error.message : String(error)}`);
		}
		const status = document.querySelector('#status') as HTMLElement;
		status.textContent = `requests ok ${counts.ok}, failed ${counts.failed}; this tab refreshed ${counts.refreshed}, adopted ${counts.adopted}`;
	}, 500);
}
