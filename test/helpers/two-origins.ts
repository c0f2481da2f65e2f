import { afterAll, afterEach, beforeAll } from 'vitest';
import { type OAuthTestServer, startOAuthServer } from './oauth-server.js';

/**
 * Two servers, so two origins, for the test file that calls this at its top level (it registers
 * the file's hooks): tests allow `api` and not `other`. Counters are reset after each test.
 */
export function twoOrigins(): { readonly api: OAuthTestServer; readonly other: OAuthTestServer } {
	let api: OAuthTestServer | undefined;
	let other: OAuthTestServer | undefined;
	beforeAll(async () => {
		[api, other] = await Promise.all([startOAuthServer(), startOAuthServer()]);
	});
	afterEach(() => {
		api?.resetStats();
		other?.resetStats();
	});
	afterAll(() => Promise.all([api?.close(), other?.close()]));
	const started = (server: OAuthTestServer | undefined) => {
		if (server === undefined) throw new Error('twoOrigins(): the servers start in beforeAll');
		return server;
	};
	return {
		get api() {
			return started(api);
		},
		get other() {
			return started(other);
		},
	};
}
