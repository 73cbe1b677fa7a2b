/**
 * Stopping a run (rules 5 and 11) as `decide` sees it: a cancel request, a step failure with
 * `throw_on_error`, a budget overrun or a journal that cannot be written stop the run — nothing starts
 * after it, running executions are aborted, executions waiting to retry end at once, and once the grace
 * period has passed the steps still running end CANCELLED. Part of the scheduler; pure like it.
 */
import type { ErrorRecord } from '../errors.js';
import { runLifecycle, STEP } from '../lifecycle/lifecycle.js';
import { cancelWaiting } from './attempt.js';
import { type Commands, TIMER } from './commands.js';
import type { CancelRequestedEntry, JournalFailedEntry, TimerFiredEntry } from './journal.js';
import { cancelWaitingIterations, settleIfIdle } from './loop.js';
import { cancelStep, impossible, skipStep } from './scheduler.js';
import { loopOf, type RunState, SKIP, STAGE, UNIT } from './state.js';

export function cancelRequested(state: RunState, entry: CancelRequestedEntry, out: Commands): void {
  if (runLifecycle.isFinal(state.status) || state.ending !== null || state.stopReason !== null) return;
  if (state.status === 'PENDING') {
    // Cancelled before it began: no step ran, so every step ends SKIPPED.
    state.stopReason = entry.reason;
    for (let i = 0; i < state.plan.steps.length; i++) {
      if (state.stepStatus[i] === STEP.PENDING) skipStep(state, i, SKIP.RUN_STOPPED, entry.at, out);
    }
    state.ending = 'CANCELLED';
    out.end();
    return;
  }
  stop(state, entry.reason, null, entry.at, out);
}

/** Rule 5: the first failure with `throw_on_error` (or a budget overrun) fails the run. */
export function failRun(state: RunState, error: ErrorRecord, at: string, out: Commands): void {
  if (state.stopReason !== null) return;
  stop(state, `The run failed: ${error.message}`, error, at, out);
}

function stop(state: RunState, reason: string, error: ErrorRecord | null, at: string, out: Commands): void {
  state.stopReason = reason;
  if (error !== null) state.error = error;
  out.stop();
  state.graceDeadline = Date.parse(at) + state.settings.cancelGraceMs;
  out.setTimer(TIMER.GRACE, -1, -1, 0, state.graceDeadline);
  const steps = state.plan.steps;
  for (let i = 0; i < steps.length; i++) {
    if (state.stepStatus[i] !== STEP.RUNNING) continue;
    const stage = state.stage[i];
    if (stage === STAGE.BODY && state.body.phase[i] === UNIT.WAITING) {
      cancelWaiting(i, -1, state.body, out);
      cancelStep(state, i, at, out);
    } else if (stage === STAGE.ITERATIONS) {
      const loop = loopOf(state, i);
      cancelWaitingIterations(i, loop, out);
      settleIfIdle(state, i, loop, at, out);
    }
  }
}

/** The grace period is over: steps still running are abandoned and end CANCELLED. */
export function graceFired(state: RunState, entry: TimerFiredEntry, out: Commands): void {
  if (state.stopReason === null || Number.isNaN(state.graceDeadline)) {
    throw impossible(state, entry, 'no grace period is running');
  }
  state.graceDeadline = Number.NaN;
  for (let i = 0; i < state.plan.steps.length; i++) {
    if (state.stepStatus[i] === STEP.RUNNING) cancelStep(state, i, entry.at, out);
  }
}

/**
 * The run's journal could not be written: the run ends FAILED with STORE_ERROR (the error it had, if
 * any, is kept in `details.run_error`). A run cancelled before it began stays CANCELLED, with the error.
 */
export function journalFailed(state: RunState, entry: JournalFailedEntry, out: Commands): void {
  if (runLifecycle.isFinal(state.status)) throw impossible(state, entry, 'the run has ended');
  const previous = state.error;
  const error =
    previous === null
      ? entry.error
      : { ...entry.error, details: { ...entry.error.details, run_error: previous } };
  if (state.ending !== null) {
    state.error = error;
    if (state.status === 'RUNNING') state.ending = 'FAILED';
  } else if (state.stopReason !== null) {
    state.error = error;
  } else {
    stop(state, `The run failed: ${entry.error.message}`, error, entry.at, out);
  }
}
