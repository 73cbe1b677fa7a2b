/** Workers against the default in-memory store (one store object shared by every Weft: one "database"). */
import { MemoryStore } from '@weft/core';
import { describeCancelledElsewhere, describePresenceContract, describeWorkers } from './worker-contract.js';

describeWorkers('MemoryStore', { create: () => new MemoryStore() });
describePresenceContract('MemoryStore', { create: () => new MemoryStore() });
describeCancelledElsewhere('MemoryStore', { create: () => new MemoryStore() });
