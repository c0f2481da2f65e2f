// The benchmark's API, in its own process so its work does not share the client's event loop.
// Answers a small JSON body to `Authorization: Bearer <token>` (the token is argv[2]), 401 to
// anything else. Listens on 127.0.0.1:0, prints the port, exits when its stdin closes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

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
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
// The parent holds our stdin: when it exits or closes it, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
