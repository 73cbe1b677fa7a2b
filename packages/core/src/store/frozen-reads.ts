/**
 * Frozen workflow reads: an optional part of a store for readers that never change what they read — the
 * registry's start path (`runs.run`). A run pins its workflow's draft, so a draft read as a new object
 * per run is parsed, matched against the plan cache by content, serialised into the run row and copied
 * into the foreground answer, every run. The same deep-frozen object for every read of one stored
 * content is found by identity instead (docs/durability.md, "How the registry uses it").
 *
 * `getWorkflow` is unchanged (a copy that is the caller's to change): `workflows.get` keeps returning it.
 */
import type { Workflow } from './types.js';

export interface FrozenWorkflowReads {
  /**
   * The workflow as `getWorkflow` returns it, but deep-frozen, and the same object for as long as the
   * stored workflow does not change (a changed workflow, here or in another process sharing the store,
   * is read afresh). Null when there is no such workflow.
   */
  getFrozenWorkflow(id: string): Promise<Workflow | null>;
}

export function hasFrozenWorkflowReads<S extends object>(store: S): store is S & FrozenWorkflowReads {
  return typeof (store as Partial<FrozenWorkflowReads>).getFrozenWorkflow === 'function';
}

/** At most this many frozen workflows are kept per store (the least recently read go first). */
export const MAX_FROZEN_WORKFLOWS = 256;
