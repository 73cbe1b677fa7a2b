/**
 * Who this Weft is in its store: an owner id, and how long the leases it takes last
 * (docs/durability.md, "Leases"). Every run this process executes is owned by it — inserted owned, its
 * lease extended by every journal append and by a heartbeat — so that another process can tell a live
 * run from one whose process died, and resume only the latter.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { invalidArgument } from '../errors.js';
import type { Clock } from '../run/options.js';
import { checkOwnerId } from '../store/journal.js';

export interface OwnerOptions {
  /**
   * This Weft's owner id in the store. Default: `weft:<host>:<pid>:<random>`, new for every `createWeft`.
   * A stable id (say, per machine) lets a restarted process take its own runs back at once, without
   * waiting for their leases to end — two live Wefts must then never share it.
   */
  id?: string;
  /**
   * How long a lease lasts without renewal: how long the runs of a process that died wait before
   * another process may resume them. Default 15,000 ms.
   */
  leaseMs?: number;
  /** How often the leases of the runs this Weft executes are renewed. Default `leaseMs / 3`. */
  heartbeatMs?: number;
}

export const DEFAULT_LEASE_MS = 15_000;

export class Ownership {
  readonly id: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly #clock: Clock;
  /** When a heartbeat last renewed this owner's leases (clock ms): appends renew first after a long pause. */
  lastRenewal: number;

  constructor(options: OwnerOptions | undefined, clock: Clock) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw invalidArgument('owner', 'an object { id?, leaseMs?, heartbeatMs? }', options);
    }
    this.id =
      options?.id === undefined
        ? `weft:${hostname()}:${process.pid}:${randomUUID()}`
        : checkOwnerId(options.id, 'owner.id');
    const leaseMs = options?.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(Number.isInteger(leaseMs) && leaseMs >= 30 && leaseMs <= 86_400_000)) {
      throw invalidArgument('owner.leaseMs', 'a whole number of milliseconds from 30 to 86,400,000', leaseMs);
    }
    const heartbeatMs = options?.heartbeatMs ?? Math.floor(leaseMs / 3);
    if (!(Number.isInteger(heartbeatMs) && heartbeatMs >= 10 && heartbeatMs < leaseMs)) {
      throw invalidArgument(
        'owner.heartbeatMs',
        `a whole number of milliseconds from 10 to less than owner.leaseMs (${leaseMs})`,
        heartbeatMs,
      );
    }
    this.leaseMs = leaseMs;
    this.heartbeatMs = heartbeatMs;
    this.#clock = clock;
    this.lastRenewal = clock.now();
  }

  /** The clock's now (ISO): the `now` of every lease check. */
  now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  /** The end of a lease taken or renewed now. */
  until(): string {
    return new Date(this.#clock.now() + this.leaseMs).toISOString();
  }

  /** Every lease held was renewed just now. */
  markRenewed(): void {
    this.lastRenewal = this.#clock.now();
  }

  /** Whether this owner's leases may have ended without a heartbeat noticing (the process was paused). */
  stale(): boolean {
    return this.#clock.now() - this.lastRenewal > this.leaseMs - this.heartbeatMs;
  }
}
