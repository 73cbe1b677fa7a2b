/**
 * The `WorkflowResolver` the registry plugs into its engine: a `workflow` step's `workflow_id` and
 * `workflow_version_id` ("draft" | "latest" | a version id | a number) resolve among the workflows of
 * the app that owns the calling workflow (and of the calling run's app), or else among discoverable
 * workflows — published versions only. A child of the calling workflow's own app sees the parent's
 * variables; another app's workflow is isolated: it sees its owner's variables, never the caller's.
 */
import { CancelledError } from '../errors.js';
import type { ResolvedWorkflow, WorkflowResolver } from '../run/options.js';
import type { Run } from '../run/types.js';
import { findOwnWorkflow, targetOf } from './access.js';
import type { VersionRef } from './client.js';
import type { RegistryContext } from './context.js';
import { archived, workflowNotFound } from './errors.js';
import { waitRun } from './wait.js';

export function createResolver(
  context: () => RegistryContext,
  fallback?: WorkflowResolver,
): WorkflowResolver {
  return {
    async resolve(reference): Promise<ResolvedWorkflow> {
      const ctx = context();
      const home =
        (reference.run_id === undefined ? undefined : ctx.recorder.workflowAppOf(reference.run_id)) ?? null;
      // The short form of a custom id names a workflow of the calling workflow's app, or of the run's.
      let workflow = await ctx.store.getWorkflow(reference.workflow_id);
      for (const app of [home, reference.app_id]) {
        if (workflow !== null || app === null) break;
        workflow = await findOwnWorkflow(ctx, app, reference.workflow_id);
      }
      if (workflow === null) {
        if (fallback !== undefined) return fallback.resolve(reference);
        throw workflowNotFound(reference.workflow_id);
      }
      const own = workflow.app_id === home || workflow.app_id === reference.app_id;
      if (!own && (!workflow.discoverable || workflow.archived_at !== null)) {
        throw workflowNotFound(reference.workflow_id);
      }
      if (workflow.archived_at !== null) throw archived(workflow.id);
      const target = await targetOf(ctx, workflow, reference.workflow_version_id as VersionRef, own);
      const resolved: ResolvedWorkflow = {
        document: target.document,
        workflow_id: workflow.id,
        app_id: workflow.app_id,
        version: target.version,
        draft: target.draft,
        foreign: workflow.app_id !== reference.app_id,
      };
      // The parent's variables are those of its workflow's app (start.ts): a child of that same app shares them.
      if (home !== null && workflow.app_id !== home) {
        resolved.isolated = true;
        resolved.variables = (await ctx.store.listVariables(workflow.app_id)).map((v) => ({
          key: v.key,
          value: v.value,
          secret: v.secret,
        }));
      }
      return resolved;
    },

    /**
     * A child run an interrupted `workflow` step started: resumed here if nobody holds it (resuming the
     * parent resumes the child it waits for, even in a Weft that does not recover on its own), then
     * waited for. Null when the store has no such run (the crash came before its first append).
     */
    async attach(runId: string, signal: AbortSignal): Promise<Run | null> {
      const ctx = context();
      if (!ctx.recorder.isActive(runId)) {
        if ((await ctx.store.getLease(runId)) === null) return null;
        await ctx.recovery.resumeOne(runId);
      }
      let stop: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        stop = () =>
          reject(
            new CancelledError(`Stopped waiting for sub-workflow run ${runId}: the step was cancelled.`, {
              details: { run_id: runId },
            }),
          );
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
      });
      try {
        return (await Promise.race([waitRun(ctx, runId), aborted])) as Run;
      } finally {
        signal.removeEventListener('abort', stop!);
      }
    },
  };
}
