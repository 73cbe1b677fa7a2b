/**
 * `workflow` steps: run a sub-workflow, resolved through the engine's `workflows` resolver (the registry,
 * `engine.app(id)`, plugs one in). As on the platform:
 * - `workflow_version_id` is "latest" (default), "draft", a version id or a version number;
 * - `step_key` names the child's input step to start from (the child's `from_step_key`);
 * - `input` is an object (or a JSON object as a string), checked against the child's input definition;
 * - the child sees the parent's variables, secret flags included (the resolver may isolate it: another
 *   app's workflow sees its own app's variables instead);
 * - the output is the child run's `{ run_id, app_id, workflow_id, workflow_app_id, status, origin, error,
 *   usage, result, date }`; a child that fails fails the step with the child's error and `run_id`.
 * The child shares the parent's caps and cancellation; its whole usage tree is recorded as one call with
 * nested `calls`.
 */
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import type { ResolvedWorkflow, StartOptions, WorkflowResolver } from '../run/options.js';
import type { Run, RunOrigin, RunUsage } from '../run/types.js';
import type { StepContext } from './types.js';

export interface WorkflowStepConfig {
  workflow_id: unknown;
  workflow_version_id?: unknown;
  step_key?: unknown;
  input?: unknown;
}

/** The output of a `workflow` step: the platform's StepWorkflowOutputSchema. */
export interface WorkflowStepOutput {
  run_id: string;
  app_id: string | null;
  workflow_id: string | null;
  workflow_app_id: string | null;
  status: Run['status'];
  origin: RunOrigin;
  /** The child's error message (null: it completed). */
  error: string | null;
  usage: RunUsage;
  result: unknown;
  /** When the child run ended. */
  date: string | null;
}

export interface WorkflowStepDeps {
  resolver: WorkflowResolver | undefined;
  startChild(context: StepContext<any>, resolved: ResolvedWorkflow, options: StartOptions): Promise<Run>;
}

export function workflowStep(deps: WorkflowStepDeps) {
  return async (context: StepContext<WorkflowStepConfig>): Promise<WorkflowStepOutput> => {
    const key = context.step.key;
    const { config } = context;
    if (deps.resolver === undefined) {
      throw new WeftError(
        ERROR_CODES.HANDLER_NOT_FOUND,
        `Step "${key}" runs a sub-workflow, but the engine has no workflow resolver. Pass createEngine({ workflows }) or run through createWeft().app(appId).`,
        { step_key: key, retryable: false },
      );
    }
    const workflowId = typeof config.workflow_id === 'string' ? config.workflow_id : '';
    if (workflowId === '') {
      throw badField(key, 'workflow_id', 'a non-empty workflow id', config.workflow_id);
    }
    const versionRef = versionRefOf(key, config.workflow_version_id);
    const input = inputOf(key, config.input);
    const stepKey = config.step_key;
    if (stepKey !== undefined && stepKey !== null && typeof stepKey !== 'string') {
      throw badField(
        key,
        'step_key',
        'a step key of the sub-workflow (its input step to start from)',
        stepKey,
      );
    }
    const resolved = await deps.resolver.resolve({
      workflow_id: workflowId,
      workflow_version_id: versionRef,
      app_id: context.run.app_id,
      run_id: context.run.id,
    });
    const from = typeof stepKey === 'string' && stepKey !== '' ? stepKey : undefined;
    if (from !== undefined) checkStartStep(key, workflowId, resolved, from);
    const child = await deps.startChild(context, resolved, {
      input,
      signal: context.signal,
      origin: context.run.origin,
      app_id: context.run.app_id,
      workflow_app_id: resolved.app_id ?? context.run.app_id,
      workflow_id: resolved.workflow_id ?? workflowId,
      version: resolved.version ?? null,
      ...(from === undefined ? {} : { from_step_key: from }),
      ...(resolved.draft === undefined ? {} : { draft: resolved.draft }),
    });
    context.usage.record({
      id: child.id,
      total: child.usage.total,
      calls: child.usage.calls,
      workflow_id: child.workflow_id,
      run_id: child.id,
    });
    if (child.status === 'CANCELLED') {
      throw new CancelledError(`Sub-workflow run ${child.id} was cancelled.`, {
        step_key: key,
        details: { run_id: child.id },
      });
    }
    if (child.status !== 'COMPLETED') {
      throw new WeftError(
        child.error?.code ?? ERROR_CODES.STEP_FAILED,
        `Sub-workflow "${workflowId}" (run ${child.id}) failed: ${child.error?.message ?? child.status}`,
        {
          step_key: key,
          details: { run_id: child.id, child_error: child.error },
          retryable: false,
        },
      );
    }
    return {
      run_id: child.id,
      app_id: child.app_id,
      workflow_id: child.workflow_id,
      workflow_app_id: child.workflow_app_id,
      status: child.status,
      origin: child.origin,
      error: null,
      usage: child.usage,
      result: child.result,
      date: child.ended_at,
    };
  };
}

function badField(key: string, field: string, expected: string, got: unknown): WeftError {
  return new WeftError(
    ERROR_CODES.STEP_FAILED,
    `Step "${key}": \`${field}\` must be ${expected} (after templates were resolved), got ${describe(got)}.`,
    { step_key: key, details: { field }, retryable: false },
  );
}

/** "latest" (default), "draft", a version id, or a version number. */
function versionRefOf(key: string, value: unknown): string | number {
  if (value === undefined || value === null || value === '') return 'latest';
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1) return value;
    throw badField(
      key,
      'workflow_version_id',
      '"latest", "draft", a version id or a version number ≥ 1',
      value,
    );
  }
  // A numeric string stays a string: the resolver tries it as an id first, then as a number.
  if (typeof value === 'string') return value;
  throw badField(key, 'workflow_version_id', '"latest", "draft", a version id or a version number', value);
}

/** The child's input: an object, a JSON object written as a string, or nothing (`{}`). */
function inputOf(key: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  let input = value;
  if (typeof value === 'string') {
    try {
      input = JSON.parse(value);
    } catch {
      throw invalidChildInput(key, 'a string that is not JSON');
    }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidChildInput(key, describe(input));
  }
  return input as Record<string, unknown>;
}

function invalidChildInput(key: string, got: string): WeftError {
  return new WeftError(
    ERROR_CODES.INVALID_INPUT,
    `Step "${key}": the sub-workflow input must be an object of field values (or a JSON object as a string), got ${got}.`,
    { step_key: key, details: { field: 'input' }, retryable: false },
  );
}

function checkStartStep(key: string, workflowId: string, resolved: ResolvedWorkflow, from: string): void {
  const steps = Array.isArray(resolved.document.steps) ? resolved.document.steps : [];
  if (steps.some((s) => s?.key === from && s.type !== 'note')) return;
  const inputs = steps.filter((s) => s?.type === 'input').map((s) => s.key);
  throw new WeftError(
    ERROR_CODES.INVALID_ARGUMENT,
    `Step "${key}": \`step_key\` ${JSON.stringify(from)} names no step of sub-workflow "${workflowId}". ` +
      (inputs.length > 0
        ? `Its input steps are: ${inputs.slice(0, 20).join(', ')}.`
        : 'It has no input step; remove step_key to start at its entries.'),
    { step_key: key, details: { field: 'step_key', workflow_id: workflowId }, retryable: false },
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
