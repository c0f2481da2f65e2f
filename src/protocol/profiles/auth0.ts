import { InvalidOptionsError } from '../../errors/invalid-options-error.js';
import { defineProfile, type ProviderProfile } from '../profile.js';
import type { TokenRequestParts } from '../token-request.js';

/** Options of `auth0()`. */
export interface Auth0ProfileOptions {
	/**
	 * The API identifier the access token is for. Without it Auth0 issues an opaque token good
	 * only for its `/userinfo`.
	 * @default undefined: no `audience` is sent
	 * @example 'https://api.example.com'
	 */
	audience?: string | undefined;
}

// Grants that name the API on the token request itself; a code or refresh token already carries
// the audience of its authorization request.
const grantsWithAudience = new Set(['client_credentials', 'password']);

/**
 * Auth0: `audience` goes into authorization URLs and into client credentials and password token
 * requests; a refresh token is issued only for the `offline_access` scope, added to authorization
 * URLs. With refresh token rotation each refresh answer brings the next refresh token, and reusing
 * a spent one is answered `invalid_grant`, which ends the session.
 *
 * @throws {InvalidOptionsError} `audience` is given but is not a non-empty string.
 */
export function auth0(options: Auth0ProfileOptions = {}): ProviderProfile {
	const { audience } = options;
	if (audience !== undefined && (typeof audience !== 'string' || audience === '')) {
		throw new InvalidOptionsError('auth0(): audience must be a non-empty string');
	}
	if (audience === undefined) {
		return defineProfile({ name: 'auth0', authorizationScopes: ['offline_access'] });
	}
	const addAudience = (request: TokenRequestParts): void => {
		const grantType = request.params.get('grant_type') ?? '';
		if (grantsWithAudience.has(grantType) && !request.params.has('audience')) {
			request.params.set('audience', audience);
		}
	};
	return defineProfile({
		name: 'auth0',
		authorizationParams: { audience },
		authorizationScopes: ['offline_access'],
		hooks: { accessTokenRequest: [addAudience] },
	});
}
