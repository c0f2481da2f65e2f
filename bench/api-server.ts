// The overhead benchmark's API, in its own process (see lib/child-server.ts). Answers a small JSON
// body to `Authorization: Bearer <token>` (the token is argv[2]), 401 to anything else.
import { createServer } from 'node:http';
import { listenForParent } from './lib/child-server.js';

const token = process.argv[2];
if (token === undefined) throw new Error('usage: api-server.ts <token>');
const expected = `Bearer ${token}`;
const ok = JSON.stringify({ ok: true });
const refused = JSON.stringify({ error: 'invalid_token' });

const server = createServer((request, response) => {
	const authorized = request.headers.authorization === expected;
	response.writeHead(authorized ? 200 : 401, {
		'content-type': 'application/json',
		'content-length': String(authorized ? ok.length : refused.length),
	});
	response.end(authorized ? ok : refused);
});
listenForParent(server);
