// What every client adapter of `npm run bench:amplification` implements. See BENCHMARKS.md.

/** The server and client the adapters are pointed at. */
export interface BenchSetup {
	/** `http://127.0.0.1:<port>`: the token endpoint is `/token`, the API under `/api/`. */
	origin: string;
	tokenEndpoint: string;
	clientId: string;
	clientSecret: string;
}

/** The token every run starts from: already expired, or valid but revoked by the server. */
export interface SeedToken {
	accessToken: string;
	refreshToken: string;
	/** Epoch milliseconds. */
	expiresAt: number;
}

/** Where a client's token lives: in memory only, or in a file (a directory) shared by processes. */
export type TokenSource = { token: SeedToken } | { sharedPath: string };

/** A client ready to send requests. */
export interface ClientUnderTest {
	/** Sends one GET and answers the final status; throws what the client throws. */
	get(url: string): Promise<number>;
	/** Stops timers and watchers so the process can end by itself. */
	close(): Promise<void>;
}

export interface ClientAdapter {
	/** The package name, as shown in the results. */
	name: string;
	/** How it is driven, one or two sentences for BENCHMARKS.md. */
	how: string;
	/** How processes share the token in the fleet scenario, for BENCHMARKS.md. */
	sharing: string;
	/** Writes `token` where `create({ sharedPath })` will read it, in the client's own format. */
	seed(sharedPath: string, token: SeedToken): Promise<void>;
	create(setup: BenchSetup, source: TokenSource): Promise<ClientUnderTest>;
}
