// The many-users benchmark's API, in its own process (see lib/child-server.ts): a small JSON body
// to any `Authorization: Bearer ...` (each user has a token of their own), 401 to anything else.
import { createServer } from 'node:http';
import { listenForParent } from './lib/child-server.js';

const ok = JSON.stringify({ ok: true });
const refused = JSON.stringify({ error: 'invalid_token' });

const server = createServer((request, response) => {
	const authorized = request.headers.authorization?.startsWith('Bearer ') === true;
	response.writeHead(authorized ? 200 : 401, {
		'content-type': 'application/json',
		'content-length': String(authorized ? ok.length : refused.length),
	});
	response.end(authorized ? ok : refused);
});
listenForParent(server);
