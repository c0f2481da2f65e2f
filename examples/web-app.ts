import { MemoryStore, OAuth2Session, ReauthenticationRequiredError } from 'oauth2-session';

/** What your web framework keeps on the server per browser (express-session's `req.session`...). */
export interface ServerSession {
	id: string;
	oauth?: { state: string; codeVerifier: string | undefined };
}

// One store for every user's token; a RedisStore when several servers share the users.
const store = new MemoryStore();

// A session per request, on the user's record in the shared store: two requests of one user
// that find the token expired still make one refresh between them (the store's lock).
async function asUser<T>(
	user: ServerSession,
	use: (oauth: OAuth2Session) => Promise<T>,
): Promise<T> {
	const oauth = new OAuth2Session({
		clientId: 'web-app',
		clientSecret: process.env.CLIENT_SECRET,
		authorizationEndpoint: 'https://auth.example.com/authorize',
		tokenEndpoint: 'https://auth.example.com/token',
		redirectUri: 'https://app.example.com/callback',
		scope: ['openid', 'email', 'offline_access'],
		allowedOrigins: ['https://api.example.com'],
		store,
		storeKey: `user-${user.id}`,
		proactiveRefresh: false, // short-lived: refresh when a request needs it
	});
	try {
		return await use(oauth);
	} finally {
		oauth.close(); // stops listening to the store
	}
}

// GET /login: answer with a redirect to the returned URL.
export async function login(user: ServerSession): Promise<string> {
	const { url, state, codeVerifier } = await asUser(user, (oauth) => oauth.authorizationUrl());
	user.oauth = { state, codeVerifier }; // kept on the server until the callback's request
	return url;
}

// GET /callback?code=...&state=...: `callbackUrl` is the full URL the browser came back to.
export async function callback(user: ServerSession, callbackUrl: string): Promise<void> {
	const pending = user.oauth;
	delete user.oauth; // a state is good for one callback
	if (pending === undefined) throw new Error('No sign-in in progress');
	// Checks the state (a forged callback throws StateMismatchError), then sends code and verifier.
	await asUser(user, (oauth) =>
		oauth.fetchToken({ authorizationResponse: callbackUrl, ...pending }),
	);
}

// GET /profile: call the API as this user; `undefined` means "redirect to /login".
export async function profile(user: ServerSession): Promise<unknown> {
	try {
		const response = await asUser(user, (oauth) => oauth.fetch('https://api.example.com/me'));
		return await response.json();
	} catch (error) {
		if (error instanceof ReauthenticationRequiredError) return undefined; // never signed in, or revoked
		throw error;
	}
}
