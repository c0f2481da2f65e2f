// The DPoP benchmark's API, in its own process (see lib/child-server.ts). Answers a small JSON body
// to `Authorization: Bearer <token>`, or to `Authorization: DPoP <token>` with a `DPoP` proof
// header (its presence only: the client's cost is measured, not the server's), 401 otherwise.
// Under /api/slow/ it answers after SLOW_MS, as an API across a LAN or with work of its own does.
import { createServer } from 'node:http';
import { listenForParent } from './lib/child-server.js';

const token = process.argv[2];
if (token === undefined) throw new Error('usage: dpop-api-server.ts <token>');
const ok = JSON.stringify({ ok: true });
const refused = JSON.stringify({ error: 'invalid_token' });

const SLOW_MS = 2;

const server = createServer((request, response) => {
	const { authorization, dpop } = request.headers;
	const authorized =
		authorization === `Bearer ${token}` ||
		(authorization === `DPoP ${token}` && typeof dpop === 'string' && dpop.split('.').length === 3);
	const answer = () => {
		response.writeHead(authorized ? 200 : 401, {
			'content-type': 'application/json',
			'content-length': String(authorized ? ok.length : refused.length),
		});
		response.end(authorized ? ok : refused);
	};
	if (request.url?.startsWith('/api/slow/')) setTimeout(answer, SLOW_MS);
	else answer();
});
listenForParent(server);
