// The DPoP benchmark's API, in its own process (see lib/child-server.ts). Answers a small JSON body
// to `Authorization: Bearer <token>`, or to `Authorization: DPoP <token>` with a `DPoP` proof
// header (its presence only: the client's cost is measured, not the server's), 401 otherwise.
import { createServer } from 'node:http';
import { listenForParent } from './lib/child-server.js';

const token = process.argv[2];
if (token === undefined) throw new Error('usage: dpop-api-server.ts <token>');
const ok = JSON.stringify({ ok: true });
const refused = JSON.stringify({ error: 'invalid_token' });

const server = createServer((request, response) => {
	const { authorization, dpop } = request.headers;
	const authorized =
		authorization === `Bearer ${token}` ||
		(authorization === `DPoP ${token}` && typeof dpop === 'string' && dpop.split('.').length === 3);
	response.writeHead(authorized ? 200 : 401, {
		'content-type': 'application/json',
		'content-length': String(authorized ? ok.length : refused.length),
	});
	response.end(authorized ? ok : refused);
});
listenForParent(server);
