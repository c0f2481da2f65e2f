import { OAuth2Session } from 'oauth2-session';
import { IndexedDBStore } from 'oauth2-session/storage/indexeddb';

// A public client: no secret in a browser. PKCE (S256) protects the code instead.
const session = new OAuth2Session({
	clientId: 'my-spa',
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token',
	redirectUri: `${location.origin}/callback`,
	scope: ['openid', 'offline_access', 'api:read'],
	allowedOrigins: ['https://api.example.com'],
	store: new IndexedDBStore({ encryption: true }), // every tab of the origin shares one token
});

// Sign in: the state and verifier must outlive the redirect, so they wait in sessionStorage.
export async function signIn(): Promise<void> {
	const { url, state, codeVerifier } = await session.authorizationUrl();
	sessionStorage.setItem('oauth', JSON.stringify({ state, codeVerifier }));
	location.assign(url);
}

// Back on /callback?code=...&state=...: check the state, exchange the code with the verifier.
if (location.pathname === '/callback') {
	const pending: { state?: string; codeVerifier?: string } = JSON.parse(
		sessionStorage.getItem('oauth') ?? '{}',
	);
	sessionStorage.removeItem('oauth');
	await session.fetchToken({ authorizationResponse: location.href, ...pending });
	history.replaceState(null, '', '/'); // the code leaves the address bar and the history
}

await session.ready; // the token, if any, is read from IndexedDB
if (session.token === undefined) {
	document.querySelector('#sign-in')?.addEventListener('click', signIn);
} else {
	const me = await (await session.fetch('https://api.example.com/me')).json();
	document.title = `Signed in as ${me.name}`;
}

// Sign out: the token leaves IndexedDB and every tab (revoked too, given a revocationEndpoint).
export const signOut = () => session.logout();
