/**
 * Stopping a run (rules 5 and 11) as `decide` sees it: a cancel request, a step failure with
 * `throw_on_error`, a budget overrun or a journal that cannot be written stop the run — nothing starts
 * after it, running executions are aborted, executions waiting to retry end at once, and once the grace
 * period has passed the steps still running end CANCELLED. Part of the scheduler; pure like it.
 */
import { ERROR_CODES, type ErrorRecord } from '../errors.js';
import { runLifecycle, STEP } from '../lifecycle/lifecycle.js';
import { stopToolStep } from './agent.js';
import { cancelWaiting } from './attempt.js';
import { type Commands, TIMER } from './commands.js';
import type { CancelRequestedEntry, JournalFailedEntry, TimerFiredEntry } from './journal.js';
import { cancelWaitingIterations, settleIfIdle } from './loop.js';
import { cancelStep, impossible, skipStep } from './scheduler.js';
import { loopOf, type RunState, SKIP, STAGE, UNIT } from './state.js';

export function cancelRequested(state: RunState, entry: CancelRequestedEntry, out: Commands): void {
  if (runLifecycle.isFinal(state.status) || state.ending !== null || state.stopReason !== null) return;
  cancel(state, entry.reason, entry.at, out);
}

function cancel(state: RunState, reason: string, at: string, out: Commands): void {
  if (state.status === 'PENDING') {
    // Cancelled before it began: no step ran, so every step ends SKIPPED.
    state.stopReason = reason;
    for (let i = 0; i < state.plan.steps.length; i++) {
      if (state.stepStatus[i] === STEP.PENDING) skipStep(state, i, SKIP.RUN_STOPPED, at, out);
    }
    state.ending = 'CANCELLED';
    out.end();
    return;
  }
  stop(state, reason, null, at, out);
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
      cancelWaitingIterations(state, i, loop, at, out);
      settleIfIdle(state, i, loop, at, out);
    } else if (stage === STAGE.TOOL) {
      stopToolStep(state, i, at, out);
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
  if (entry.error.code === ERROR_CODES.CANCELLED) {
    cancelledElsewhere(state, entry, out);
    return;
  }
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

/**
 * The journal refused the run because the run ended CANCELLED where it is kept (a durable store: another
 * process cancelled it; the error's message is the reason recorded there). Nothing more is written, and
 * the run ends CANCELLED here too with that reason, whatever it was doing: running (stopped like a
 * cancel), stopping (a failure or another cancel: its outcome becomes this cancel), or already ending
 * with an end the store refused — so that what this process reports is what the store holds.
 */
function cancelledElsewhere(state: RunState, entry: JournalFailedEntry, out: Commands): void {
  const reason = entry.error.message;
  state.error = null;
  if (state.ending !== null) {
    state.ending = 'CANCELLED';
    state.stopReason = reason;
  } else if (state.stopReason !== null) {
    state.stopReason = reason;
  } else {
    cancel(state, reason, entry.at, out);
  }
}
