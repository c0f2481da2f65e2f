import { MemoryStore, OAuth2Client, ReauthenticationRequiredError } from 'oauth2-session';

/** What your web framework keeps on the server per browser (express-session's `req.session`...). */
export interface ServerSession {
	id: string;
	oauth?: { state: string; codeVerifier: string | undefined };
}

// One client for the whole server: its options are worked out once, not per request. Its store
// holds every user's token; a PostgresStore or RedisStore when several servers share the users.
const client = new OAuth2Client({
	clientId: 'web-app',
	clientSecret: process.env.CLIENT_SECRET,
	authorizationEndpoint: 'https://auth.example.com/authorize',
	tokenEndpoint: 'https://auth.example.com/token',
	redirectUri: 'https://app.example.com/callback',
	scope: ['openid', 'email', 'offline_access'],
	allowedOrigins: ['https://api.example.com'],
	store: new MemoryStore(),
});

// The user's session: kept in memory while the user is active, read from the store after. Two
// requests of one user that find the token expired make one refresh (the store's lock).
const sessionOf = (user: ServerSession) => client.session(`user-${user.id}`);

// GET /login: answer with a redirect to the returned URL.
export async function login(user: ServerSession): Promise<string> {
	const { url, state, codeVerifier } = await sessionOf(user).authorizationUrl();
	user.oauth = { state, codeVerifier }; // kept on the server until the callback's request
	return url;
}

// GET /callback?code=...&state=...: `callbackUrl` is the full URL the browser came back to.
export async function callback(user: ServerSession, callbackUrl: string): Promise<void> {
	const pending = user.oauth;
	delete user.oauth; // a state is good for one callback
	if (pending === undefined) throw new Error('No sign-in in progress');
	// Checks the state (a forged callback throws StateMismatchError), then sends code and verifier.
	await sessionOf(user).fetchToken({ authorizationResponse: callbackUrl, ...pending });
}

// GET /profile: call the API as this user; `undefined` means "redirect to /login".
export async function profile(user: ServerSession): Promise<unknown> {
	try {
		const response = await sessionOf(user).fetch('https://api.example.com/me');
		return await response.json();
	} catch (error) {
		if (error instanceof ReauthenticationRequiredError) return undefined; // never signed in, or revoked
		throw error;
	}
}
