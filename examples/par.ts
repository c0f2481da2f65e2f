import { type AuthorizationRequest, discover, OAuth2Session } from 'oauth2-session';

// The metadata names pushed_authorization_request_endpoint, so the session pushes every sign-in;
// with require_pushed_authorization_requests it must, and a session that cannot throws.
const metadata = await discover('https://auth.example.com');
const session = new OAuth2Session({
	clientId: 'web-app',
	clientSecret: process.env.CLIENT_SECRET,
	metadata,
	redirectUri: 'https://app.example.com/callback',
	scope: ['openid', 'offline_access'],
	allowedOrigins: ['https://api.example.com'],
});

// GET /login: one POST to the push endpoint (client_secret_basic, PKCE S256, a fresh state), then
// a URL with only client_id and request_uri. Keep state and codeVerifier as without PAR, and
// redirect before expiresAt (often a minute away). The callback is the same as without PAR.
export function login(): Promise<AuthorizationRequest> {
	return session.authorizationUrl();
}
