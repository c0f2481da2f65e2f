import { MemoryStore } from '../../src/storage/memory.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('MemoryStore', {
	async create() {
		const store = new MemoryStore();
		// Two sessions of one context share the instance: the peer is the same store.
		return { store, peer: store, cleanup: async () => {} };
	},
});
