// The soak benchmark's authorization server and API, in one process of its own (see
// lib/child-server.ts). Access tokens live `argv[2]` seconds; every refresh rotates the refresh
// token and a spent one is refused with `invalid_grant`; the API answers 401 to an expired or
// unknown access token. GET /stats tells what it saw, for the bench to judge; no token is in it.
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { listenForParent } from './lib/child-server.js';

const lifetimeSeconds = Number(process.argv[2]);
if (!(lifetimeSeconds > 0)) throw new Error('usage: soak-server.ts <access token lifetime, s>');

interface AccessRecord {
	issuedAt: number;
	expiresAt: number;
	/** When the refresh that replaced it arrived. */
	replacedAt?: number;
}

const access = new Map<string, AccessRecord>();
/** Refresh token -> the access token issued with it; deleted once spent. */
const refresh = new Map<string, string>();
let loggedIn = false;
const counts = {
	tokenRequests: 0,
	logins: 0,
	refreshes: 0,
	/** Token requests refused: a spent or unknown refresh token, a second login. */
	refused: 0,
	apiRequests: 0,
	apiOk: 0,
	apiExpired: 0,
	apiUnknown: 0,
};
/** Per refresh, how long the access token it replaced had left, by this server's clock (ms). */
const leftAtRefresh: number[] = [];

function send(response: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	response.writeHead(status, {
		'content-type': 'application/json',
		'content-length': String(Buffer.byteLength(text)),
		'cache-control': 'no-store',
	});
	response.end(text);
}

function issue(now: number): object {
	const accessToken = randomBytes(16).toString('base64url');
	const refreshToken = randomBytes(16).toString('base64url');
	access.set(accessToken, { issuedAt: now, expiresAt: now + lifetimeSeconds * 1000 });
	refresh.set(refreshToken, accessToken);
	return {
		access_token: accessToken,
		token_type: 'Bearer',
		expires_in: lifetimeSeconds,
		refresh_token: refreshToken,
	};
}

function token(form: URLSearchParams, response: ServerResponse): void {
	counts.tokenRequests++;
	const now = Date.now();
	const grantType = form.get('grant_type');
	if (grantType === 'client_credentials' && !loggedIn) {
		loggedIn = true;
		counts.logins++;
		send(response, 200, issue(now));
		return;
	}
	const presented = form.get('refresh_token') ?? '';
	const replaced = grantType === 'refresh_token' ? refresh.get(presented) : undefined;
	const record = replaced === undefined ? undefined : access.get(replaced);
	if (record === undefined) {
		counts.refused++;
		send(response, 400, { error: 'invalid_grant' });
		return;
	}
	refresh.delete(presented);
	record.replacedAt = now;
	leftAtRefresh.push(record.expiresAt - now);
	counts.refreshes++;
	send(response, 200, issue(now));
}

function stats(): object {
	const now = Date.now();
	const records = [...access.values()];
	const replaced = records.filter((r) => r.replacedAt !== undefined);
	return {
		...counts,
		accessTokensIssued: records.length,
		expiries: records.filter((r) => r.expiresAt <= now).length,
		expiredUnreplaced: records.filter((r) => r.expiresAt <= now && r.replacedAt === undefined)
			.length,
		replacedBeforeExpiry: replaced.filter((r) => r.expiresAt > now).length,
		leftAtRefreshMs: {
			min: Math.min(...leftAtRefresh),
			max: Math.max(...leftAtRefresh),
			mean: leftAtRefresh.reduce((a, b) => a + b, 0) / Math.max(1, leftAtRefresh.length),
		},
		/** How long each token served before the refresh that replaced it, on average (ms). */
		meanTokenUseMs:
			replaced.reduce((sum, r) => sum + ((r.replacedAt as number) - r.issuedAt), 0) /
			Math.max(1, replaced.length),
	};
}

const server = createServer((request, response) => {
	if (request.method === 'POST' && request.url === '/token') {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => token(new URLSearchParams(Buffer.concat(chunks).toString()), response));
		return;
	}
	if (request.url === '/stats') {
		send(response, 200, stats());
		return;
	}
	counts.apiRequests++;
	const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
	const record = bearer === undefined ? undefined : access.get(bearer);
	if (record === undefined || record.expiresAt <= Date.now()) {
		if (record === undefined) counts.apiUnknown++;
		else counts.apiExpired++;
		send(response, 401, { error: 'invalid_token' });
		return;
	}
	counts.apiOk++;
	send(response, 200, { ok: true });
});
listenForParent(server);
