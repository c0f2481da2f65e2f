// The token endpoint faults the issue lists, as handlers a test server runs in place of its token
// endpoint: shared by test/faults/token-endpoint.test.ts and bench/faults.ts so both exercise the
// same failures.
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-server.js';

/** How the token endpoint answers (or fails to) while a fault is on. */
export type Fault = (response: ServerResponse) => void;

const html =
	(status: number): Fault =>
	(response) => {
		response.writeHead(status, { 'content-type': 'text/html' });
		response.end('<html><body><h1>Bad Gateway</h1></body></html>');
	};
const answer = JSON.stringify({ access_token: 'at-x', token_type: 'Bearer', expires_in: 3600 });

export interface TokenEndpointFault {
	name: string;
	fault: Fault;
	/** Token requests one failed refresh makes: 3 for a retried failure (`retries: 2`), else 1. */
	requests: number;
	/** What the typed error says, beyond being ours. */
	error: Record<string, unknown>;
	/** The refresh's own timeout, for the hang. */
	refreshTimeout?: number;
}

/** One of each fault the token endpoint suite and `npm run bench:faults` run. */
export const tokenEndpointFaults: readonly TokenEndpointFault[] = [
	{ name: '500', fault: html(500), requests: 3, error: { reason: 'http', status: 500 } },
	{ name: '502', fault: html(502), requests: 3, error: { reason: 'http', status: 502 } },
	{ name: '503', fault: html(503), requests: 3, error: { reason: 'http', status: 503 } },
	{
		name: '429 with Retry-After: 1',
		fault: (response) => sendJson(response, 429, { error: 'slow_down' }, { 'retry-after': '1' }),
		requests: 3,
		error: { reason: 'http', status: 429 },
	},
	{
		name: 'a hang past the refresh timeout',
		fault: () => {},
		requests: 1,
		error: { code: 'TOKEN_REQUEST_FAILED' },
		refreshTimeout: 300,
	},
	{
		name: 'a reset connection',
		fault: (response) => response.socket?.destroy(),
		requests: 3,
		error: { reason: 'network' },
	},
	{
		name: 'an HTML error page with 200',
		fault: html(200),
		requests: 1,
		error: { name: 'TokenResponseError', problem: 'unparseable' },
	},
	{
		name: 'truncated JSON, the connection cut mid-body',
		fault: (response) => {
			response.writeHead(200, {
				'content-type': 'application/json',
				'content-length': answer.length,
			});
			response.write(answer.slice(0, answer.length / 2));
			setTimeout(() => response.socket?.destroy(), 10);
		},
		requests: 3,
		error: { reason: 'network' },
	},
	{
		name: 'truncated JSON, a whole answer of half a body',
		fault: (response) => {
			const half = answer.slice(0, answer.length / 2);
			response.writeHead(200, {
				'content-type': 'application/json',
				'content-length': half.length,
			});
			response.end(half);
		},
		requests: 1,
		error: { name: 'TokenResponseError', problem: 'unparseable' },
	},
];
