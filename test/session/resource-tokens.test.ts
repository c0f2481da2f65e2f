import { describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { ResourceTokens } from '../../src/session/resource-tokens.js';
import { decodeStoredRecord, encodeStoredRecord } from '../../src/storage/token-store.js';

const now = Date.UTC(2026, 0, 1);
const apiA = 'https://api-a.example';
const apiB = 'https://api-b.example';
const primary = new Token({
	accessToken: 'at-main',
	refreshToken: 'rt-1',
	expiresAt: now + 60_000,
});
const forA = new Token({ accessToken: 'at-a', expiresAt: now + 30_000, scope: ['read'] });

const apis = () =>
	new ResourceTokens(
		new Map([
			[apiA, {}],
			[apiB, { audience: 'aud-b', scope: ['read', 'write'] }],
		]),
	);

describe('the tokens of the resources APIs in the stored record (RFC 8707)', () => {
	it('are kept beside the shared token, without a refresh token, and read back', () => {
		const saved = apis();
		saved.keep(apiA, forA.with({ refreshToken: 'rt-2' }), primary);
		const record = encodeStoredRecord(primary, now);
		saved.encode(record);
		expect(record.version).toBe(1);
		expect(record.resources?.[apiA]).toMatchObject({ access_token: 'at-a', scope: ['read'] });
		expect(record.resources?.[apiA]).not.toHaveProperty('refresh_token');
		const copy = JSON.parse(JSON.stringify(record));
		// Readers that know nothing of resources read the record as before.
		expect(decodeStoredRecord(copy, 'k').token?.refreshToken).toBe('rt-1');
		const loaded = apis();
		loaded.adopt(copy.resources);
		expect(loaded.tokens.get(apiA)?.accessToken).toBe('at-a');
		expect(loaded.tokens.get(apiA)?.expiresAt).toBe(now + 30_000);
	});

	it('a record without resources adds nothing; an unreadable or foreign entry is left out', () => {
		const loaded = apis();
		loaded.adopt(undefined);
		loaded.adopt({
			[apiA]: { access_token: 7 } as never,
			'https://other.example': { access_token: 'at-x' },
		});
		expect(loaded.tokens.size).toBe(0);
		const record = encodeStoredRecord(primary, now);
		loaded.encode(record);
		expect(record).not.toHaveProperty('resources');
	});

	it('a stored token replaces the one held only when it lives longer', () => {
		const loaded = apis();
		loaded.adopt({ [apiA]: { access_token: 'at-new', expires_at: (now + 90_000) / 1000 } });
		loaded.adopt({ [apiA]: { access_token: 'at-old', expires_at: (now + 10_000) / 1000 } });
		expect(loaded.tokens.get(apiA)?.accessToken).toBe('at-new');
	});

	it('a rotated refresh token in an API answer becomes the shared one', () => {
		const [token, shared] = apis().keep(apiA, forA.with({ refreshToken: 'rt-2' }), primary);
		expect(token.refreshToken).toBeUndefined();
		expect(shared?.refreshToken).toBe('rt-2');
		expect(shared?.accessToken).toBe('at-main');
		expect(apis().keep(apiA, forA, primary)[1]).toBe(primary);
	});

	it('each API is asked for with its resource (the origin by default), audience and scope', () => {
		expect(Object.fromEntries(apis().params)).toEqual({
			[apiA]: { resource: apiA, audience: undefined, scope: undefined },
			[apiB]: { resource: undefined, audience: 'aud-b', scope: 'read write' },
		});
	});
});
