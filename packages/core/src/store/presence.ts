/**
 * Worker presence: an optional part of a store shared by workers (docs/durability.md, "Workers"). An idle
 * worker holds no lease, so without it a client cannot tell "no worker runs on this store" from "every
 * worker is busy". A worker announces itself when it opens and at every poll, each time until a lease
 * from now; it withdraws when it stops claiming (close, suspend). A worker killed outright stays counted
 * until its last announcement runs out — as long as its runs' leases.
 */
import { checkOwnerId, checkTime } from './journal.js';

export interface StorePresence {
  /** Worker `ownerId` is alive and claiming until `until` (ISO; later calls move it). */
  announceWorker(ownerId: string, until: string): Promise<void>;
  /** Worker `ownerId` no longer claims (a no-op when unknown). */
  withdrawWorker(ownerId: string): Promise<void>;
  /** How many workers announced an `until` at or after `now` (ISO). */
  countWorkers(now: string): Promise<number>;
}

export function hasPresence<S extends object>(store: S): store is S & StorePresence {
  const candidate = store as Partial<StorePresence>;
  return (
    typeof candidate.announceWorker === 'function' &&
    typeof candidate.withdrawWorker === 'function' &&
    typeof candidate.countWorkers === 'function'
  );
}

/** The arguments of `announceWorker`, checked (stores share it). */
export function checkAnnounce(ownerId: unknown, until: unknown): { ownerId: string; until: string } {
  return { ownerId: checkOwnerId(ownerId, 'ownerId'), until: checkTime(until, 'until') };
}
