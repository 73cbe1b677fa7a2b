/** Test fixtures for the registry: a Weft with controllable steps, two apps, document builders. */
import { CancelledError } from '../../errors.js';
import type { WorkflowVersionDraft } from '../../model/types.js';
import type { StepContext } from '../../steps/types.js';
import { code, deferred, draft, task } from '../../test-support/workflows.js';
import type { WeftOptions } from '../client.js';
import { createWeft } from '../weft.js';

export { code, draft, task };

/**
 * `hold` steps wait until the test releases their run (`gates.release(runId)`), or until aborted.
 * `calls` counts executions per step key.
 */
export function createGates() {
  const gates = new Map<string, ReturnType<typeof deferred<unknown>>>();
  const aborted: string[] = [];
  const calls = new Map<string, number>();
  const gateOf = (runId: string) => {
    let gate = gates.get(runId);
    if (gate === undefined) {
      gate = deferred<unknown>();
      gates.set(runId, gate);
    }
    return gate;
  };
  const started = new Map<string, ReturnType<typeof deferred<void>>>();
  const startedOf = (runId: string) => {
    let d = started.get(runId);
    if (d === undefined) {
      d = deferred<void>();
      started.set(runId, d);
    }
    return d;
  };
  return {
    aborted,
    calls,
    release(runId: string, value: unknown = 'released') {
      gateOf(runId).resolve(value);
    },
    /** Resolves once a hold step of the run has started. */
    started: (runId: string) => startedOf(runId).promise,
    steps: {
      hold: (ctx: StepContext) =>
        new Promise((resolve, reject) => {
          calls.set(ctx.step.key, (calls.get(ctx.step.key) ?? 0) + 1);
          startedOf(ctx.run.id).resolve();
          const onAbort = () => {
            aborted.push(ctx.run.id);
            reject(new CancelledError());
          };
          if (ctx.signal.aborted) return onAbort();
          ctx.signal.addEventListener('abort', onAbort, { once: true });
          gateOf(ctx.run.id).promise.then(resolve, reject);
        }),
      count: (ctx: StepContext) => {
        calls.set(ctx.step.key, (calls.get(ctx.step.key) ?? 0) + 1);
        return `${ctx.step.key}#${calls.get(ctx.step.key)}`;
      },
      boom: () => {
        throw new Error('boom');
      },
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2024, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

export function setup(options: WeftOptions = {}) {
  const gates = createGates();
  const weft = createWeft({ ...options, steps: { ...gates.steps, ...options.steps } });
  return { weft, gates, a: weft.app('app_a'), b: weft.app('app_b'), c: weft.app('app_c') };
}

/** A one-step draft whose result is `value` (so a run shows which document it ran). */
export function valueDraft(value: unknown): WorkflowVersionDraft {
  return draft([code('c', JSON.stringify(value))]);
}

/** The code of a rejected WeftError ("OK" when it resolved). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw error;
  }
  return 'OK';
}

/** The rejection of a promise (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code: string; details?: any }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('expected the promise to reject');
}
