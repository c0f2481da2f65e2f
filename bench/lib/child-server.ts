// A bench's HTTP server runs in its own Node process, so its work does not share the client's
// event loop. Both halves of that arrangement live here: the parent starts the script and reads
// the port it prints; the child listens on 127.0.0.1:0 and exits once the parent is gone.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChildServer {
	origin: string;
	child: ChildProcess;
	/** Closes the child's stdin (it exits on that) and kills it, should it linger. */
	stop: () => void;
}

/** Starts `script` (a .ts file) under tsx with `args`; resolves once it printed its port. */
export async function startChildServer(
	script: string,
	args: readonly string[] = [],
): Promise<ChildServer> {
	const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const port = await new Promise<string>((resolve, reject) => {
		child.once('error', reject);
		child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
		child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
	});
	return {
		origin: `http://127.0.0.1:${port}`,
		child,
		stop: () => {
			child.stdin?.end();
			child.kill();
		},
	};
}

/** In the child: listens on a free loopback port, prints it, and exits when stdin closes. */
export function listenForParent(server: Server): void {
	// Clients keep their connections between requests, as a long-running app does.
	server.keepAliveTimeout = 60_000;
	server.listen(0, '127.0.0.1', () => {
		process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
	});
	// The parent holds our stdin: when it exits or closes it, so do we.
	process.stdin.on('end', () => process.exit(0));
	process.stdin.on('close', () => process.exit(0));
	process.stdin.resume();
}
