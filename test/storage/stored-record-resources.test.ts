import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors/index.js';
import { Token } from '../../src/protocol/token.js';
import { decodeStoredRecord, encodeStoredRecord } from '../../src/storage/token-store.js';

const now = Date.UTC(2026, 0, 1);
const primary = new Token({
	accessToken: 'at-main',
	refreshToken: 'rt-1',
	expiresAt: now + 60_000,
});
const forA = new Token({ accessToken: 'at-a', expiresAt: now + 30_000, scope: ['read'] });

describe('the stored record with the tokens of other resources (RFC 8707)', () => {
	it('keeps each resource token beside the shared one, and reads them back', () => {
		const record = encodeStoredRecord(primary, now, {
			resources: new Map([['https://api-a.example', forA]]),
		});
		expect(record.version).toBe(1);
		expect(record.resources).toEqual({
			'https://api-a.example': expect.objectContaining({ access_token: 'at-a', scope: ['read'] }),
		});
		const decoded = decodeStoredRecord(JSON.parse(JSON.stringify(record)), 'k');
		expect(decoded.token.refreshToken).toBe('rt-1');
		expect(decoded.resources.get('https://api-a.example')?.accessToken).toBe('at-a');
		expect(decoded.resources.get('https://api-a.example')?.expiresAt).toBe(now + 30_000);
	});

	it('a record without resources (written before, or by an older version) still reads', () => {
		const record = encodeStoredRecord(primary, now);
		expect(record).not.toHaveProperty('resources');
		expect(decodeStoredRecord(record, 'k').resources.size).toBe(0);
	});

	it('a resource entry that is not a token is a corrupt record, named by key only', () => {
		const record = { ...encodeStoredRecord(primary, now), resources: { a: { access_token: 7 } } };
		const error = (() => {
			try {
				decodeStoredRecord(record, 'k');
			} catch (caught) {
				return caught;
			}
		})();
		expect(error).toBeInstanceOf(StorageError);
		expect(error).toMatchObject({ problem: 'corrupt', key: 'k' });
		expect(String((error as Error).message)).not.toContain('at-main');
	});
});
