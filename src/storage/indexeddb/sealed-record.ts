// What the store must recognise without loading the cipher, which it loads only when encryption is on.

/** How an encrypted record is kept: AES-GCM with a fresh 96-bit IV per write. */
export interface SealedRecord {
	alg: 'A256GCM';
	iv: Uint8Array<ArrayBuffer>;
	ciphertext: ArrayBuffer;
}

export function isSealedRecord(value: unknown): value is SealedRecord {
	return (
		typeof value === 'object' &&
		value !== null &&
		(value as SealedRecord).alg === 'A256GCM' &&
		(value as SealedRecord).iv instanceof Uint8Array &&
		(value as SealedRecord).ciphertext instanceof ArrayBuffer
	);
}

/** Whether a value is a key this cipher can use: 256-bit AES-GCM, allowed to encrypt and decrypt. */
export function isAesGcmKey(value: unknown): value is CryptoKey {
	const key = value as CryptoKey | null;
	return (
		typeof key === 'object' &&
		key !== null &&
		key.algorithm?.name === 'AES-GCM' &&
		(key.algorithm as AesKeyAlgorithm).length === 256 &&
		Array.isArray(key.usages) &&
		key.usages.includes('encrypt') &&
		key.usages.includes('decrypt')
	);
}
