/** A run's input is its own, on the default in-memory store (one store object shared by every Weft). */
import { MemoryStore } from '@weft/core';
import { describeRunInputOwnership } from './input-contract.js';

describeRunInputOwnership('MemoryStore', { create: () => new MemoryStore() });
