/**
 * `workflow` steps: run a sub-workflow, resolved through the engine's `workflows` resolver (the registry,
 * `engine.app(id)`, plugs one in). The child shares the parent's caps and cancellation; its whole usage
 * tree is recorded as one call with nested `calls`. Output: the child's `result`, or the output of its
 * step `step_key` when given.
 */
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import type { ResolvedWorkflow, StartOptions, WorkflowResolver } from '../run/options.js';
import type { Run } from '../run/types.js';
import type { StepContext } from './types.js';

export interface WorkflowStepConfig {
  workflow_id: unknown;
  workflow_version_id?: unknown;
  step_key?: unknown;
  input?: unknown;
}

export interface WorkflowStepDeps {
  resolver: WorkflowResolver | undefined;
  startChild(context: StepContext<any>, resolved: ResolvedWorkflow, options: StartOptions): Promise<Run>;
}

export function workflowStep(deps: WorkflowStepDeps) {
  return async (context: StepContext<WorkflowStepConfig>): Promise<unknown> => {
    const key = context.step.key;
    const { config } = context;
    if (deps.resolver === undefined) {
      throw new WeftError(
        ERROR_CODES.HANDLER_NOT_FOUND,
        `Step "${key}" runs a sub-workflow, but the engine has no workflow resolver. Pass createEngine({ workflows }) or run through engine.app(appId).`,
        { step_key: key, retryable: false },
      );
    }
    const workflowId = String(config.workflow_id);
    const versionRef = (config.workflow_version_id ?? 'latest') as string | number;
    const resolved = await deps.resolver.resolve({
      workflow_id: workflowId,
      workflow_version_id: versionRef,
      app_id: context.run.app_id,
      run_id: context.run.id,
    });
    const input = config.input === undefined || config.input === null ? {} : config.input;
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw new WeftError(
        ERROR_CODES.INVALID_INPUT,
        `Step "${key}": the sub-workflow input must be an object.`,
        {
          step_key: key,
          details: { field: 'input' },
          retryable: false,
        },
      );
    }
    const child = await deps.startChild(context, resolved, {
      input: input as Record<string, unknown>,
      signal: context.signal,
      origin: context.run.origin,
      app_id: context.run.app_id,
      workflow_app_id: resolved.app_id ?? context.run.app_id,
      workflow_id: resolved.workflow_id ?? workflowId,
      version: resolved.version ?? null,
      ...(resolved.draft === undefined ? {} : { draft: resolved.draft }),
    });
    context.usage.record({
      id: child.id,
      total: child.usage.total,
      calls: child.usage.calls,
      workflow_id: child.workflow_id,
      run_id: child.id,
    });
    if (child.status === 'CANCELLED') throw new CancelledError(`Sub-workflow run ${child.id} was cancelled.`);
    if (child.status !== 'COMPLETED') {
      throw new WeftError(
        child.error?.code ?? ERROR_CODES.STEP_FAILED,
        `Sub-workflow "${workflowId}" (run ${child.id}) failed: ${child.error?.message ?? child.status}`,
        { step_key: key, details: { run_id: child.id, child_error: child.error }, retryable: false },
      );
    }
    const stepKey = config.step_key;
    if (typeof stepKey === 'string' && stepKey !== '') return child.output[stepKey]?.output ?? null;
    return child.result;
  };
}
