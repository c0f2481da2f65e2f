// OAuth2Client in two real Node processes on one FileStore directory (a server's worker processes):
// through FileStore.subscribeAll, a user's cached session in one process learns at once of a token
// the other refreshed, and of a logout there. test/fixtures/file-worker.ts (mode `client`) runs in
// each.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { toToken } from '../../src/protocol/token-record.js';
import { FileStore } from '../../src/storage/file.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';
import {
	type FixtureProcess,
	killFixtureProcesses,
	startFixture,
} from '../helpers/child-process.js';
import { type OAuthTestServer, startOAuthServer } from '../helpers/oauth-server.js';

let server: OAuthTestServer;
const dirs: string[] = [];

beforeAll(async () => {
	server = await startOAuthServer();
});
afterEach(() => killFixtureProcesses());
afterAll(async () => {
	await server.close();
	await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

type Answer = { id: number; accessToken?: string; status?: number; error?: string };
type Told = { event?: string; key?: string; source?: string; accessToken?: string };

/** A worker process with an OAuth2Client on the directory, and a way to ask it to act. */
async function worker(dir: string) {
	const fixture = startFixture('file-worker.ts', ['client'], {
		env: { FILE_STORE_DIR: dir, OAUTH_ORIGIN: server.origin },
	});
	await fixture.message((m: { ready?: true }) => m.ready === true);
	let last = 0;
	const run = (command: 'ready' | 'refresh' | 'logout' | 'fetch', key: string) => {
		const id = ++last;
		fixture.child.stdin?.write(`${JSON.stringify({ id, do: command, key })}\n`);
		return fixture.message((m: Answer) => m.id === id);
	};
	const told = (matches: (m: Told) => boolean) => fixture.message(matches);
	return { fixture, run, told };
}

function expectQuiet(...fixtures: FixtureProcess[]): void {
	for (const fixture of fixtures) {
		expect(fixture.stderr()).toBe('');
		expect(fixture.messages.filter((m) => (m as Told).event === 'storeError')).toEqual([]);
	}
}

it("a refresh in one process reaches another's cached session without a token request; a logout there ends it", async () => {
	const dir = await mkdtemp(join(tmpdir(), 'oauth2-client-file-'));
	dirs.push(dir);
	const seed = new FileStore({ dir });
	await seed.set('user-x', encodeStoredRecord(toToken(server.issue())));
	// X's token no longer passes the API: only the one process 1 gets for X does, so a request
	// sent with what process 2 read at first would be seen as a 401.
	server.revokeAccessTokens();
	await seed.set('user-y', encodeStoredRecord(toToken(server.issue())));
	await seed.close();
	server.resetStats();

	const one = await worker(dir);
	const two = await worker(dir);
	for (const { run } of [one, two]) {
		for (const key of ['user-x', 'user-y']) expect((await run('ready', key)).error).toBeUndefined();
	}

	const refreshed = await one.run('refresh', 'user-x');
	expect(refreshed.error).toBeUndefined();
	const learned = await two.told((m) => m.event === 'tokenUpdated' && m.key === 'user-x');
	expect(learned).toMatchObject({ source: 'store', accessToken: refreshed.accessToken });
	expect(await two.run('fetch', 'user-x')).toMatchObject({
		status: 200,
		accessToken: refreshed.accessToken,
	});

	expect((await one.run('logout', 'user-y')).error).toBeUndefined();
	await two.told((m) => m.event === 'sessionEnded' && m.key === 'user-y');
	expect((await two.run('fetch', 'user-y')).error).toBe('ReauthenticationRequiredError');

	// The one refresh of process 1; process 2's one request, sent with the new token.
	expect(server.stats.tokenRequests).toBe(1);
	expect(server.stats.apiRequests).toBe(1);
	expect(server.stats.api401).toBe(0);
	expect(two.fixture.messages.filter((m) => (m as Told).event === 'sessionEnded')).toEqual([
		{ pid: expect.any(Number), event: 'sessionEnded', key: 'user-y' },
	]);
	expectQuiet(one.fixture, two.fixture);
}, 60_000);
