/** Helpers for tests of a store that goes away and comes back. */
import { Token } from '../../src/protocol/token.js';
import { encodeStoredRecord, type StoredRecord } from '../../src/storage/token-store.js';
import type { TokenAnswer } from './oauth-server.js';

/** How long a condition the session reaches in the background may take on a loaded machine. */
const PATIENCE = 20_000;

/** Resolves once `condition` holds; fails naming `what` if it does not within `PATIENCE`. */
export async function eventually(
	what: string,
	condition: () => Promise<boolean> | boolean,
): Promise<void> {
	const deadline = Date.now() + PATIENCE;
	while (!(await condition())) {
		if (Date.now() > deadline) throw new Error(`Not reached within ${PATIENCE} ms: ${what}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

/** The record of a token the server issued, valid for an hour. */
export function recordOf(answer: TokenAnswer): StoredRecord {
	return encodeStoredRecord(
		new Token({
			accessToken: answer.access_token,
			refreshToken: answer.refresh_token,
			expiresAt: Date.now() + 3_600_000,
		}),
	);
}
