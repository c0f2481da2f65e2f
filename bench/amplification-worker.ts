// One process of the fleet scenario of `npm run bench:amplification`, started by amplification.ts
// with `node --import tsx`. Opens its client on the shared token, says `ready`, waits for `go` on
// stdin, sends its requests all at once, reports one JSON line and exits.
import { createInterface } from 'node:readline';
import { adapterNamed } from './clients/index.js';
import { describeError, tally } from './clients/outcome.js';
import type { BenchSetup } from './clients/types.js';

/** What the parent passes in the `AMPLIFICATION_WORKER` environment variable. */
export interface WorkerConfig {
	adapter: string;
	setup: BenchSetup;
	sharedPath: string;
	url: string;
	requests: number;
}

/** What a worker reports on stdout, one JSON object a line. */
export type WorkerMessage =
	| { type: 'ready' }
	| { type: 'done'; outcomes: Record<string, number>; clientWarnings: number };

const config = JSON.parse(process.env.AMPLIFICATION_WORKER ?? '') as WorkerConfig;
const send = (message: WorkerMessage) => process.stdout.write(`${JSON.stringify(message)}\n`);

// Clients that warn on a refused refresh (@badgateway/oauth2-client) would flood the output.
let clientWarnings = 0;
console.warn = () => {
	clientWarnings++;
};
console.error = console.warn;

const client = await adapterNamed(config.adapter).create(config.setup, {
	sharedPath: config.sharedPath,
});
const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
send({ type: 'ready' });
await go;
lines.close();

const outcomes: Record<string, number> = {};
await Promise.all(
	Array.from({ length: config.requests }, async () => {
		let outcome: string;
		try {
			outcome = String(await client.get(config.url));
		} catch (error) {
			outcome = describeError(error);
		}
		tally(outcomes, outcome);
	}),
);
send({ type: 'done', outcomes, clientWarnings });
await client.close();
// A client may keep sockets or timers open: this process has said all it had to say.
process.exit(0);
