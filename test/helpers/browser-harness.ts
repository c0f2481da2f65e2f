/**
 * Runs in the browser page (bundled by `browser.ts`): the library's IndexedDBStore and
 * OAuth2Session behind plain functions a Node test calls with `page.evaluate`. Results and
 * errors cross as plain data; CryptoKeys, stores and sessions stay here, named by id.
 */
import { get as idbGet, set as idbSet, createStore as idbStore } from 'idb-keyval';
import { OAuth2Session } from '../../src/session/oauth2-session.js';
import { IndexedDBStore } from '../../src/storage/indexeddb.js';
import type { LockOptions, StoredRecord, TokenStore } from '../../src/storage/token-store.js';

/** An error as plain data. */
export interface PageError {
	name: string;
	message: string;
	problem?: string;
	key?: string;
	cause?: string;
}

export type PageResult<T> = { ok: true; value: T } | { ok: false; error: PageError };

export interface PageStoreOptions {
	databaseName: string;
	objectStoreName?: string;
	channelName?: string;
	/** `true` for a generated key, or the id of a key made by `generateKey`. */
	encryption?: boolean | string;
}

export interface PageSessionOptions {
	storeKey: string;
	origin: string;
	/** A DPoP session of this public client (the embedded oidc-provider's) instead of `app`. */
	dpopClient?: {
		clientId: string;
		authorizationEndpoint: string;
		redirectUri: string;
		scope: string;
		/** Where the session pushes its authorization requests (RFC 9126), if it does. */
		pushedAuthorizationRequestEndpoint?: string;
	};
}

declare global {
	interface Window {
		harness: typeof harness;
		/** Exposed by the Node side: delivers a store notification. */
		oauth2SessionNotify(subscription: number, record: StoredRecord | undefined): Promise<void>;
	}
}

const stores = new Map<number, IndexedDBStore>();
const keys = new Map<string, CryptoKey>();
const held = new Map<number, () => void>();
const requests = new Map<number, Promise<number>>();
const subscriptions = new Map<number, () => void>();
const heldDatabases = new Map<number, IDBDatabase>();
const upgrades = new Map<number, Promise<string>>();
const sessions = new Map<
	number,
	{
		session: OAuth2Session;
		tokenRequests: number;
		storeErrors: { operation: string; error: PageError }[];
		fired?: Promise<number[]>;
	}
>();
let ids = 0;

function asPageError(error: unknown): PageError {
	const e = error as Error & { problem?: string; key?: string };
	return {
		name: e.name,
		message: e.message,
		...(e.problem === undefined ? {} : { problem: e.problem }),
		...(e.key === undefined ? {} : { key: e.key }),
		...(e.cause === undefined ? {} : { cause: String((e.cause as Error)?.name ?? e.cause) }),
	};
}

async function settle<T>(run: () => Promise<T> | T): Promise<PageResult<T>> {
	try {
		return { ok: true, value: await run() };
	} catch (error) {
		return { ok: false, error: asPageError(error) };
	}
}

function storeOf(id: number): IndexedDBStore {
	const store = stores.get(id);
	if (store === undefined) throw new Error(`No store ${id}`);
	return store;
}

function sessionOf(id: number): OAuth2Session {
	const entry = sessions.get(id);
	if (entry === undefined) throw new Error(`No session ${id}`);
	return entry.session;
}

const harness = {
	webLocks: () => 'locks' in navigator,

	/** Makes a key kept in this page, named by the id returned. */
	async generateKey(algorithm: 'AES-GCM' | 'AES-GCM-128' | 'HMAC' = 'AES-GCM'): Promise<string> {
		const key =
			algorithm === 'HMAC'
				? await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
				: await crypto.subtle.generateKey(
						{ name: 'AES-GCM', length: algorithm === 'AES-GCM' ? 256 : 128 },
						false,
						['encrypt', 'decrypt'],
					);
		const id = `key-${++ids}`;
		keys.set(id, key);
		return id;
	},

	createStore: (options: PageStoreOptions) =>
		settle(() => {
			const { encryption, ...names } = options;
			const store = new IndexedDBStore({
				...names,
				encryption:
					typeof encryption === 'string'
						? { key: keys.get(encryption) as CryptoKey }
						: (encryption ?? false),
			});
			const id = ++ids;
			stores.set(id, store);
			return { id, lockKind: store.lockKind };
		}),

	call: (id: number, method: 'get' | 'set' | 'delete' | 'close', args: unknown[]) =>
		settle(() =>
			(storeOf(id)[method] as (...a: unknown[]) => Promise<unknown>).apply(storeOf(id), args),
		),

	/**
	 * Asks for the store's lock, to be held until `release(lockId)`. Resolves once the request is
	 * queued (a Web Lock request, or the lease's first transaction), before it is granted:
	 * `acquired(lockId)` waits for that.
	 */
	requestLock(id: number, key: string, options: LockOptions): Promise<number> {
		const lockId = ++ids;
		const granted = new Promise<number>((acquired, failed) => {
			storeOf(id)
				.lock(
					key,
					() =>
						new Promise<void>((release) => {
							held.set(lockId, release);
							acquired(lockId);
						}),
					options,
				)
				.catch(failed);
		});
		// Unhandled until acquired() is called; the rejection is read there.
		granted.catch(() => {});
		requests.set(lockId, granted);
		return new Promise((resolve) => setTimeout(() => resolve(lockId), 0));
	},

	acquired: (lockId: number) =>
		settle(() => {
			const granted = requests.get(lockId);
			requests.delete(lockId);
			return granted ?? Promise.reject(new Error(`No lock request ${lockId}`));
		}),

	release(lockId: number): void {
		held.get(lockId)?.();
		held.delete(lockId);
	},

	subscribe(id: number, key: string, subscription: number): void {
		const unsubscribe = storeOf(id).subscribe(key, (record) => {
			void window.oauth2SessionNotify(subscription, record);
		});
		subscriptions.set(subscription, unsubscribe);
	},

	unsubscribe(subscription: number): void {
		subscriptions.get(subscription)?.();
		subscriptions.delete(subscription);
	},

	/**
	 * The value under `key` as IndexedDB holds it, as plain data: binary fields as hex, a
	 * CryptoKey as its properties, and `text`: every string and byte of it, to search for secrets.
	 */
	async raw(databaseName: string, objectStoreName: string, key: IDBValidKey) {
		const value: unknown = await idbGet(key, idbStore(databaseName, objectStoreName));
		if (value instanceof CryptoKey) {
			const { extractable, usages, algorithm } = value;
			return { value: { extractable, usages, algorithm: algorithm.name }, text: '' };
		}
		if (typeof value !== 'object' || value === null) return { value, text: String(value) };
		let text = JSON.stringify(value);
		const described: Record<string, unknown> = {};
		for (const [name, field] of Object.entries(value)) {
			if (field instanceof ArrayBuffer || ArrayBuffer.isView(field)) {
				const bytes = new Uint8Array(field instanceof ArrayBuffer ? field : field.buffer);
				text += new TextDecoder('latin1').decode(bytes);
				described[name] = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
			} else {
				described[name] = field;
			}
		}
		return { value: described, text };
	},

	putRaw: (databaseName: string, objectStoreName: string, key: IDBValidKey, value: unknown) =>
		idbSet(key, value, idbStore(databaseName, objectStoreName)),

	async copyRaw(databaseName: string, objectStoreName: string, from: string, to: string) {
		const store = idbStore(databaseName, objectStoreName);
		await idbSet(to, await idbGet(from, store), store);
	},

	/**
	 * Opens the database at its version and keeps the connection, deaf to `versionchange`: other
	 * code of the origin that blocks upgrades and deletes until `closeHeld(id)`.
	 */
	async holdOpen(databaseName: string): Promise<number> {
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const request = indexedDB.open(databaseName);
			request.onsuccess = () => resolve(request.result);
			request.onerror = () => reject(request.error);
		});
		const id = ++ids;
		heldDatabases.set(id, db);
		return id;
	},

	closeHeld(id: number): void {
		heldDatabases.get(id)?.close();
		heldDatabases.delete(id);
	},

	/** Asks for an upgrade to `version` and returns at once; `upgraded(id)` waits for it. */
	requestUpgrade(databaseName: string, version: number): number {
		const id = ++ids;
		const request = indexedDB.open(databaseName, version);
		upgrades.set(
			id,
			new Promise((resolve, reject) => {
				request.onsuccess = () => {
					request.result.close();
					resolve('upgraded');
				};
				request.onerror = () => reject(request.error);
			}),
		);
		return id;
	},

	upgraded: (id: number) => upgrades.get(id),

	/** Deletes a database: `'deleted'`, or `'blocked'` when an open connection holds it up. */
	deleteDatabase: (databaseName: string) =>
		new Promise<string>((resolve, reject) => {
			const request = indexedDB.deleteDatabase(databaseName);
			request.onblocked = () => resolve('blocked');
			request.onsuccess = () => resolve('deleted');
			request.onerror = () => reject(request.error);
		}),

	/** Makes a database whose object store is missing: every store operation on it fails. */
	async breakDatabase(databaseName: string): Promise<void> {
		await new Promise<void>((resolve, reject) => {
			const request = indexedDB.open(databaseName, 1);
			request.onsuccess = () => {
				request.result.close();
				resolve();
			};
			request.onerror = () => reject(request.error);
		});
	},

	createSession(storeId: number, options: PageSessionOptions): number {
		const id = ++ids;
		const entry: {
			session: OAuth2Session;
			tokenRequests: number;
			storeErrors: { operation: string; error: PageError }[];
		} = {
			tokenRequests: 0,
			storeErrors: [],
			session: new OAuth2Session({
				...(options.dpopClient === undefined
					? { clientId: 'app', clientSecret: 's3cret' }
					: { ...options.dpopClient, dpop: true }),
				tokenEndpoint: `${options.origin}/token`,
				allowedOrigins: [options.origin],
				store: storeOf(storeId) as TokenStore,
				storeKey: options.storeKey,
				proactiveRefresh: false,
				fetch: (input, init) => {
					if (new URL(String(input instanceof Request ? input.url : input)).pathname === '/token') {
						entry.tokenRequests++;
					}
					return fetch(input, init);
				},
			}),
		};
		entry.session.on('storeError', ({ error, operation }) => {
			entry.storeErrors.push({ operation, error: asPageError(error) });
		});
		sessions.set(id, entry);
		return id;
	},

	/** The `storeError` events the session emitted so far, as plain data. */
	storeErrors: (id: number) => sessions.get(id)?.storeErrors ?? [],

	/** One request through the session: its status, or 0 when it failed. */
	fetchStatus: (id: number, url: string) =>
		sessions
			.get(id)
			?.session.fetch(url)
			.then(
				(response) => response.status,
				() => 0,
			),

	/**
	 * Writes incompressible filler into its own database, in ever smaller values, until the
	 * browser refuses even a small one: the origin's quota is then used up. Returns the bytes
	 * written and the name of the error the last write failed with (`''` when `limit` bytes went
	 * in without one: no small quota applies).
	 */
	async fillQuota(
		databaseName: string,
		limit = 8 * 1024 * 1024,
	): Promise<{ bytes: number; refused: string }> {
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const request = indexedDB.open(databaseName, 1);
			request.onupgradeneeded = () => request.result.createObjectStore('filler');
			request.onsuccess = () => resolve(request.result);
			request.onerror = () => reject(request.error);
		});
		let bytes = 0;
		let refused = '';
		for (let size = 64 * 1024; size >= 64; size /= 2) {
			while (bytes < limit) {
				const value = new Uint8Array(size);
				// Random bytes do not compress, so each takes its size; getRandomValues fills at most 64 KiB.
				crypto.getRandomValues(value);
				const error = await new Promise<DOMException | null>((resolve) => {
					const tx = db.transaction('filler', 'readwrite');
					tx.objectStore('filler').put(value, bytes);
					tx.oncomplete = () => resolve(null);
					tx.onabort = () => resolve(tx.error);
				});
				if (error !== null) {
					refused = error.name;
					break;
				}
				bytes += size;
			}
		}
		db.close();
		return { bytes, refused };
	},

	async sessionState(id: number) {
		const entry = sessions.get(id);
		if (entry === undefined) throw new Error(`No session ${id}`);
		await entry.session.ready;
		return {
			accessToken: entry.session.token?.accessToken,
			tokenRequests: entry.tokenRequests,
		};
	},

	/** Starts a sign-in: the authorization URL, for the Node side to approve. */
	async authorizationUrl(id: number): Promise<string> {
		return (await sessionOf(id).authorizationUrl()).url;
	},

	/** Starts a sign-in another page ends: the URL, and what the callback is checked with. */
	async startSignIn(id: number): Promise<{ url: string; state: string; codeVerifier?: string }> {
		const { url, state, codeVerifier } = await sessionOf(id).authorizationUrl();
		return { url, state, ...(codeVerifier === undefined ? {} : { codeVerifier }) };
	},

	/** Ends the sign-in with the redirect the server answered (begun in another page: `pending`). */
	signIn: (
		id: number,
		authorizationResponse: string,
		issuer: string,
		pending: { state?: string | undefined; codeVerifier?: string | undefined } = {},
	) =>
		settle(async () => {
			await sessionOf(id).fetchToken({ authorizationResponse, issuer, ...pending });
		}),

	dpopThumbprint: (id: number) => sessionOf(id).dpopThumbprint(),

	closeSession(id: number): void {
		sessionOf(id).close();
		sessions.delete(id);
	},

	/** Makes the stored access token expired, keeping all else (a DPoP key, by structured clone). */
	async expireStoredToken(storeId: number, key: string): Promise<void> {
		const record = (await storeOf(storeId).get(key)) as StoredRecord;
		if (record.token === undefined) throw new Error(`No token stored under ${key}`);
		await storeOf(storeId).set(key, {
			...record,
			token: { ...record.token, expires_at: Date.now() / 1000 - 1, expires_in: -1 },
		});
	},

	/** Readies `count` requests that all leave when `go()` is called in any page of the origin. */
	arm(id: number, count: number, origin: string): void {
		const entry = sessions.get(id);
		if (entry === undefined) throw new Error(`No session ${id}`);
		const gate = new BroadcastChannel('harness-gate');
		const released = new Promise<void>((resolve) => {
			gate.onmessage = () => {
				gate.close();
				resolve();
			};
		});
		entry.fired = released.then(() =>
			Promise.all(
				Array.from({ length: count }, (_, i) =>
					entry.session.fetch(`${origin}/api/item/${i}`).then(
						(response) => response.status,
						() => 0,
					),
				),
			),
		);
	},

	go(): void {
		const gate = new BroadcastChannel('harness-gate');
		gate.postMessage('go');
		gate.close();
	},

	statuses(id: number): Promise<number[]> | undefined {
		return sessions.get(id)?.fired;
	},
};

window.harness = harness;
