// The @badgateway/oauth2-client side of docs/migrating.md, type-checked against its own types.
import {
	generateCodeVerifier,
	OAuth2Client,
	OAuth2Fetch,
	type OAuth2Token,
} from '@badgateway/oauth2-client';

declare const callbackUrl: string;
declare function loadToken(): Promise<OAuth2Token | null>;
declare function saveToken(token: OAuth2Token): void;

// #region readme
const client = new OAuth2Client({
	server: 'https://auth.example.com/',
	clientId: 'my-app',
	authorizationEndpoint: '/authorize',
	tokenEndpoint: '/token',
});

const state = crypto.randomUUID();
const codeVerifier = await generateCodeVerifier();
const url = await client.authorizationCode.getAuthorizeUri({
	redirectUri: 'https://app.example.com/callback',
	state,
	codeVerifier,
	scope: ['openid', 'email'],
});

// ... the browser comes back to the redirect URI ...
saveToken(
	await client.authorizationCode.getTokenFromCodeRedirect(callbackUrl, {
		redirectUri: 'https://app.example.com/callback',
		state,
		codeVerifier,
	}),
);

const oauth2 = new OAuth2Fetch({
	client,
	getNewToken: () => null, // a new login needs the user
	storeToken: (token) => saveToken(token),
	getStoredToken: () => loadToken(),
	onError: (error) => console.error(error),
});

const response = await oauth2.fetch('https://api.example.com/me');
// #endregion readme
