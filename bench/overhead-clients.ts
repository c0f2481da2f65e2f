// The other clients of the amplification benchmark, timed by `npm run bench:overhead` through the
// same adapters (bench/clients/), so each is driven as its README documents. Their token is valid
// for an hour: no refresh happens, what is timed is what each adds to a request.
import { adapters } from './clients/index.js';
import type { ClientUnderTest } from './clients/types.js';

/** A client as an overhead contender: one GET, its body read, answering whether the API let it in. */
export interface ClientContender {
	name: string;
	send: () => Promise<{ ok: boolean }>;
}

/** Every adapter but oauth2-session's (timed directly as `session.fetch`), pointed at `origin`. */
export async function clientContenders(
	origin: string,
	accessToken: string,
): Promise<{ contenders: ClientContender[]; close: () => Promise<void> }> {
	const url = `${origin}/api/item`;
	const clients: ClientUnderTest[] = [];
	const contenders: ClientContender[] = [];
	for (const adapter of adapters) {
		if (adapter.name === 'oauth2-session') continue;
		const client = await adapter.create(
			{ origin, tokenEndpoint: `${origin}/token`, clientId: 'bench', clientSecret: 'bench-secret' },
			{
				token: {
					accessToken,
					refreshToken: 'bench-refresh-token',
					expiresAt: Date.now() + 3_600_000,
				},
			},
		);
		clients.push(client);
		contenders.push({
			name: adapter.name,
			send: async () => ({ ok: (await client.get(url)) === 200 }),
		});
	}
	return {
		contenders,
		close: async () => {
			await Promise.all(clients.map((client) => client.close()));
		},
	};
}
