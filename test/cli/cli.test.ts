/**
 * `oauth2-session login | status | logout` end to end: the CLI in a child process against the
 * embedded oidc-provider server, the test playing the user (browser or phone).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuthServer } from '../../demo/auth-server.js';
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
let port: number;
let dir: string;

beforeAll(async () => {
	// The server's code clients are not `native`, so oidc-provider compares the redirect URI's
	// port too: the CLI gets a fixed --port registered here. A free port is checked below.
	port = await freePort();
	server = await startAuthServer({ redirectUri: `http://127.0.0.1:${port}/callback` });
	dir = await mkdtemp(join(tmpdir(), 'oauth2-session-cli-'));
});

afterAll(async () => {
	await killCliProcesses();
	await server.close();
	await rm(dir, { recursive: true, force: true });
});

/** Each test starts a few Node processes: generous on a loaded two-core machine. */
const slow = { timeout: 60_000 };

/** `login` for the server's public code client, with the token saved under `key`. */
const loginArgs = (key: string, ...more: string[]) => publicLoginArgs(server, dir, key, ...more);

describe('login in a browser, loopback redirect', () => {
	it(
		'signs in, status shows the token without secrets, logout revokes and deletes it',
		slow,
		async () => {
			const where = ['--dir', dir, '--key', 'browser'];
			const login = startCli(loginArgs('browser', '--port', String(port)));
			const [url = ''] = await login.waitForStderr(AUTHORIZATION_URL);
			expect(new URL(url).searchParams.get('redirect_uri')).toBe(server.redirectUri);
			expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');

			// The user's browser: through login and consent, then back to the CLI's loopback server.
			const callback = await server.approve(url);
			expect(callback.startsWith(`${server.redirectUri}?`)).toBe(true);
			const page = await fetch(callback);
			expect(page.status).toBe(200);
			expect(await login.exited).toBe(0);
			expect(login.stderr()).toContain('Signed in.');

			const record = JSON.parse(await readFile(join(dir, 'token-browser.json'), 'utf8'));
			const secrets = [record.token.access_token, record.token.refresh_token];
			expect(secrets.every((secret) => typeof secret === 'string' && secret !== '')).toBe(true);

			const status = await runCli(['status', ...where]);
			expect(status.code).toBe(0);
			expect(status.stdout).toMatch(/access token: Bearer, expires in/);
			expect(status.stdout).toMatch(/scope: .*api:read/);
			expect(status.stdout).toContain('refresh token: yes');
			for (const secret of secrets) {
				expect(status.stdout + status.stderr + login.stderr()).not.toContain(secret);
			}

			const logout = await runCli([
				'logout',
				'--issuer',
				server.issuer,
				'--client-id',
				server.clients.public.clientId,
				...where,
			]);
			expect(logout.code).toBe(0);
			expect(logout.stderr).toContain('Revoked the refresh token');
			const refused = await fetch(server.tokenEndpoint, {
				method: 'POST',
				body: new URLSearchParams({
					grant_type: 'refresh_token',
					refresh_token: record.token.refresh_token,
					client_id: server.clients.public.clientId,
				}),
			});
			expect(((await refused.json()) as { error?: string }).error).toBe('invalid_grant');
			const after = await runCli(['status', ...where]);
			expect(after.code).toBe(1);
			expect(after.stderr).toContain('No token under "browser"');
		},
	);

	it('refuses a callback whose state is not the one it sent, and saves nothing', slow, async () => {
		const login = startCli(loginArgs('forged', '--port', String(port)));
		const [url = ''] = await login.waitForStderr(AUTHORIZATION_URL);
		const callback = new URL(await server.approve(url));
		callback.searchParams.set('state', 'forged');
		expect((await fetch(callback)).status).toBe(400);
		expect(await login.exited).toBe(1);
		expect(login.stderr()).toMatch(/Error: .*state/i);
		expect((await runCli(['status', '--dir', dir, '--key', 'forged'])).code).toBe(1);
	});

	it('listens on a free port by default, and gives up after --timeout', slow, async () => {
		const login = startCli(loginArgs('timeout', '--timeout', '1'));
		const [url = ''] = await login.waitForStderr(AUTHORIZATION_URL);
		const redirect = new URL(new URL(url).searchParams.get('redirect_uri') ?? '');
		expect(redirect.hostname).toBe('127.0.0.1');
		expect(redirect.pathname).toBe('/callback');
		expect(Number(redirect.port)).toBeGreaterThan(0);
		expect(await login.exited).toBe(1);
		expect(login.stderr()).toContain('No answer in time');
	});
});

describe('login with the device flow', () => {
	it('shows the user code, waits for approval, saves the token', slow, async () => {
		const where = ['--dir', dir, '--key', 'device'];
		const login = startCli(deviceLoginArgs(server, dir, 'device'));
		const [, userCode = ''] = await login.waitForStderr(USER_CODE);
		await server.approveDevice(userCode);
		expect(await login.exited).toBe(0);
		expect(login.stderr()).toContain('Signed in.');

		const status = await runCli(['status', ...where]);
		expect(status.code).toBe(0);
		expect(status.stdout).toContain('refresh token: yes');

		// Without the issuer the token is only deleted here, and the CLI says so.
		const logout = await runCli(['logout', ...where]);
		expect(logout.code).toBe(0);
		expect(logout.stderr).toContain('Not revoked at the server');
		expect((await runCli(['status', ...where])).code).toBe(1);
	});
});

describe('the command line', () => {
	it('exits with 2 and the usage on a wrong command line', slow, async () => {
		const result = await runCli(['login', '--issuer', 'http://127.0.0.1:1']);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('login needs --issuer and --client-id');
		expect(result.stderr).toContain('Usage:');
	});
});
