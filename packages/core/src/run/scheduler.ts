/**
 * The scheduler: `decide(state, entry, out)`, the run's decisions as a deterministic function. It reads
 * one journal entry (a fact: a step started, an execution settled, a timer fired, a cancel was asked
 * for…), updates the run state and writes the commands that follow to `out` (invoke a handler, evaluate
 * an expression, set a timer, emit an event, end the run). No clock, no randomness, no I/O: times, ids and
 * the jitter of retry delays come in the entries, so the same entries from the same initial state give the
 * same state and the same commands — a run is resumed by folding its journal through this function
 * (resume.ts). The runner (runner.ts) performs the commands and turns what happens into entries.
 *
 * For speed `decide` updates the state it owns in place (run/state.ts): the state is never shared, and
 * determinism — not immutability — is what resuming needs.
 *
 * This file: readiness and joins (docs/semantics.md rules 1, 2, 3, 6), settling a step, ending the run.
 * Attempts, retries and timeouts are in attempt.ts, loops in loop.ts, cancellation and failure in stop.ts.
 */
import type { PlanStep } from '../compile/plan.js';
import { ERROR_CODES, type ErrorRecord, WeftError } from '../errors.js';
import { runLifecycle, STEP, STEP_EVENT, stepLifecycle } from '../lifecycle/lifecycle.js';
import { agentStepSettled, modelReplied, toolSettled, toolStarted } from './agent.js';
import {
  attemptSettled,
  attemptStarted,
  queueAttempt,
  retryFired,
  stepIndex,
  timeoutFired,
  unitIndex,
} from './attempt.js';
import { type Commands, EVALUATION } from './commands.js';
import {
  AUTO_FILL_USAGE_KEY,
  type JournalEntry,
  type RunEndedEntry,
  type RunStartedEntry,
  type StepEvaluatedEntry,
  type StepSettledEntry,
  type StepStartedEntry,
} from './journal.js';
import { startLoop } from './loop.js';
import { resumed } from './resume.js';
import { extraOf, type RunState, SKIP, STAGE } from './state.js';
import { cancelRequested, failRun, graceFired, journalFailed } from './stop.js';
import type { StepRecord, UsageCall } from './types.js';

/**
 * Consumes one entry: updates `state`, writes the commands that follow to `out`. `step`, when given, is
 * the plan index of the step the entry names (the runner knows it; it saves a lookup by key per entry).
 */
export function decide(state: RunState, entry: JournalEntry, out: Commands, step = -1): void {
  switch (entry.type) {
    case 'step.started':
      decideStarted(state, entry, out, step >= 0 ? step : stepIndex(state, entry));
      return;
    case 'step.settled':
      decideSettled(state, entry, out, step >= 0 ? step : stepIndex(state, entry));
      return;
    case 'step.evaluated':
      decideEvaluated(state, entry, out, step >= 0 ? step : stepIndex(state, entry));
      return;
  }
  consume(state, entry);
  switch (entry.type) {
    case 'run.started':
      runStarted(state, entry, out);
      break;
    case 'usage.recorded':
      usageRecorded(state, stepIndex(state, entry), entry.call, entry, out);
      break;
    case 'model.replied':
      modelReplied(state, entry, out, stepIndex(state, entry));
      break;
    case 'tool.started':
      toolStarted(state, entry, out, stepIndex(state, entry));
      break;
    case 'tool.settled':
      toolSettled(state, entry, out, stepIndex(state, entry));
      break;
    case 'step.logged': {
      const i = stepIndex(state, entry);
      const extra = extraOf(state, i);
      extra.logs ??= [];
      extra.logs.push(entry.log);
      out.log(i, entry.log);
      break;
    }
    case 'timer.fired':
      if (entry.timer === 'grace') graceFired(state, entry, out);
      else if (entry.timer === 'timeout') {
        timeoutFired(state, stepIndex(state, entry), unitIndex(entry.index), entry.attempt, entry, out);
      } else retryFired(state, stepIndex(state, entry), unitIndex(entry.index), entry.attempt, entry, out);
      break;
    case 'cancel.requested':
      cancelRequested(state, entry, out);
      break;
    case 'journal.failed':
      journalFailed(state, entry, out);
      break;
    case 'run.resumed':
      resumed(state, entry, out);
      break;
    case 'child.started': {
      const extra = extraOf(state, stepIndex(state, entry));
      extra.children ??= new Map();
      extra.children.set(unitIndex(entry.index), entry.child_run_id);
      break;
    }
    case 'run.ended':
      runEnded(state, entry, out);
      return;
    default:
      throw impossible(state, entry, 'its type is unknown');
  }
  drainReady(state, entry.at, out);
  maybeEnd(state, out);
}

/**
 * `decide` for a `step.started` entry of step `step`. The runner calls it (and `decideSettled`) directly:
 * the same decision, without a dispatch whose reads of the entry see every shape of entry (V8 then makes
 * them slow), once or twice per execution.
 */
export function decideStarted(state: RunState, entry: StepStartedEntry, out: Commands, step: number): void {
  if (entry.seq !== state.seq + 1) throw impossible(state, entry, `its seq should be ${state.seq + 1}`);
  state.seq = entry.seq;
  attemptStarted(state, step, unitIndex(entry.index), entry.attempt, entry, out);
  // Nothing settles when an execution starts: no step can have become ready, nor the run done.
}

/** `decide` for a `step.settled` entry of step `step` (see `decideStarted`). */
export function decideSettled(state: RunState, entry: StepSettledEntry, out: Commands, step: number): void {
  if (entry.seq !== state.seq + 1) throw impossible(state, entry, `its seq should be ${state.seq + 1}`);
  state.seq = entry.seq;
  attemptSettled(state, step, unitIndex(entry.index), entry, out);
  drainReady(state, entry.at, out);
  maybeEnd(state, out);
}

/** `decide` for a `step.evaluated` entry of step `step` (see `decideStarted`). */
export function decideEvaluated(
  state: RunState,
  entry: StepEvaluatedEntry,
  out: Commands,
  step: number,
): void {
  if (entry.seq !== state.seq + 1) throw impossible(state, entry, `its seq should be ${state.seq + 1}`);
  state.seq = entry.seq;
  evaluated(state, step, entry, out);
  drainReady(state, entry.at, out);
  maybeEnd(state, out);
}

function consume(state: RunState, entry: JournalEntry): void {
  if (entry.seq !== state.seq + 1) throw impossible(state, entry, `its seq should be ${state.seq + 1}`);
  state.seq = entry.seq;
}

/** A fact that cannot happen in the run's state: a bug in the runner, or a journal that is not this run's. */
export function impossible(state: RunState, entry: JournalEntry, why: string): WeftError {
  return new WeftError(
    ERROR_CODES.INTERNAL,
    `Run ${state.runId}: journal entry ${entry.seq} (${entry.type}) is impossible here: ${why}.`,
    { details: { seq: entry.seq, type: entry.type }, retryable: false },
  );
}

// ── beginning ───────────────────────────────────────────────────────────────────────────────────

function runStarted(state: RunState, entry: RunStartedEntry, out: Commands): void {
  state.status = runLifecycle.transition(state.status, 'START', 'run', state.runId);
  state.startedAt = entry.at;
  state.createdAt = entry.created_at;
  state.input = entry.input;
  state.fromStepKey = entry.from_step_key;
  state.meta = entry.meta;
  out.runStarted();
  const plan = state.plan;
  const steps = plan.steps;
  const waiting = state.waiting;
  // Indexed loops here and in the other per-step loops: they run for every step of every run.
  for (let i = 0; i < steps.length; i++) waiting[i] = steps[i]!.preds.length;
  if (entry.auto_fill !== undefined && autoFilled(state, entry, out)) return;
  // Rule 1: the entries count the run start as one taken incoming edge.
  if (entry.from_step_key !== null) {
    const from = plan.byKey.get(entry.from_step_key);
    if (from === undefined) throw impossible(state, entry, `no step is keyed "${entry.from_step_key}"`);
    state.taken[from.index] = 1;
  } else {
    for (const i of plan.entries) state.taken[i] = 1;
  }
  // Replay: settle the kept steps first, then start whatever became ready.
  if (entry.preset !== null) {
    for (let i = 0; i < steps.length; i++) {
      const record = entry.preset[steps[i]!.key];
      if (record !== undefined) applyPreset(state, i, record, entry.at, out);
    }
  }
  for (let i = 0; i < steps.length; i++) {
    // Tool-only steps never become ready: the model steps that call them run them (run/agent.ts).
    if (waiting[i] === 0 && state.stepStatus[i] === STEP.PENDING && steps[i]!.toolOf === null) {
      state.ready[state.readyCount++] = i;
    }
  }
}

/**
 * Input fields a model filled before the run began: their names, their calls in the ledger (under
 * AUTO_FILL_USAGE_KEY). When filling failed, the run fails before any step: every step ends SKIPPED
 * (run_stopped) and the run FAILED with the AUTO_FILL_FAILED error. Returns true in that case.
 */
function autoFilled(state: RunState, entry: RunStartedEntry, out: Commands): boolean {
  const fill = entry.auto_fill!;
  state.autoFilled = fill.fields;
  for (const call of fill.calls) state.ledger.record(AUTO_FILL_USAGE_KEY, call);
  if (fill.error === null) return false;
  state.error = fill.error;
  state.stopReason = `The run failed: ${fill.error.message}`;
  for (let i = 0; i < state.plan.steps.length; i++) {
    if (state.stepStatus[i] === STEP.PENDING) skipStep(state, i, SKIP.RUN_STOPPED, entry.at, out);
  }
  return true;
}

/** A step kept from the original run (replay): settled with its record, without running. */
function applyPreset(state: RunState, i: number, record: StepRecord, at: string, out: Commands): void {
  const index = stepLifecycle.states.indexOf(record.status);
  if (index < 0 || !stepLifecycle.isFinalAt(index)) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`preset.${record.key}\` to be a settled step record, got status ${JSON.stringify(record.status)}.`,
      { details: { parameter: 'preset' } },
    );
  }
  extraOf(state, i).preset = record;
  state.stepStatus[i] = index;
  state.attempts[i] = record.attempts ?? 0;
  if (record.status === 'COMPLETED') {
    state.outputs[i] = record.output;
    const s = state.plan.steps[i]!;
    if (s.branch !== null) takeSelected(state, s, record.output);
  }
  if (record.error !== null && record.error !== undefined) extraOf(state, i).error = record.error;
  if (record.status === 'SKIPPED') state.skip[i] = skipOf(record.skip_reason);
  // A tool step's `calls` are its invocations; their usage is its model step's.
  if (state.plan.steps[i]!.toolOf === null) {
    for (const call of record.calls ?? []) state.ledger.record(record.key, call);
  }
  settled(state, i, at, out);
}

/** Reasons of records written before the skip rule was renamed count as their new names. */
function skipOf(reason: string | undefined): number {
  switch (reason) {
    case 'conditional':
    case 'conditional_false':
      return SKIP.CONDITIONAL;
    case 'run_stopped':
      return SKIP.RUN_STOPPED;
    case 'tool_not_called':
      return SKIP.TOOL_NOT_CALLED;
    default:
      return SKIP.NOT_REACHED;
  }
}

// ── readiness ───────────────────────────────────────────────────────────────────────────────────

/**
 * Starts (or skips) the steps made ready so far, in order. A worklist rather than recursion: a long chain
 * of skipped steps settles without growing the stack.
 */
function drainReady(state: RunState, at: string, out: Commands): void {
  if (state.readyCount === 0) return;
  const ready = state.ready;
  for (let k = 0; k < state.readyCount; k++) {
    const i = ready[k]!;
    // A step can be queued twice when replay presets make it ready in run.started; it starts once.
    if (state.stepStatus[i] !== STEP.PENDING) continue;
    if (state.stopReason !== null) skipStep(state, i, SKIP.RUN_STOPPED, at, out);
    else if (state.taken[i] === 0) skipStep(state, i, SKIP.NOT_REACHED, at, out);
    else startStep(state, i, at, out);
  }
  state.readyCount = 0;
}

function startStep(state: RunState, i: number, at: string, out: Commands): void {
  const s = state.plan.steps[i]!;
  state.stepStatus[i] = stepLifecycle.step(state.stepStatus[i]!, STEP_EVENT.START, 'step', s.key);
  state.stepStartedAt[i] = at;
  if (s.conditional !== null) {
    state.stage[i] = STAGE.CONDITIONAL;
    out.evaluate(i, EVALUATION.CONDITIONAL);
  } else {
    afterConditional(state, i, at, out);
  }
}

/** Rule 3 passed (or there was no conditional): the step's loop or body. */
function afterConditional(state: RunState, i: number, at: string, out: Commands): void {
  const s = state.plan.steps[i]!;
  if (state.stopReason !== null) {
    skipStep(state, i, SKIP.RUN_STOPPED, at, out);
  } else if (state.settings.missing[i]) {
    failStep(
      state,
      i,
      {
        code: ERROR_CODES.HANDLER_NOT_FOUND,
        message: `No handler is registered for step type "${s.type}" (step "${s.key}"). Register one with createEngine({ steps: { ${JSON.stringify(s.type)}: handler } }).`,
        step_key: s.key,
      },
      at,
      out,
    );
  } else if (s.loop !== null) {
    state.stage[i] = STAGE.LOOP;
    out.evaluate(i, EVALUATION.LOOP);
  } else {
    // The body begins: its first `invoke` also says so (the runner emits `step.started` for it).
    state.stage[i] = STAGE.BODY;
    queueAttempt(state, i, -1, out);
  }
}

function evaluated(state: RunState, i: number, entry: StepEvaluatedEntry, out: Commands): void {
  // The grace period may have ended the step while its expression was being evaluated.
  if (stepLifecycle.isFinalAt(state.stepStatus[i]!)) return;
  const field = entry.field === 'conditional' ? STAGE.CONDITIONAL : STAGE.LOOP;
  if (state.stage[i] !== field) throw impossible(state, entry, `step "${entry.key}" is not evaluating it`);
  if (entry.error !== null) {
    failStep(state, i, entry.error, entry.at, out);
  } else if (field === STAGE.CONDITIONAL) {
    if (entry.value === false) skipStep(state, i, SKIP.CONDITIONAL, entry.at, out);
    else if (entry.value === true) afterConditional(state, i, entry.at, out);
    else throw impossible(state, entry, 'a conditional is true or false');
  } else if (Array.isArray(entry.value)) {
    startLoop(state, i, entry.value, entry.at, out);
  } else {
    throw impossible(state, entry, 'a loop evaluates to an array');
  }
}

// ── settling ────────────────────────────────────────────────────────────────────────────────────

export function completeStep(state: RunState, i: number, output: unknown, at: string, out: Commands): void {
  const s = state.plan.steps[i]!;
  state.outputs[i] = output;
  state.stepStatus[i] = stepLifecycle.step(state.stepStatus[i]!, STEP_EVENT.COMPLETE, 'step', s.key);
  // Rule 8 counts the steps of the graph: a tool step answers its model step, not the run.
  if (s.toolOf === null) {
    state.lastCompleted = i;
    if (s.type === 'code') state.lastCompletedCode = i;
  }
  if (s.branch !== null) takeSelected(state, s, output);
  settled(state, i, at, out);
}

/** Rule 5: a failure with `throw_on_error` fails the run; without, the step's edges are still taken. */
export function failStep(state: RunState, i: number, error: ErrorRecord, at: string, out: Commands): void {
  const s = state.plan.steps[i]!;
  const recorded = error.step_key === undefined ? { ...error, step_key: s.key } : error;
  extraOf(state, i).error = recorded;
  state.stepStatus[i] = stepLifecycle.step(state.stepStatus[i]!, STEP_EVENT.FAIL, 'step', s.key);
  settled(state, i, at, out);
  // A tool step's failure reaches the run only through its model step (docs/semantics.md, "Tools").
  if (s.throwOnError && s.toolOf === null && state.stopReason === null) failRun(state, recorded, at, out);
}

export function cancelStep(state: RunState, i: number, at: string, out: Commands): void {
  const s = state.plan.steps[i]!;
  state.stepStatus[i] = stepLifecycle.step(state.stepStatus[i]!, STEP_EVENT.CANCEL, 'step', s.key);
  settled(state, i, at, out);
}

export function skipStep(state: RunState, i: number, reason: number, at: string, out: Commands): void {
  const s = state.plan.steps[i]!;
  state.skip[i] = reason;
  state.stepStatus[i] = stepLifecycle.step(state.stepStatus[i]!, STEP_EVENT.SKIP, 'step', s.key);
  settled(state, i, at, out);
}

/** Bookkeeping of every settled step, then rule 2: its outgoing edges, and the successors made ready. */
function settled(state: RunState, i: number, at: string, out: Commands): void {
  state.stepEndedAt[i] = at;
  state.stage[i] = STAGE.NONE;
  state.unsettled--;
  out.stepSettled(i);

  const s = state.plan.steps[i]!;
  const status = state.stepStatus[i];
  // An edge is taken when its source completed, was skipped by its own conditional, or failed without
  // throw_on_error (a branch: only its own destinations here; takeSelected adds the chosen condition's).
  const takes =
    status === STEP.COMPLETED ||
    (status === STEP.SKIPPED && state.skip[i] === SKIP.CONDITIONAL) ||
    (status === STEP.FAILED && !s.throwOnError && state.stopReason === null);
  const succs = s.succs;
  const taken = state.taken;
  if (takes) {
    if (s.direct === null) for (let k = 0; k < succs.length; k++) taken[succs[k]!] = 1;
    else for (const t of s.direct) taken[t] = 1;
  }
  const waiting = state.waiting;
  for (let k = 0; k < succs.length; k++) {
    const t = succs[k]!;
    if (--waiting[t] === 0 && state.stepStatus[t] === STEP.PENDING) state.ready[state.readyCount++] = t;
  }
  if (s.agent !== null) agentStepSettled(state, i, at, out);
}

/** Rule 6: a branch that completed takes the edges to its chosen condition's destinations (or else's). */
function takeSelected(state: RunState, s: PlanStep, output: unknown): void {
  const selected = (output as { selected?: unknown } | null)?.selected;
  const branch = s.branch!;
  const targets =
    selected === 'else' ? branch.elseTargets : branch.conditions.find((c) => c.key === selected)?.targets;
  if (targets === undefined) return;
  for (let k = 0; k < targets.length; k++) state.taken[targets[k]!] = 1;
}

// ── usage ───────────────────────────────────────────────────────────────────────────────────────

function usageRecorded(
  state: RunState,
  i: number,
  call: UsageCall,
  entry: JournalEntry,
  out: Commands,
): void {
  const key = state.plan.steps[i]!.key;
  const total = state.ledger.record(key, call);
  out.usage(i, call, total);
  const max = state.settings.maxCredits;
  if (total > max && state.stopReason === null) {
    state.budgetStep = i;
    state.budgetSeq = entry.seq;
    // The budget fails the run whatever the step's throw_on_error; the step itself fails with it.
    failRun(
      state,
      {
        code: ERROR_CODES.BUDGET_EXCEEDED,
        message: `The run spent ${round(total)} credits, over its budget of ${max} (limits.maxCredits). Raise the budget or use a cheaper model.`,
        step_key: key,
        details: { spent: total, budget: max },
      },
      entry.at,
      out,
    );
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

// ── ending ──────────────────────────────────────────────────────────────────────────────────────

/** Once every step has settled, the run's outcome is known: the runner ends it (`run.ended`). */
export function maybeEnd(state: RunState, out: Commands): void {
  if (state.ending !== null || state.unsettled > 0 || state.status !== 'RUNNING') return;
  state.ending = state.error !== null ? 'FAILED' : state.stopReason !== null ? 'CANCELLED' : 'COMPLETED';
  out.end();
}

const END_EVENT = { COMPLETED: 'COMPLETE', FAILED: 'FAIL', CANCELLED: 'CANCEL' } as const;

function runEnded(state: RunState, entry: RunEndedEntry, out: Commands): void {
  if (state.ending === null || entry.status !== state.ending) {
    throw impossible(state, entry, `the run's outcome is ${state.ending ?? 'not known yet'}`);
  }
  state.status = runLifecycle.transition(state.status, END_EVENT[entry.status], 'run', state.runId);
  state.endedAt = entry.at;
  out.ended();
}
