/** Workers against the default in-memory store (one store object shared by every Weft: one "database"). */
import { MemoryStore } from '@weft/core';
import { describeWorkers } from './worker-contract.js';

describeWorkers('MemoryStore', { create: () => new MemoryStore() });
