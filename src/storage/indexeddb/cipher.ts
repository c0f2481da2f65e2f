import { get, type UseStore } from 'idb-keyval';
import { StorageError } from '../../errors/storage-error.js';
import type { StoredRecord } from '../token-store.js';
import { isAesGcmKey, type SealedRecord } from './sealed-record.js';
import { readModifyWrite } from './transaction.js';

/** Where a generated key is kept: an array key, so it can never collide with a record's string key. */
const KEY_SLOT: IDBValidKey = ['encryption-key'];
const IV_BYTES = 12;

/** Encrypts records for one store, with a key given or generated once per database and kept in it. */
export class RecordCipher {
	readonly #useStore: UseStore;
	readonly #given: CryptoKey | undefined;
	#key: Promise<CryptoKey> | undefined;

	constructor(useStore: UseStore, given: CryptoKey | undefined) {
		this.#useStore = useStore;
		this.#given = given;
	}

	async seal(key: string, record: StoredRecord): Promise<SealedRecord> {
		const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
		const plaintext = new TextEncoder().encode(JSON.stringify(record));
		const ciphertext = await crypto.subtle.encrypt(
			{ name: 'AES-GCM', iv, additionalData: boundTo(key) },
			await this.#cryptoKey(),
			plaintext,
		);
		return { alg: 'A256GCM', iv, ciphertext };
	}

	/** @throws {StorageError} `corrupt` when the record does not decrypt with this key. */
	async open(key: string, sealed: SealedRecord): Promise<unknown> {
		const cryptoKey = await this.#cryptoKey();
		let plaintext: ArrayBuffer;
		try {
			plaintext = await crypto.subtle.decrypt(
				{ name: 'AES-GCM', iv: sealed.iv, additionalData: boundTo(key) },
				cryptoKey,
				sealed.ciphertext,
			);
		} catch (error) {
			throw new StorageError(
				`The record under "${key}" does not decrypt with this store's key (another key, or altered bytes)`,
				{ problem: 'corrupt', key },
				{ cause: error },
			);
		}
		try {
			return JSON.parse(new TextDecoder().decode(plaintext));
		} catch (error) {
			throw new StorageError(
				`The record under "${key}" decrypts to no JSON`,
				{ problem: 'corrupt', key },
				{ cause: error },
			);
		}
	}

	#cryptoKey(): Promise<CryptoKey> {
		if (this.#given !== undefined) return Promise.resolve(this.#given);
		this.#key ??= storedKey(this.#useStore).catch((error: unknown) => {
			// A failed open or generation must not stick: the next call tries again.
			this.#key = undefined;
			throw error;
		});
		return this.#key;
	}
}

/**
 * The database's own key: generated non-extractable, so no script can export its bytes, and kept
 * in the database itself (a CryptoKey is structured-cloneable). When two tabs generate one at the
 * same time, the first to write it wins and the other adopts it, in one readwrite transaction.
 */
async function storedKey(useStore: UseStore): Promise<CryptoKey> {
	const existing: unknown = await get(KEY_SLOT, useStore);
	if (isAesGcmKey(existing)) return existing;
	const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
		'encrypt',
		'decrypt',
	]);
	let winner = fresh;
	await readModifyWrite(useStore, KEY_SLOT, (store, current) => {
		if (isAesGcmKey(current)) winner = current;
		else store.put(fresh, KEY_SLOT);
	});
	return winner;
}

/** Binds a ciphertext to its key, so a record copied to another key does not decrypt there. */
function boundTo(key: string): Uint8Array<ArrayBuffer> {
	return new TextEncoder().encode(`oauth2-session:${key}`);
}
