/**
 * What a page that only calls APIs downloads first: the SPA entry (OAuth2Session + IndexedDBStore)
 * built as Vite 8 builds it (rolldown, chunks split), from `src/`. What such a page never runs, or
 * runs only when something fails, is loaded on first use; npm run bench:bundle gives the figures.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RolldownFirstLoad, rolldownFirstLoad } from '../../bench/bundle-first-load.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

let firstLoad: RolldownFirstLoad;

beforeAll(async () => {
	firstLoad = await rolldownFirstLoad(root, undefined, { fromSource: true });
});

describe('the SPA first load', () => {
	it('has the session, its store and the refresh', () => {
		expect(firstLoad.modules).toEqual(
			expect.arrayContaining([
				'src/session/oauth2-session.ts',
				'src/session/token-keeper.ts',
				'src/session/request-token.ts',
				'src/protocol/token-response.ts',
				'src/storage/indexeddb.ts',
			]),
		);
	});

	it.each([
		[
			'sign-in',
			/^src\/(session\/authorization|protocol\/(authorization-url|authorization-callback|pkce))\.ts$/,
		],
		['the error of a callback state already used', /^src\/errors\/state-mismatch-error\.ts$/],
		['logout', /^src\/(session\/revoke|protocol\/revocation)\.ts$/],
		['record encryption and the lease lock', /^src\/storage\/indexeddb\/(cipher|lease-lock)\.ts$/],
		['the reader of error answers', /^src\/protocol\/error-response\.ts$/],
		['the OAuth 2 error of an error answer', /^src\/errors\/oauth2-response-error\.ts$/],
		["the specification's text for each error code", /error-code/],
		[
			'the retry library and how retries are judged, until a first attempt fails',
			/node_modules\/(p-retry|is-network-error)\/|^src\/session\/retry\.ts$/,
		],
		['the messages of a request that got no usable answer', /^src\/session\/request-failure\.ts$/],
		['DPoP, which has a figure of its own', /dpop/],
		['pushed authorization requests', /^src\/(session\/pushed-authorization|protocol\/par)\.ts$/],
		['OAuth2Client, the client for many users', /^src\/session\/oauth2-client\.ts$/],
		[
			'discovery, the device flow and introspection',
			/^src\/(protocol|session)\/(discovery|discover|device-authorization|device-flow|introspection|introspect)\.ts$/,
		],
		[
			'the reading of refusals (WWW-Authenticate) and their errors',
			/^src\/(session\/unauthorized|protocol\/www-authenticate|errors\/(step-up-required|insufficient-scope)-error)\.ts$/,
		],
		['refresh telemetry', /^src\/session\/telemetry\.ts$/],
		['what fetchToken() exchanges for a token', /^src\/session\/fetch-token\.ts$/],
		['the redaction of secrets an error answer echoes', /^src\/protocol\/redact\.ts$/],
		[
			'the errors of the manual and raise-updated refresh modes',
			/^src\/errors\/(token-expired-error|token-updated)\.ts$/,
		],
	])('leaves out %s', (_, module) => {
		expect(firstLoad.modules.filter((loaded) => module.test(loaded))).toEqual([]);
	});
});
