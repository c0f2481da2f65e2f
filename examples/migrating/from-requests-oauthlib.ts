declare const callbackUrl: string; // the URL the browser came back to

// #region readme
import { readFile, writeFile } from 'node:fs/promises';
import { defineProfile, OAuth2Session, type Token, tokenToRecord } from 'oauth2-session';

// A token dict a Python daemon saved ({ access_token, refresh_token, expires_at, ... }) loads as is.
const saved = JSON.parse(await readFile('token.json', 'utf8'));
const tokenSaver = (token: Token) => writeFile('token.json', JSON.stringify(tokenToRecord(token)));

// The compliance hook of a provider that wraps its token answer in { data: ... }.
const unwrapData = defineProfile({
	name: 'wrapped-answers',
	hooks: {
		accessTokenResponse: [
			(response) => ({ ...response, body: (response.body as { data: unknown }).data }),
		],
	},
});

const oauth = new OAuth2Session({
	clientId: 'my-app',
	clientSecret: process.env.CLIENT_SECRET, // sent with every token request: no auto_refresh_kwargs
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token', // auto_refresh_url
	redirectUri: 'https://app.example.com/callback',
	scope: ['openid', 'email'],
	token: saved,
	allowedOrigins: ['https://api.example.com'], // requests-oauthlib sends the token anywhere
	onTokenUpdated: tokenSaver, // token_updater
	profile: unwrapData,
});

// authorization_url(): PKCE S256 is on by default; keep state and verifier for the callback.
const { url, state, codeVerifier } = await oauth.authorizationUrl({
	params: { prompt: 'consent' },
});

// ... the browser comes back to the redirect URI ...
// fetch_token(authorization_response=...): the state is checked, then code and verifier are sent.
await oauth.fetchToken({ authorizationResponse: callbackUrl, state, codeVerifier });

// oauth.get(...): fetch's signature, refreshed before expiry and once after a 401.
const response = await oauth.fetch('https://api.example.com/me');
// #endregion readme
