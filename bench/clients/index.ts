import { axiosAuthRefresh } from './axios-auth-refresh.js';
import { badgatewayOAuth2Client } from './badgateway-oauth2-client.js';
import { googleAuthLibrary } from './google-auth-library.js';
import { kyRefreshHook } from './ky-refresh-hook.js';
import { oauth2Session } from './oauth2-session.js';
import { simpleOAuth2 } from './simple-oauth2.js';
import type { ClientAdapter } from './types.js';

/** Every client compared, in the order of the results. */
export const adapters: readonly ClientAdapter[] = [
	oauth2Session,
	badgatewayOAuth2Client,
	googleAuthLibrary,
	axiosAuthRefresh,
	simpleOAuth2,
	kyRefreshHook,
];

export function adapterNamed(name: string): ClientAdapter {
	const adapter = adapters.find((candidate) => candidate.name === name);
	if (adapter === undefined) throw new Error(`No client adapter named ${name}`);
	return adapter;
}
