/**
 * A TCP proxy on 127.0.0.1 to a server of the test, whose link can be cut and restored on the same
 * port: to its clients, a server that went away and came back, with its data intact.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';

export interface CuttableProxy {
	readonly port: number;
	/** Stops listening and drops every connection, as a server that went down. */
	cut(): Promise<void>;
	/** Listens again on the same port. */
	restore(): Promise<void>;
	close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
	const sockets = new Set<Socket>();
	const open = (): Server => {
		const made = createServer((client) => {
			const upstream = connect(targetPort, '127.0.0.1');
			for (const [socket, other] of [
				[client, upstream],
				[upstream, client],
			] as const) {
				sockets.add(socket);
				socket.on('error', () => other.destroy());
				socket.on('close', () => {
					sockets.delete(socket);
					other.destroy();
				});
				socket.pipe(other);
			}
		});
		made.on('error', () => {});
		return made;
	};
	const listen = (on: Server, port: number) =>
		new Promise<void>((resolve, reject) => {
			on.once('error', reject);
			on.listen(port, '127.0.0.1', () => {
				on.off('error', reject);
				resolve();
			});
		});
	let server: Server | undefined = open();
	await listen(server, 0);
	const { port } = server.address() as AddressInfo;
	const cut = async () => {
		const closing = server;
		server = undefined;
		for (const socket of sockets) socket.destroy();
		if (closing !== undefined) await new Promise<void>((resolve) => closing.close(() => resolve()));
	};
	return {
		port,
		cut,
		async restore() {
			if (server !== undefined) return;
			const reopened = open();
			await listen(reopened, port);
			server = reopened;
		},
		close: cut,
	};
}
