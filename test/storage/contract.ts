/**
 * The contract every token store passes. A store's test file calls `describeStoreContract` with a
 * factory; stores with `lock`, `subscribe` and `subscribeAll` are held to those parts too.
 */
import { describe, expect, it } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import {
	encodeKeyRecord,
	encodeStoredRecord,
	STORED_RECORD_VERSION,
	type StoredRecord,
	setIfUnchanged,
	type TokenStore,
} from '../../src/storage/token-store.js';

export interface StoreFactory {
	/** A fresh store, and a second handle on the same storage (another tab, process or client). */
	create(): Promise<{ store: TokenStore; peer: TokenStore; cleanup(): Promise<void> }>;
}

/** A record of a token good for a minute, whose refresh token is `r-<accessToken>`. */
export const record = (accessToken: string): StoredRecord =>
	encodeStoredRecord(
		new Token({
			accessToken,
			refreshToken: `r-${accessToken}`,
			expiresAt: Date.now() + 60_000,
			scope: ['a'],
		}),
	);

/** Takes the lock in the background and resolves once the holder is inside it. */
function holding(
	store: TokenStore,
	hold: () => Promise<unknown>,
	options: { ttl: number; waitTimeout: number },
): Promise<void> {
	return new Promise((inside) => {
		void store.lock?.(
			'k',
			() => {
				inside();
				return hold();
			},
			options,
		);
	});
}

export function describeStoreContract(name: string, factory: StoreFactory): void {
	describe(`${name}: TokenStore contract`, () => {
		it('get of a missing key is undefined', async () => {
			const { store, cleanup } = await factory.create();
			expect(await store.get('missing')).toBeUndefined();
			await cleanup();
		});

		it('set then get returns an equal record, seen by the peer too', async () => {
			const { store, peer, cleanup } = await factory.create();
			const value = record('one');
			await store.set('k', value);
			expect(await store.get('k')).toEqual(value);
			expect(await peer.get('k')).toEqual(value);
			await cleanup();
		});

		it('set replaces, delete removes, keys are independent', async () => {
			const { store, cleanup } = await factory.create();
			await store.set('a', record('one'));
			await store.set('b', record('two'));
			await store.set('a', record('three'));
			expect((await store.get('a'))?.token?.access_token).toBe('three');
			await store.delete('a');
			expect(await store.get('a')).toBeUndefined();
			expect((await store.get('b'))?.token?.access_token).toBe('two');
			await store.delete('never-there');
			await cleanup();
		});

		it('a record read back cannot be changed by changing what was written', async () => {
			const { store, cleanup } = await factory.create();
			const value = record('one');
			await store.set('k', value);
			if (value.token !== undefined) value.token.access_token = 'changed';
			expect((await store.get('k'))?.token?.access_token).toBe('one');
			await cleanup();
		});

		it('set refuses to write over a record of a newer schema version, which stays', async () => {
			const { store, peer, cleanup } = await factory.create();
			const newer = { ...record('newer'), version: STORED_RECORD_VERSION + 1 };
			await store.set('k', newer as unknown as StoredRecord);
			for (const writer of [store, peer]) {
				await expect(writer.set('k', record('older'))).rejects.toMatchObject({
					name: 'StorageError',
					problem: 'unsupported-version',
					key: 'k',
				});
			}
			// A store may hand the newer record back as it is, or refuse to read it; never the older.
			const after = await peer.get('k').catch((error: unknown) => error);
			if (after instanceof Error) expect(after).toMatchObject({ problem: 'unsupported-version' });
			else expect(after).toMatchObject({ version: STORED_RECORD_VERSION + 1 });
			// Deleting stays possible: a logout is the user's call.
			await peer.delete('k');
			await store.set('k', record('older'));
			expect((await peer.get('k'))?.token?.access_token).toBe('older');
			await cleanup();
		});

		it('a conditional write lands over the record it replaces, its own or none, never over another', async () => {
			const { store, peer, cleanup } = await factory.create();
			const lock = { ttl: 5_000, waitTimeout: 5_000 };
			const write = (value: StoredRecord, replaces: string | undefined) =>
				setIfUnchanged(store, 'k', value, replaces, lock);
			// None there and none replaced: a first sign-in.
			expect(await write(record('one'), undefined)).toBe(true);
			expect(await write(record('two'), 'one')).toBe(true);
			// Its own: an earlier try that landed after it was given up on.
			expect(await write(record('two'), 'one')).toBe(true);
			expect((await peer.get('k'))?.token?.access_token).toBe('two');
			// Another context wrote meanwhile: left as it is.
			await peer.set('k', record('theirs'));
			expect(await write(record('mine'), 'two')).toBe(false);
			expect(await write(record('mine'), undefined)).toBe(false);
			expect((await peer.get('k'))?.token?.access_token).toBe('theirs');
			// Deleted meanwhile (a logout in another context): the delete wins over a replay.
			await peer.delete('k');
			expect(await write(record('mine'), 'theirs')).toBe(false);
			expect(await peer.get('k')).toBeUndefined();
			// A first sign-in after it still lands.
			expect(await write(record('fresh'), undefined)).toBe(true);
			expect((await peer.get('k'))?.token?.access_token).toBe('fresh');
			const newer = { ...record('newer'), version: STORED_RECORD_VERSION + 1 };
			await peer.delete('k');
			await peer.set('k', newer as unknown as StoredRecord);
			expect(await write(record('newer'), 'newer').catch((error: unknown) => error)).not.toBe(true);
			await cleanup();
		});

		it('a record of a DPoP key alone goes only where none is, and gives way to the first token with that key only', async () => {
			const { store, peer, cleanup } = await factory.create();
			const lock = { ttl: 5_000, waitTimeout: 5_000 };
			// JSON, as every store keeps it (the private key's members are not checked here).
			const dpop = (jkt: string) => ({ jkt, privateJwk: { kty: 'EC', crv: 'P-256', d: jkt } });
			const withKey = (accessToken: string, jkt: string) =>
				encodeStoredRecord(new Token({ accessToken, expiresAt: Date.now() + 60_000 }), Date.now(), {
					dpop: dpop(jkt),
				});
			const write = (value: StoredRecord, replaces: string | undefined) =>
				setIfUnchanged(store, 'k', value, replaces, lock);
			// A first save: written only where there is no record.
			expect(await write(encodeKeyRecord(dpop('one')), undefined)).toBe(true);
			expect(await write(encodeKeyRecord(dpop('two')), undefined)).toBe(false);
			expect((await peer.get('k'))?.dpop?.jkt).toBe('one');
			// A token bound to another key, or to none, does not replace it: another context's
			// sign-in is bound to it.
			expect(await write(withKey('other', 'two'), undefined)).toBe(false);
			expect(await write(record('plain'), undefined)).toBe(false);
			expect((await peer.get('k'))?.token).toBeUndefined();
			// The first token with that key does (a save replayed once the store is back).
			expect(await write(withKey('first', 'one'), undefined)).toBe(true);
			expect(await peer.get('k')).toMatchObject({
				token: { access_token: 'first' },
				dpop: { jkt: 'one' },
			});
			await cleanup();
		});

		it('lock runs holders one at a time, across handles', async () => {
			const { store, peer, cleanup } = await factory.create();
			if (store.lock === undefined || peer.lock === undefined) return cleanup();
			let inside = 0;
			let most = 0;
			const order: number[] = [];
			const hold = (s: TokenStore, i: number) =>
				s.lock?.(
					'k',
					async () => {
						inside++;
						most = Math.max(most, inside);
						await new Promise((r) => setTimeout(r, 20));
						order.push(i);
						inside--;
						return i;
					},
					{ ttl: 5_000, waitTimeout: 10_000 },
				);
			const results = await Promise.all([0, 1, 2, 3].map((i) => hold(i % 2 ? peer : store, i)));
			expect(results).toEqual([0, 1, 2, 3]);
			expect(most).toBe(1);
			expect(order).toHaveLength(4);
			await cleanup();
		});

		it('lock releases when the holder throws', async () => {
			const { store, cleanup } = await factory.create();
			if (store.lock === undefined) return cleanup();
			await expect(
				store.lock('k', async () => Promise.reject(new Error('boom')), {
					ttl: 5_000,
					waitTimeout: 5_000,
				}),
			).rejects.toThrow('boom');
			expect(await store.lock('k', async () => 'next', { ttl: 5_000, waitTimeout: 5_000 })).toBe(
				'next',
			);
			await cleanup();
		});

		it('a holder that never finishes loses the lock after its ttl', async () => {
			const { store, peer, cleanup } = await factory.create();
			if (store.lock === undefined || peer.lock === undefined) return cleanup();
			await holding(store, () => new Promise(() => {}), { ttl: 200, waitTimeout: 5_000 });
			const started = Date.now();
			expect(await peer.lock('k', async () => 'taken', { ttl: 5_000, waitTimeout: 5_000 })).toBe(
				'taken',
			);
			expect(Date.now() - started).toBeLessThan(4_000);
			await cleanup();
		});

		it('lock waits at most waitTimeout, then fails with a typed error', async () => {
			const { store, peer, cleanup } = await factory.create();
			if (store.lock === undefined || peer.lock === undefined) return cleanup();
			// Held until the peer has given up: a 2 s hold was a deadline a loaded machine could miss,
			// and the peer would then take a free lock.
			let release = () => {};
			const released = new Promise<void>((resolve) => (release = resolve));
			await holding(store, () => released, { ttl: 5_000, waitTimeout: 5_000 });
			await expect(
				peer.lock('k', async () => 'late', { ttl: 5_000, waitTimeout: 100 }),
			).rejects.toMatchObject({
				name: 'StorageError',
				problem: 'lock-timeout',
			});
			release();
			await cleanup();
		});

		it('subscribe tells a handle about writes and deletes made through another', async () => {
			const { store, peer, cleanup } = await factory.create();
			if (store.subscribe === undefined) return cleanup();
			const seen: (string | undefined)[] = [];
			const unsubscribe = store.subscribe('k', (r) => seen.push(r?.token?.access_token));
			await peer.set('k', record('one'));
			await peer.delete('k');
			await peer.set('other', record('two'));
			await expect.poll(() => seen, { timeout: 5_000 }).toEqual(['one', undefined]);
			unsubscribe();
			await peer.set('k', record('three'));
			await new Promise((r) => setTimeout(r, 100));
			expect(seen).toEqual(['one', undefined]);
			await cleanup();
		});

		it('subscribeAll tells a handle about writes and deletes under every key, with the key', async () => {
			const { store, peer, cleanup } = await factory.create();
			if (store.subscribeAll === undefined) return cleanup();
			const seen: [string, string | undefined][] = [];
			// A factory may write keys of its own (a warm-up that waits for the feed to be up).
			const mine = new Set(['a', 'b', 'c']);
			const unsubscribe = store.subscribeAll((key, r) => {
				if (mine.has(key)) seen.push([key, r?.token?.access_token]);
			});
			await peer.set('a', record('one'));
			await peer.set('b', record('two'));
			await peer.delete('a');
			// Each key's changes arrive in order; keys on different Cluster nodes need not.
			const byKey = () => ({
				a: seen.filter(([key]) => key === 'a').map(([, token]) => token),
				b: seen.filter(([key]) => key === 'b').map(([, token]) => token),
			});
			await expect.poll(byKey, { timeout: 5_000 }).toEqual({ a: ['one', undefined], b: ['two'] });
			unsubscribe();
			await peer.set('c', record('three'));
			await new Promise((r) => setTimeout(r, 100));
			expect(seen).toHaveLength(3);
			await cleanup();
		});
	});
}
