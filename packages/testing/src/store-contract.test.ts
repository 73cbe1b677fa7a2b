/** The shared WeftStore contract, run against the default in-memory store. */
import { MemoryStore } from '@weft/core';
import { describeNoticesContract, describeStoreContract } from './store-contract.js';

describeStoreContract('MemoryStore', { create: () => new MemoryStore() });
describeNoticesContract('MemoryStore', { create: () => new MemoryStore() });
