/**
 * `oauth2-session login --dpop` against oidc-provider with DPoP (nonces required) and pushed
 * authorization requests required: the CLI pushes, binds the code and the token to a key it makes,
 * and saves the key with the token, so a daemon's DPoP session on the same FileStore signs with it.
 * With `--device` too, each poll of the device flow carries a proof.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { FileStore } from '../../src/storage/file.js';
import {
	AUTHORIZATION_URL,
	deviceLoginArgs,
	freePort,
	killCliProcesses,
	publicLoginArgs,
	runCli,
	startCli,
	USER_CODE,
} from './cli-process.js';

let server: AuthServer;
/** For the device flow: PAR required would cover its device authorization endpoint too. */
let deviceServer: AuthServer;
let dir: string;
let port: number;

beforeAll(async () => {
	port = await freePort();
	[server, deviceServer] = await Promise.all([
		startAuthServer({
			redirectUri: `http://127.0.0.1:${port}/callback`,
			dpop: true,
			requirePushedAuthorizationRequests: true,
		}),
		startAuthServer({ dpop: true }),
	]);
	dir = await mkdtemp(join(tmpdir(), 'oauth2-session-cli-dpop-'));
});

afterAll(async () => {
	await killCliProcesses();
	await Promise.all([server.close(), deviceServer.close()]);
	await rm(dir, { recursive: true, force: true });
});

const slow = { timeout: 60_000 };

/** A daemon's DPoP session of `on`'s `clientId` on the FileStore the CLI saved `key` in. */
const daemonOn = (store: FileStore, on: AuthServer, clientId: string, key: string) =>
	new OAuth2Session({
		clientId,
		tokenEndpoint: on.tokenEndpoint,
		allowedOrigins: [on.origin],
		store,
		storeKey: key,
		dpop: true,
	});

const loginArgs = (key: string, ...more: string[]) =>
	publicLoginArgs(server, dir, key, '--port', String(port), ...more);

describe('login --dpop', () => {
	it(
		'pushes, gets a DPoP-bound token, and a daemon session on the FileStore signs with its key',
		slow,
		async () => {
			const parBefore = server.stats.parRequests;
			const login = startCli(loginArgs('dpop', '--dpop'));
			const [url = ''] = await login.waitForStderr(AUTHORIZATION_URL);
			// Pushed: the URL carries only client_id and request_uri.
			expect([...new URL(url).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
			// Twice: the server requires nonces, so the first push is refused with one (RFC 9449 §8).
			expect(server.stats.parRequests).toBe(parBefore + 2);
			expect((await fetch(await server.approve(url))).status).toBe(200);
			expect(await login.exited).toBe(0);

			const file = join(dir, 'token-dpop.json');
			expect((await stat(file)).mode & 0o777).toBe(0o600);
			const record = JSON.parse(await readFile(file, 'utf8'));
			expect(record.token.token_type).toBe('DPoP');
			expect(record.dpop.jkt).toMatch(/^[\w-]{43}$/);
			expect(record.dpop.privateJwk.kty).toBe('EC');
			// The key never reaches the terminal.
			const printed = login.stdout() + login.stderr();
			expect(printed).not.toContain(record.dpop.privateJwk.d);
			expect(printed).not.toContain(record.token.access_token);

			const status = await runCli(['status', '--dir', dir, '--key', 'dpop']);
			expect(status.stdout).toMatch(/access token: DPoP, expires in/);
			expect(status.stdout).toContain(`DPoP key: ${record.dpop.jkt}`);
			expect(status.stdout + status.stderr).not.toContain(record.dpop.privateJwk.d);

			const store = new FileStore({ dir });
			const daemon = daemonOn(store, server, server.clients.public.clientId, 'dpop');
			try {
				const answer = await daemon.fetch(`${server.api}/me`);
				expect(answer.status).toBe(200);
				expect(await daemon.dpopThumbprint()).toBe(record.dpop.jkt);
				// The refresh token is bound to the same key: refreshing with it works.
				const refreshed = await daemon.refreshToken();
				expect(refreshed.tokenType).toBe('DPoP');
				expect((await daemon.fetch(`${server.api}/me`)).status).toBe(200);
				expect(server.stats.dpop?.thumbprints).toEqual(new Set([record.dpop.jkt]));
			} finally {
				daemon.close();
				await store.close();
			}
		},
	);

	it(
		'without --dpop, still pushes to an issuer that requires it, and saves a Bearer token',
		slow,
		async () => {
			const login = startCli(loginArgs('pushed'));
			const [url = ''] = await login.waitForStderr(AUTHORIZATION_URL);
			expect([...new URL(url).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
			expect((await fetch(await server.approve(url))).status).toBe(200);
			expect(await login.exited).toBe(0);
			const record = JSON.parse(await readFile(join(dir, 'token-pushed.json'), 'utf8'));
			expect(record.token.token_type).toBe('Bearer');
			expect(record).not.toHaveProperty('dpop');
		},
	);
});

describe('login --dpop --device', () => {
	it(
		'polls with proofs, saves the DPoP-bound token with its key, and status shows the thumbprint',
		slow,
		async () => {
			const where = ['--dir', dir, '--key', 'device-dpop'];
			const login = startCli(deviceLoginArgs(deviceServer, dir, 'device-dpop', '--dpop'));
			const [, userCode = ''] = await login.waitForStderr(USER_CODE);
			await deviceServer.approveDevice(userCode);
			expect(await login.exited).toBe(0);

			const record = JSON.parse(await readFile(join(dir, 'token-device-dpop.json'), 'utf8'));
			expect(record.token.token_type).toBe('DPoP');
			expect(record.dpop.jkt).toMatch(/^[\w-]{43}$/);
			const printed = login.stdout() + login.stderr();
			expect(printed).toContain(`DPoP key: ${record.dpop.jkt}`);
			expect(printed).not.toContain(record.dpop.privateJwk.d);
			expect(printed).not.toContain(record.token.access_token);

			const status = await runCli(['status', ...where]);
			expect(status.stdout).toMatch(/access token: DPoP, expires in/);
			expect(status.stdout).toContain(`DPoP key: ${record.dpop.jkt}`);

			const store = new FileStore({ dir });
			const daemon = daemonOn(
				store,
				deviceServer,
				deviceServer.clients.device.clientId,
				'device-dpop',
			);
			try {
				expect((await daemon.fetch(`${deviceServer.api}/me`)).status).toBe(200);
				expect(await daemon.dpopThumbprint()).toBe(record.dpop.jkt);
				expect((await daemon.refreshToken()).tokenType).toBe('DPoP');
				expect((await daemon.fetch(`${deviceServer.api}/me`)).status).toBe(200);
			} finally {
				daemon.close();
				await store.close();
			}
		},
	);
});
