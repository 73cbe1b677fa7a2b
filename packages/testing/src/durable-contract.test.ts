/** Durable runs through the registry, against the default in-memory store. */
import { MemoryStore } from '@weft/core';
import { describeDurableRuns } from './durable-contract.js';

describeDurableRuns('MemoryStore', { create: () => new MemoryStore() });
