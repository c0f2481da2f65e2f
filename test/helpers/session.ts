import { Token } from '../../src/protocol/token.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';
import type { OAuthTestServer } from './oauth-server.js';

/**
 * A session on the test server: its client and secret, its token endpoint, its origin allowed,
 * no background refresh (tests that want it turn it on).
 */
export function sessionOn(
	server: Pick<OAuthTestServer, 'tokenEndpoint' | 'origin'>,
	token: object | undefined,
	options: Partial<OAuth2SessionOptions> = {},
): OAuth2Session {
	return new OAuth2Session({
		clientId: 'app',
		clientSecret: 's3cret',
		tokenEndpoint: server.tokenEndpoint,
		allowedOrigins: [server.origin],
		...(token === undefined ? {} : { token: token as never }),
		proactiveRefresh: false,
		...options,
	});
}

/** A token pair the server issued, its access token expired a minute ago: the next use refreshes. */
export function expiredIssuedToken(server: Pick<OAuthTestServer, 'issue'>): Token {
	const issued = server.issue();
	return new Token({
		accessToken: issued.access_token,
		refreshToken: issued.refresh_token,
		expiresAt: Date.now() - 60_000,
		issuedAt: Date.now() - 3_660_000,
	});
}
