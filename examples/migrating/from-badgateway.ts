declare const callbackUrl: string;

// #region readme
import { OAuth2Session } from 'oauth2-session';
import { IndexedDBStore } from 'oauth2-session/storage/indexeddb';

const session = new OAuth2Session({
	clientId: 'my-app',
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token',
	redirectUri: 'https://app.example.com/callback',
	scope: ['openid', 'email'],
	allowedOrigins: ['https://api.example.com'], // OAuth2Fetch sends the token to any URL
	store: new IndexedDBStore(), // storeToken and getStoredToken, shared by every tab
});
session.on('sessionEnded', ({ error }) => console.error(error)); // onError

// getAuthorizeUri(): state and PKCE verifier are generated for you; keep them for the callback.
const { url, state, codeVerifier } = await session.authorizationUrl();

// ... the browser comes back to the redirect URI ...
// getTokenFromCodeRedirect(): the state is checked, then code and verifier are sent.
await session.fetchToken({ authorizationResponse: callbackUrl, state, codeVerifier });

const response = await session.fetch('https://api.example.com/me');

// #endregion readme

// #region token
import type { OAuth2Token } from '@badgateway/oauth2-client';
import type { TokenInit } from 'oauth2-session';

// A token OAuth2Fetch's storeToken saved: null counts as absent in both; extraParams is extra.
function fromOAuth2Token(old: OAuth2Token): TokenInit {
	return {
		accessToken: old.accessToken,
		refreshToken: old.refreshToken,
		expiresAt: old.expiresAt, // both in epoch milliseconds
		idToken: old.idToken,
		scope: old.scope,
		extra: old.extraParams,
	};
}
// #endregion token
