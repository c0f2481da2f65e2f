import { OAuth2Session } from 'oauth2-session';
import { IndexedDBStore } from 'oauth2-session/storage/indexeddb';

// Every tab shares the record: the token and a non-extractable key pair (IndexedDB keeps the
// CryptoKey itself, so no script can read the private key out, not even this one).
const session = new OAuth2Session({
	clientId: 'my-spa',
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token',
	// PAR (RFC 9126): the sign-in's parameters are pushed with a proof and dpop_jkt, which binds the
	// code to the key before the browser ever carries it.
	pushedAuthorizationRequestEndpoint: 'https://auth.example.com/par',
	redirectUri: `${location.origin}/callback`,
	scope: ['openid', 'offline_access', 'api:read'],
	allowedOrigins: ['https://api.example.com'],
	store: new IndexedDBStore(),
	dpop: true,
});

// The key is made here and stored in IndexedDB before the push and before the user leaves: the
// callback page, a new session instance, reads it and signs the code exchange with it.
export async function signIn(): Promise<void> {
	const { url, state, codeVerifier } = await session.authorizationUrl();
	sessionStorage.setItem('oauth', JSON.stringify({ state, codeVerifier }));
	location.assign(url);
}

// The code exchange carries the first proof: the token and its refresh token are bound to the key.
if (location.pathname === '/callback') {
	const pending: { state?: string; codeVerifier?: string } = JSON.parse(
		sessionStorage.getItem('oauth') ?? '{}',
	);
	sessionStorage.removeItem('oauth');
	await session.fetchToken({ authorizationResponse: location.href, ...pending });
	history.replaceState(null, '', '/');
}

// Authorization: DPoP <token> and a fresh proof on each request; refreshes are signed too.
export const me = () => session.fetch('https://api.example.com/me');
