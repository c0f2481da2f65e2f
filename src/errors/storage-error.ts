import { OAuth2Error } from './oauth2-error.js';

/**
 * What failed in a token store:
 * - `corrupt`: a stored record is not valid JSON or not a token record (the bytes are kept);
 * - `unsupported-version`: a record written by a newer version of this library;
 * - `unavailable`: the store could not be read or written (disk full, permission denied, quota,
 *   Redis down);
 * - `lock-timeout`: the store's lock could not be taken in time;
 * - `insecure`: the store refuses a place others could change (a file store's directory writable
 *   by others or owned by another user, a symlink planted at a record); the message says the fix;
 * - `conflict`: a token the session could not save while the store was unavailable was not written
 *   when it came back, since another context had written the record meanwhile; the session uses
 *   that context's token instead (when it is still valid).
 */
export type StorageProblem =
	| 'corrupt'
	| 'unsupported-version'
	| 'unavailable'
	| 'lock-timeout'
	| 'insecure'
	| 'conflict';

/**
 * A token store failed. The session reports it through its `storeError` event and keeps working
 * with the token it holds in memory.
 */
export class StorageError extends OAuth2Error {
	override name = 'StorageError';
	/** What failed. */
	readonly problem: StorageProblem;
	/** The key of the record concerned. */
	readonly key: string | undefined;

	constructor(
		message: string,
		details: { problem: StorageProblem; key?: string | undefined },
		options: { cause?: unknown } = {},
	) {
		super(message, 'STORAGE_ERROR', options);
		this.problem = details.problem;
		this.key = details.key;
	}
}
