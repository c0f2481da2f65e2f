import { defineProfile } from '../profile.js';

/**
 * Salesforce: answers have no `expires_in` (the org's session timeout decides, so a 401 is what
 * triggers a refresh), and carry `instance_url` (the base URL of the org's API), `id`,
 * `issued_at` (milliseconds, as a string) and `signature`, all kept as sent in `token.extra`.
 * Refresh answers carry no refresh token: the session keeps the one it has.
 */
export const salesforce = defineProfile({ name: 'salesforce' });
