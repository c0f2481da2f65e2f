import { defineProfile } from '../profile.js';

/**
 * Mailchimp: tokens do not expire and there is no refresh token; answers say `expires_in: 0` and
 * `scope: null`, read as "no known expiry" and "scope not said". The API's data center comes from
 * `https://login.mailchimp.com/oauth2/metadata`, fetched with the token.
 */
export const mailchimp = defineProfile({ name: 'mailchimp' });
