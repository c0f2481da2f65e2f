/**
 * FileStore.close(): once it resolves, the store holds no file of its directory open, so the
 * directory can go (a tmpfs unmounted, a volume detached) right after it.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { Token } from '../../src/protocol/token.js';
import { FileStore } from '../../src/storage/file.js';
import { encodeStoredRecord } from '../../src/storage/token-store.js';

const gate = vi.hoisted(() => ({
	/** While set, a read of a record (opened with numeric flags) waits for it after its open. */
	held: undefined as Promise<void> | undefined,
	/** Called once such a read holds its file open. */
	onHeld: undefined as (() => void) | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
	const real = await importOriginal<typeof import('node:fs/promises')>();
	const open: typeof real.open = async (path, flags, mode) => {
		const handle = await real.open(path, flags, mode);
		const held = gate.held;
		if (held === undefined || typeof flags !== 'number' || !String(path).endsWith('.json')) {
			return handle;
		}
		return new Proxy(handle, {
			get(target, property) {
				const value = Reflect.get(target, property, target);
				if (property !== 'stat') return typeof value === 'function' ? value.bind(target) : value;
				return async () => {
					gate.onHeld?.();
					await held;
					return target.stat();
				};
			},
		});
	};
	return { ...real, open, default: { ...real, open } };
});

const dirs: string[] = [];
afterEach(async () => {
	gate.held = undefined;
	gate.onHeld = undefined;
	await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The files of `dir` this process has open, from /proc. */
const openIn = (dir: string) =>
	readdirSync('/proc/self/fd')
		.map((fd) => {
			try {
				return readlinkSync(`/proc/self/fd/${fd}`);
			} catch {
				return '';
			}
		})
		.filter((target) => target.startsWith(`${dir}/`));

const subscriptions = {
	subscribe: (store: FileStore) => store.subscribe('k', () => {}),
	subscribeAll: (store: FileStore) => store.subscribeAll(() => {}),
};

it
	.skipIf(process.platform !== 'linux')
	.each(Object.keys(subscriptions) as (keyof typeof subscriptions)[])(
	'close() resolves once a read its %s had under way has closed its file',
	async (subscription) => {
		const dir = await mkdtemp(join(tmpdir(), 'file-close-'));
		dirs.push(dir);
		const store = new FileStore({ dir });
		subscriptions[subscription](store);
		let release = () => {};
		gate.held = new Promise<void>((resolve) => {
			release = resolve;
		});
		const holding = new Promise<void>((resolve) => {
			gate.onHeld = resolve;
		});
		// The write tells the subscription, which reads the record back.
		await store.set('k', encodeStoredRecord(new Token({ accessToken: 'a' })));
		await holding;
		expect(openIn(dir)).toHaveLength(1);
		const closing = store.close();
		release();
		await closing;
		expect(openIn(dir)).toEqual([]);
	},
);
