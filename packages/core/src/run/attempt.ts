/**
 * Attempts of an execution unit — a step's body, or one loop iteration — as `decide` sees them (rule 9):
 * queued (`invoke`), started (`step.started`), settled (`step.settled`) or timed out (`timer.fired`),
 * and retried after a back-off. Part of the scheduler (scheduler.ts); pure like it.
 */
import { ERROR_CODES, type ErrorRecord, WeftError } from '../errors.js';
import { STEP } from '../lifecycle/lifecycle.js';
import { type Commands, TIMER } from './commands.js';
import type { JournalEntry, StepSettledEntry, TimerFiredEntry } from './journal.js';
import { iterationCompleted, iterationFailed } from './loop.js';
import { retryDelay } from './retry.js';
import { cancelStep, completeStep, failStep, impossible } from './scheduler.js';
import { loopOf, type RunState, STAGE, UNIT, type Units } from './state.js';

/** The plan index of the step an entry names. */
export function stepIndex(state: RunState, entry: JournalEntry & { key: string | null }): number {
  const s = entry.key === null ? undefined : state.plan.byKey.get(entry.key);
  if (s === undefined) throw impossible(state, entry, `no step is keyed ${JSON.stringify(entry.key)}`);
  return s.index;
}

/** A journal entry's iteration index (null: the step's body) as the scheduler's (-1: the body). */
export function unitIndex(index: number | null): number {
  return index === null ? -1 : index;
}

/** The units an execution belongs to (undefined when the step is not at that stage). */
function unitsOf(state: RunState, i: number, index: number): Units | undefined {
  if (state.stepStatus[i] !== STEP.RUNNING) return undefined;
  if (index < 0) return state.stage[i] === STAGE.BODY ? state.body : undefined;
  const loop = state.extras[i]?.loop;
  return loop != null && state.stage[i] === STAGE.ITERATIONS && index < loop.elements.length
    ? loop.units
    : undefined;
}

/**
 * Whether attempt `attempt` of the unit is the one the scheduler waits for, in phase `phase`: what the
 * runner asks before it reports a settle or a timer (an abandoned handler's late answer is not news).
 */
export function isCurrent(
  state: RunState,
  i: number,
  index: number,
  attempt: number,
  phase: number,
): boolean {
  const units = unitsOf(state, i, index);
  if (units === undefined) return false;
  const slot = index < 0 ? i : index;
  return units.attempt[slot] === attempt && units.phase[slot] === phase;
}

/** The units of the execution, checked to be at `attempt` in one of `phases` (a bit per UNIT phase). */
function current(
  state: RunState,
  i: number,
  index: number,
  attempt: number,
  entry: JournalEntry,
  phases: number,
): Units {
  const units = unitsOf(state, i, index);
  const slot = index < 0 ? i : index;
  if (units === undefined || units.attempt[slot] !== attempt || ((1 << units.phase[slot]!) & phases) === 0) {
    throw impossible(state, entry, `attempt ${attempt} of that execution is not ${phaseNames(phases)}`);
  }
  return units;
}

const QUEUED = 1 << UNIT.QUEUED;
const RUNNING = 1 << UNIT.RUNNING;
const WAITING = 1 << UNIT.WAITING;
const LIVE = QUEUED | RUNNING;

function phaseNames(phases: number): string {
  const names = ['idle', 'queued', 'running', 'waiting to retry', 'settled'];
  return names.filter((_, p) => ((1 << p) & phases) !== 0).join(' or ');
}

/** Asks for the unit's next attempt. */
export function queueAttempt(state: RunState, i: number, index: number, out: Commands): void {
  const units = index < 0 ? state.body : loopOf(state, i).units;
  const slot = index < 0 ? i : index;
  const attempt = units.attempt[slot]! + 1;
  units.attempt[slot] = attempt;
  units.phase[slot] = UNIT.QUEUED;
  out.invoke(i, index, attempt);
}

export function attemptStarted(
  state: RunState,
  i: number,
  index: number,
  attempt: number,
  entry: JournalEntry,
  out: Commands,
): void {
  const units = current(state, i, index, attempt, entry, QUEUED);
  const slot = index < 0 ? i : index;
  units.phase[slot] = UNIT.RUNNING;
  state.attempts[i]!++;
  const timeoutMs = state.settings.timeoutMs[i];
  if (timeoutMs !== undefined) {
    const due = Date.parse(entry.at) + timeoutMs;
    deadlines(units)[slot] = due;
    out.setTimer(TIMER.TIMEOUT, i, index, attempt, due);
  }
}

export function attemptSettled(
  state: RunState,
  i: number,
  index: number,
  entry: StepSettledEntry,
  out: Commands,
): void {
  const attempt = entry.attempt;
  const units = current(state, i, index, attempt, entry, LIVE);
  const slot = index < 0 ? i : index;
  if (units.phase[slot] === UNIT.RUNNING && state.settings.timeoutMs[i] !== undefined) {
    out.clearTimer(TIMER.TIMEOUT, i, index, attempt);
  }
  if (entry.outcome === 'completed') {
    // An execution that never began can only be given up (a failure), not completed.
    if (units.phase[slot] === UNIT.QUEUED) throw impossible(state, entry, `attempt ${attempt} never started`);
    units.phase[slot] = UNIT.DONE;
    if (index < 0) {
      // After a stop, a step whose handler still answered ends CANCELLED (its output is discarded).
      if (state.stopReason !== null) cancelStep(state, i, entry.at, out);
      else completeStep(state, i, entry.output, entry.at, out);
    } else {
      iterationCompleted(state, i, index, entry.output, entry.at, out);
    }
  } else if (entry.error === null) {
    throw impossible(state, entry, 'a failed execution has an error');
  } else {
    unitFailed(state, i, index, attempt, units, entry.error, entry.retryable, entry.jitter, entry.at, out);
  }
}

/** The attempt ran past `timeout_ms`: it fails with STEP_TIMEOUT (retryable) and its signal is aborted. */
export function timeoutFired(
  state: RunState,
  i: number,
  index: number,
  attempt: number,
  entry: TimerFiredEntry,
  out: Commands,
): void {
  const units = current(state, i, index, attempt, entry, RUNNING);
  out.abort(i, index, attempt);
  const s = state.plan.steps[i]!;
  const error = timeoutError(s.key, state.settings.timeoutMs[i]!, attempt).toJSON();
  unitFailed(state, i, index, attempt, units, error, true, entry.jitter, entry.at, out);
}

export function retryFired(
  state: RunState,
  i: number,
  index: number,
  attempt: number,
  entry: TimerFiredEntry,
  out: Commands,
): void {
  current(state, i, index, attempt, entry, WAITING);
  queueAttempt(state, i, index, out);
}

/**
 * A failed attempt: retried after a back-off while the policy allows (a retryable error, fewer failures
 * than `max_attempts`, the run not stopped, the loop not failing), else the unit fails for good.
 */
function unitFailed(
  state: RunState,
  i: number,
  index: number,
  attempt: number,
  units: Units,
  error: ErrorRecord,
  retryable: boolean,
  jitter: number,
  at: string,
  out: Commands,
): void {
  const slot = index < 0 ? i : index;
  const stopped = state.stopReason !== null || (index >= 0 && loopOf(state, i).firstError !== null);
  if (!stopped && retryable && error.code !== ERROR_CODES.CANCELLED) {
    units.failures ??= new Int32Array(units.phase.length);
    const failures = ++units.failures[slot]!;
    const policy = state.settings.retry[i]!;
    if (failures < policy.max_attempts) {
      const delay = retryDelay(policy, failures, () => jitter);
      const due = Date.parse(at) + delay;
      units.phase[slot] = UNIT.WAITING;
      deadlines(units)[slot] = due;
      out.retrying(i, index, attempt + 1, delay, error);
      out.setTimer(TIMER.RETRY, i, index, attempt, due);
      return;
    }
  }
  units.phase[slot] = UNIT.DONE;
  if (index >= 0) iterationFailed(state, i, index, error, at, out);
  else bodyFailed(state, i, error, at, out);
}

/**
 * After a stop, a running step ends CANCELLED — unless its own error is what stopped the run (the step
 * whose usage went over the budget fails with BUDGET_EXCEEDED).
 */
function bodyFailed(state: RunState, i: number, error: ErrorRecord, at: string, out: Commands): void {
  const culprit = error.code === ERROR_CODES.BUDGET_EXCEEDED && state.budgetStep === i;
  if (state.stopReason !== null && !culprit) cancelStep(state, i, at, out);
  else failStep(state, i, error, at, out);
}

/** A unit waiting out a retry back-off when the run stops (or its loop fails): it ends at once. */
export function cancelWaiting(i: number, index: number, units: Units, out: Commands): void {
  const slot = index < 0 ? i : index;
  units.phase[slot] = UNIT.DONE;
  out.clearTimer(TIMER.RETRY, i, index, units.attempt[slot]!);
}

export const WAITING_CANCELLED: ErrorRecord = Object.freeze({
  code: ERROR_CODES.CANCELLED,
  message: 'Cancelled while waiting to retry.',
});

export function timeoutError(key: string, timeoutMs: number, attempt: number): WeftError {
  return new WeftError(ERROR_CODES.STEP_TIMEOUT, `Step "${key}" timed out after ${timeoutMs} ms.`, {
    step_key: key,
    details: { timeout_ms: timeoutMs, attempt },
  });
}

function deadlines(units: Units): Float64Array {
  units.deadline ??= new Float64Array(units.phase.length);
  return units.deadline;
}
