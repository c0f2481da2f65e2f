// A DPoP session of the embedded oidc-provider's public client, and its sign-in: what the DPoP
// suites (interop, store, fleet, ky) start from.
import type { AuthServer } from '../../demo/auth-server.js';
import type { Token } from '../../src/protocol/token.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import type { OAuth2SessionOptions } from '../../src/session/options.js';

/** The redirect URI every DPoP suite registers its server with. */
export const DPOP_REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** A session of `on`'s public client with `dpop: true`; `options` win. */
export function dpopSession(
	on: AuthServer,
	options: Partial<OAuth2SessionOptions> = {},
): OAuth2Session {
	return new OAuth2Session({
		clientId: on.clients.public.clientId,
		authorizationEndpoint: on.authorizationEndpoint,
		tokenEndpoint: on.tokenEndpoint,
		redirectUri: DPOP_REDIRECT_URI,
		scope: on.scope,
		allowedOrigins: [on.origin],
		proactiveRefresh: false,
		dpop: true,
		...options,
	});
}

/** Signs in through the authorization code flow with PKCE, as the user "alice". */
export async function signIn(session: OAuth2Session, on: AuthServer): Promise<Token> {
	const { url } = await session.authorizationUrl();
	return session.fetchToken({ authorizationResponse: await on.approve(url), issuer: on.issuer });
}

/** A non-extractable ES256 key pair for a session's `dpop.keyPair`, and its RFC 7638 thumbprint. */
export async function dpopTestKey(): Promise<{ keyPair: CryptoKeyPair; jkt: string }> {
	const keyPair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
		'sign',
		'verify',
	])) as CryptoKeyPair;
	const probe = new OAuth2Session({ clientId: 'probe', dpop: { keyPair } });
	const jkt = (await probe.dpopThumbprint()) as string;
	probe.close();
	return { keyPair, jkt };
}
