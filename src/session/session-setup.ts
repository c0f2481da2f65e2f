import type { DPoPNonces } from './dpop-nonces.js';
import type { NormalizedOAuth2SessionOptions } from './options.js';
import type { KeeperPlace } from './token-keeper.js';

/**
 * The property under which an `OAuth2Client` hands `new OAuth2Session()` one user's setup in place
 * of options. Not exported from the package: no caller's options can carry it.
 */
export const userSetup: unique symbol = Symbol('OAuth2Client user');

/** One user's session of an `OAuth2Client`: the client's options, normalised once, and the user's place. */
export interface UserSetup {
	readonly options: NormalizedOAuth2SessionOptions;
	readonly place: KeeperPlace;
	/** With `dpop`: the client's nonces, which every user's session signs with and adds to. */
	readonly dpopNonces?: Promise<DPoPNonces> | undefined;
}
