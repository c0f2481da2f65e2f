import { defineProfile } from '../profile.js';

/**
 * Keycloak: `refresh_expires_in` gives the refresh token's expiry (the SSO session's), read into
 * `refreshTokenExpiresAt`; `0`, as offline tokens have, means no known expiry. A refresh once the
 * SSO session is gone is answered `invalid_grant` ("Session not active"), which ends the session.
 */
export const keycloak = defineProfile({ name: 'keycloak' });
