import { createHash, randomBytes } from 'node:crypto';

/** The names of the files a key uses in the store's directory. */
export interface KeyFileNames {
	/** The record: `token-<encoded key>.json`. */
	record: string;
	/** What every file of the key's lock starts with: `token-<encoded key>.lock-`. */
	lockPrefix: string;
}

// An encoded key longer than this is cut and followed by a hash, so every name the store makes
// from it (temp files and lock markers included) stays under the 255 bytes file systems allow.
const MAX_ENCODED_LENGTH = 120;
const KEPT_WHEN_CUT = 80;

/**
 * Maps any string to the names of its files. The encoding is one-to-one and uses `a-z`, `0-9`,
 * `-` and `_` only: no separator or dot (so no `..`, and one key's record never looks like another
 * key's lock), and no capital (so two keys never meet on a case-insensitive file system).
 */
export function fileNamesFor(key: string): KeyFileNames {
	const base = `token-${encodeKey(key)}`;
	return { record: `${base}.json`, lockPrefix: `${base}.lock-` };
}

const RECORD_NAME = /^token-([a-z0-9_~-]*)\.json$/;

/** Whether `name` is a record's file name (not a temp, lock or moved-aside file). */
export function isRecordName(name: string): boolean {
	return RECORD_NAME.test(name);
}

/**
 * The key whose record is at `name`, or `undefined` when `name` is no record's, or its key was
 * too long to be kept whole in it (cut and hashed: only a map of the keys seen can tell it).
 */
export function keyOfRecordName(name: string): string | undefined {
	const encoded = RECORD_NAME.exec(name)?.[1];
	if (encoded === undefined || encoded.includes('~')) return undefined;
	const key = encoded.replace(/_([0-9a-f]{4})/g, (_, hex: string) =>
		String.fromCharCode(Number.parseInt(hex, 16)),
	);
	// Only the one encoding encodeKey makes: `_` not followed by four hex digits is none.
	return encodeKey(key) === encoded ? key : undefined;
}

/** `a-z0-9-` as they are, every other UTF-16 unit as `_` and four hex digits; long keys hashed. */
export function encodeKey(key: string): string {
	let encoded = '';
	for (let i = 0; i < key.length; i++) {
		const char = key.charAt(i);
		encoded += /[a-z0-9-]/.test(char)
			? char
			: `_${key.charCodeAt(i).toString(16).padStart(4, '0')}`;
	}
	if (encoded.length <= MAX_ENCODED_LENGTH) return encoded;
	// `~` appears in no short name, so a cut name never equals one.
	const hash = createHash('sha256').update(encoded).digest('hex');
	return `${encoded.slice(0, KEPT_WHEN_CUT)}~${hash}`;
}

/** A name for a file being written, hidden and unique to this writer. */
export function tempNameFor(name: string): string {
	return `.${name}.${randomBytes(8).toString('hex')}.tmp`;
}

/** Where unreadable bytes are moved: `<name>.<problem>-<ms>-<random>`, beside the record. */
export function asideNameFor(name: string, problem: string): string {
	return `${name}.${problem}-${Date.now()}-${randomBytes(3).toString('hex')}`;
}
