/**
 * The handle `engine.start` returns: one object per run whose methods live on the prototype (no closures
 * made per run), which also carries what the engine keeps per run — the runner, the run's nesting depth
 * and its start variables — in private fields. Internal: the public type is `RunHandle` (handle.ts).
 *
 * Why fields and not WeakMaps keyed by handle or runner: V8's scavenger treats the value of a WeakMap
 * entry as live while its key is young, so a WeakMap from handle to runner made every finished run
 * survive its first scavenges and be promoted to the old generation (its runner, state, records and
 * outputs), to be freed only by a full GC: 16 of W2's 31 µs CPU per 10-step run were that garbage
 * collection (docs/performance.md, "Per-run cost").
 */
import { optionalString } from '../arguments.js';
import type { SafeEmitter } from '../events/events.js';
import type { CancelResult, RunHandle } from './handle.js';
import type { Runner } from './runner.js';
import type { Run } from './types.js';
import type { Variable } from './variables.js';

type BoundMethods = Pick<RunHandle, 'snapshot' | 'on' | 'off' | 'cancel'>;

export class EngineRunHandle implements RunHandle {
  readonly id: string;
  readonly done: Promise<Run>;
  readonly #runner: Runner;
  readonly #events: SafeEmitter;
  readonly #active: Map<string, RunHandle>;
  /** How deep the run is nested: 0 for a run started by the caller, a parent's depth + 1 for a child. */
  readonly #depth: number;
  /** The variables it was started with (a `workflow` step hands them to its child). */
  readonly #variables: readonly Variable[];
  #bound: BoundMethods | undefined = undefined;

  constructor(
    runner: Runner,
    events: SafeEmitter,
    active: Map<string, RunHandle>,
    depth: number,
    variables: readonly Variable[],
  ) {
    this.id = runner.id;
    this.done = runner.done;
    this.#runner = runner;
    this.#events = events;
    this.#active = active;
    this.#depth = depth;
    this.#variables = variables;
  }

  // The methods are getters handing out functions bound to this handle, made on the first read: a caller
  // may take them off the handle (`const { done, cancel } = engine.start(doc)`), as with the closures a
  // handle used to carry, while a run whose methods nobody reads (engine.run) allocates none of them.
  get snapshot(): () => Run {
    return this.#methods().snapshot;
  }

  get on(): RunHandle['on'] {
    return this.#methods().on;
  }

  get off(): RunHandle['off'] {
    return this.#methods().off;
  }

  get cancel(): (reason?: string) => Promise<CancelResult> {
    return this.#methods().cancel;
  }

  #methods(): BoundMethods {
    if (this.#bound === undefined) this.#bound = this.#bind();
    return this.#bound;
  }

  #bind(): BoundMethods {
    return {
      snapshot: () => this.#runner.snapshot(),
      on: (event, listener) => {
        this.#events.on(event, listener);
        return this;
      },
      off: (event, listener) => {
        this.#events.off(event, listener);
        return this;
      },
      cancel: (reason) => this.#cancel(reason),
    };
  }

  async #cancel(reason?: string): Promise<CancelResult> {
    optionalString(reason, 'reason');
    const runner = this.#runner;
    const id = this.id;
    if (!runner.cancel(reason)) {
      const status = runner.snapshot().status;
      return {
        cancelled: false,
        status,
        message: `Run ${id} has already ended (${status}); there was nothing to cancel.`,
      };
    }
    const run = await runner.done;
    return { cancelled: true, status: run.status, message: `Run ${id} was cancelled.` };
  }

  /** The run is over for the engine: no longer active, its listeners gone. */
  ended(): void {
    this.#active.delete(this.id);
    this.#events.removeAllListeners();
  }

  /** The run never began (its journal could not be folded): it is not active. */
  forget(): void {
    this.#active.delete(this.id);
  }

  /** The runner behind a handle this engine made, else undefined. */
  static runnerOf(handle: RunHandle): Runner | undefined {
    return #runner in handle ? (handle as EngineRunHandle).#runner : undefined;
  }

  static depthOf(handle: EngineRunHandle): number {
    return handle.#depth;
  }

  static variablesOf(handle: EngineRunHandle): readonly Variable[] {
    return handle.#variables;
  }
}
