import { defineProfile } from '../profile.js';

/**
 * Amazon Cognito user pools: refresh answers bring a new access and ID token but no refresh token
 * (the session keeps the one it has) unless refresh token rotation is on, when they bring one.
 */
export const cognito = defineProfile({ name: 'cognito' });
