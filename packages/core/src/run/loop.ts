/**
 * Loops (rule 4) as `decide` runs them: iterations start in element order, at most the loop's cap at a
 * time; the output is the iteration outputs in element order; with `throw_on_error` the first failing
 * iteration stops the others. Part of the scheduler (scheduler.ts); pure like it.
 */
import { ERROR_CODES, type ErrorRecord } from '../errors.js';
import { stepLifecycle } from '../lifecycle/lifecycle.js';
import { cancelWaiting, queueAttempt, WAITING_CANCELLED } from './attempt.js';
import type { Commands } from './commands.js';
import { cancelStep, completeStep, failStep } from './scheduler.js';
import { createUnits, extraOf, type LoopState, loopOf, type RunState, STAGE, UNIT } from './state.js';

export function startLoop(
  state: RunState,
  i: number,
  elements: readonly unknown[],
  at: string,
  out: Commands,
): void {
  const count = elements.length;
  const loop: LoopState = {
    elements,
    outputs: new Array<unknown>(count).fill(null),
    units: createUnits(count),
    running: 0,
    next: 0,
    firstError: null,
    errors: [],
  };
  extraOf(state, i).loop = loop;
  state.stage[i] = STAGE.ITERATIONS;
  out.stepStarted(i);
  settleIfIdle(state, i, loop, at, out);
}

/** Starts iterations up to the loop's cap, in element order, unless the run stopped or the loop failed. */
function fill(state: RunState, i: number, loop: LoopState, out: Commands): void {
  const cap = state.settings.loopCap[i]!;
  const count = loop.elements.length;
  while (loop.running < cap && loop.next < count && loop.firstError === null && state.stopReason === null) {
    const index = loop.next++;
    loop.running++;
    queueAttempt(state, i, index, out);
  }
}

/** Starts what may start; once nothing runs any more, the loop step settles. */
export function settleIfIdle(state: RunState, i: number, loop: LoopState, at: string, out: Commands): void {
  fill(state, i, loop, out);
  if (loop.running > 0 || stepLifecycle.isFinalAt(state.stepStatus[i]!)) return;
  if (state.stopReason !== null) {
    cancelStep(state, i, at, out);
  } else if (loop.firstError !== null) {
    failStep(state, i, loop.firstError, at, out);
  } else {
    loop.errors.sort((a, b) => a.index - b.index);
    completeStep(state, i, loop.outputs, at, out);
  }
}

export function iterationCompleted(
  state: RunState,
  i: number,
  index: number,
  output: unknown,
  at: string,
  out: Commands,
): void {
  const loop = loopOf(state, i);
  // Output slots are written by index: the array is in element order whatever the finishing order.
  loop.outputs[index] = output;
  out.iterationSettled(i, index, 'COMPLETED', null);
  loop.running--;
  settleIfIdle(state, i, loop, at, out);
}

export function iterationFailed(
  state: RunState,
  i: number,
  index: number,
  error: ErrorRecord,
  at: string,
  out: Commands,
): void {
  const loop = loopOf(state, i);
  const cancelled =
    error.code === ERROR_CODES.CANCELLED && (loop.firstError !== null || state.stopReason !== null);
  if (cancelled) {
    out.iterationSettled(i, index, 'CANCELLED', error);
  } else {
    loop.errors.push({ index, error });
    out.iterationSettled(i, index, 'FAILED', error);
    const s = state.plan.steps[i]!;
    if (s.throwOnError && loop.firstError === null) {
      loop.firstError = {
        code: error.code,
        message: `Iteration ${index} of step "${s.key}" failed: ${error.message}`,
        step_key: s.key,
        details: { ...error.details, index },
      };
      // Nothing new starts; running iterations are aborted, waiting ones end now.
      out.abortLoop(i);
      cancelWaitingIterations(i, loop, out);
    }
  }
  loop.running--;
  settleIfIdle(state, i, loop, at, out);
}

/** Iterations waiting out a retry back-off end CANCELLED (the run stopped, or a sibling failed the loop). */
export function cancelWaitingIterations(i: number, loop: LoopState, out: Commands): void {
  const phase = loop.units.phase;
  for (let index = 0; index < loop.next; index++) {
    if (phase[index] !== UNIT.WAITING) continue;
    cancelWaiting(i, index, loop.units, out);
    loop.running--;
    out.iterationSettled(i, index, 'CANCELLED', WAITING_CANCELLED);
  }
}
