import { isLoopbackHost } from '../utils/secure-transport.js';
import type { OAuth2SessionEvents } from './events.js';
import {
	type NormalizedOAuth2SessionOptions,
	normalizeOptions,
	type OAuth2SessionOptions,
} from './options.js';

/**
 * What every session of one client shares, worked out once: the options with their defaults, and
 * the origins the token may go to.
 */
export class SharedSetup {
	readonly options: NormalizedOAuth2SessionOptions;
	/**
	 * The allowed origins the token may go to over their scheme: `https:`, loopback, or anything
	 * with `allowInsecure`. Worked out once, since every request and redirect hop asks.
	 */
	readonly tokenOrigins: ReadonlySet<string>;

	constructor(options: OAuth2SessionOptions) {
		const normalized = normalizeOptions(options);
		this.options = normalized;
		this.tokenOrigins = new Set(
			[...normalized.allowedOrigins].filter((origin) => {
				const { protocol, hostname } = new URL(origin);
				return protocol === 'https:' || normalized.allowInsecure || isLoopbackHost(hostname);
			}),
		);
	}
}

/**
 * One user's session of an `OAuth2Client`, handed to `new OAuth2Session()` in place of options:
 * the client's shared setup and the user's key, without timers or a subscription of its own.
 */
export class UserSetup {
	constructor(
		readonly shared: SharedSetup,
		readonly storeKey: string,
		/** Gets every event of the user's session. */
		readonly forward:
			| (<E extends keyof OAuth2SessionEvents>(name: E, event: OAuth2SessionEvents[E]) => void)
			| undefined,
	) {}
}
