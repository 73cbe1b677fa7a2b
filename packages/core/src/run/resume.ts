/**
 * Resuming a run from its journal (docs/semantics.md, "Durable runs"). The runner folds the entries
 * through `decide` from the initial state, then feeds one `run.resumed` entry; this file holds what
 * `decide` does with it — ask again for what the state still wants — and the check of a journal handed
 * to `engine.resume` (it comes from outside: a store, a file).
 *
 * What the final state still wants: executions that had begun and not settled were lost with the old
 * process and run again with the next attempt number (at least once; a handler makes its side effects
 * idempotent with `ctx.idempotency_key`); executions asked for and not begun are asked for again; retry
 * back-offs are re-armed at their recorded deadlines; expressions being evaluated are evaluated again; a
 * run whose steps had all settled ends.
 */
import type { Plan } from '../compile/plan.js';
import { describeValue, ERROR_CODES, WeftError } from '../errors.js';
import { STEP } from '../lifecycle/lifecycle.js';
import { invocationAbandoned, invocationSettled, resumeAgents, toolOf } from './agent.js';
import { cancelWaiting, queueAttempt } from './attempt.js';
import { type Commands, EVALUATION, TIMER } from './commands.js';
import { JOURNAL_ENTRY_TYPES, type JournalEntry, type RunResumedEntry } from './journal.js';
import { settleIfIdle } from './loop.js';
import { cancelStep, impossible } from './scheduler.js';
import { loopOf, type RunState, STAGE, UNIT, type Units } from './state.js';

export function resumed(state: RunState, entry: RunResumedEntry, out: Commands): void {
  if (state.status !== 'RUNNING') throw impossible(state, entry, `the run is ${state.status}`);
  if (state.ending !== null) {
    out.end();
    return;
  }
  if (state.stopReason !== null) {
    out.stop();
    if (!Number.isNaN(state.graceDeadline)) out.setTimer(TIMER.GRACE, -1, -1, 0, state.graceDeadline);
  }
  const steps = state.plan.steps;
  for (let i = 0; i < steps.length; i++) {
    if (state.stepStatus[i] !== STEP.RUNNING) continue;
    switch (state.stage[i]) {
      case STAGE.CONDITIONAL:
        out.evaluate(i, EVALUATION.CONDITIONAL);
        break;
      case STAGE.LOOP:
        out.evaluate(i, EVALUATION.LOOP);
        break;
      case STAGE.BODY:
        if (resumeUnit(state, i, -1, state.body, out)) cancelStep(state, i, entry.at, out);
        break;
      case STAGE.ITERATIONS: {
        const loop = loopOf(state, i);
        for (let index = 0; index < loop.next; index++) {
          if (resumeUnit(state, i, index, loop.units, out)) {
            loop.running--;
            out.iterationSettled(i, index, 'CANCELLED', {
              code: ERROR_CODES.CANCELLED,
              message: state.stopReason!,
            });
          }
        }
        settleIfIdle(state, i, loop, entry.at, out);
        break;
      }
      case STAGE.TOOL: {
        const tool = toolOf(state, i);
        for (let k = 0; k < tool.invocations.length; k++) {
          const phase = tool.units.phase[k];
          if (phase === UNIT.DONE) continue;
          // A call whose model step has ended is not run again; neither is one lost while stopping.
          const abandoned = invocationAbandoned(state, i, k);
          if (abandoned && phase === UNIT.WAITING) cancelWaiting(i, k, tool.units, out);
          if (abandoned) tool.units.phase[k] = UNIT.DONE;
          if (abandoned || resumeUnit(state, i, k, tool.units, out)) {
            invocationSettled(
              state,
              i,
              k,
              null,
              { code: ERROR_CODES.CANCELLED, message: state.stopReason ?? 'The model step ended.' },
              entry.at,
              out,
            );
          }
        }
        break;
      }
    }
    if (steps[i]!.agent !== null && state.stepStatus[i] === STEP.RUNNING)
      resumeAgents(state, i, entry.at, out);
  }
}

/**
 * Asks again for what one unit was doing. Returns true when the unit was lost while the run was
 * stopping: it is not run again, it ends (the caller settles it CANCELLED).
 */
function resumeUnit(state: RunState, i: number, index: number, units: Units, out: Commands): boolean {
  const slot = index < 0 ? i : index;
  const phase = units.phase[slot];
  const attempt = units.attempt[slot]!;
  if (phase === UNIT.WAITING) {
    if (state.stopReason !== null) {
      cancelWaiting(i, index, units, out);
      return true;
    }
    out.setTimer(TIMER.RETRY, i, index, attempt, units.deadline![slot]!);
  } else if (phase === UNIT.QUEUED || phase === UNIT.RUNNING) {
    if (state.stopReason !== null) {
      units.phase[slot] = UNIT.DONE;
      return true;
    }
    // Queued: never began, ask again. Running: lost with the old process, run again (next attempt).
    if (phase === UNIT.QUEUED) out.invoke(i, index, attempt);
    else queueAttempt(state, i, index, out);
  }
  return false;
}

// ── checking a journal ──────────────────────────────────────────────────────────────────────────

type Check = (value: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isStringOrNull: Check = (v) => v === null || typeof v === 'string';
const isObject: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isObjectOrNull: Check = (v) => v === null || isObject(v);
const isIndex: Check = (v) => v === null || (Number.isSafeInteger(v) && (v as number) >= 0);
const isAttempt: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 1;
const isJitter: Check = (v) => typeof v === 'number' && v >= 0 && v < 1;
const isError: Check = (v) =>
  isObject(v) &&
  typeof (v as { code?: unknown }).code === 'string' &&
  typeof (v as { message?: unknown }).message === 'string';
const isErrorOrNull: Check = (v) => v === null || isError(v);
const any: Check = () => true;

const FIELDS: Record<JournalEntry['type'], Record<string, [Check, string]>> = {
  'run.started': {
    plan_hash: [isString, 'a string'],
    input: [isObject, 'an object'],
    from_step_key: [isStringOrNull, 'a step key or null'],
    created_at: [isString, 'an ISO time'],
    meta: [isObject, 'an object'],
    preset: [isObjectOrNull, 'an object or null'],
  },
  'step.evaluated': {
    key: [isString, 'a step key'],
    field: [(v) => v === 'conditional' || v === 'loop', '"conditional" or "loop"'],
    value: [(v) => v === null || typeof v === 'boolean' || Array.isArray(v), 'a boolean, an array or null'],
    error: [isErrorOrNull, 'an error record or null'],
  },
  'step.started': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    attempt: [isAttempt, 'a positive integer'],
  },
  'child.started': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    attempt: [isAttempt, 'a positive integer'],
    child_run_id: [(v) => typeof v === 'string' && v !== '' && v.length <= 200, 'a run id'],
  },
  'step.settled': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    attempt: [isAttempt, 'a positive integer'],
    outcome: [(v) => v === 'completed' || v === 'failed', '"completed" or "failed"'],
    output: [any, 'any value'],
    error: [isErrorOrNull, 'an error record or null'],
    retryable: [(v) => typeof v === 'boolean', 'a boolean'],
    jitter: [isJitter, 'a number in [0, 1)'],
  },
  'usage.recorded': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    call: [
      (v) => isObject(v) && typeof (v as { id?: unknown }).id === 'string',
      'a usage call { id, total }',
    ],
  },
  'step.logged': {
    key: [isString, 'a step key'],
    log: [(v) => isObject(v) && typeof (v as { message?: unknown }).message === 'string', 'a log entry'],
  },
  'model.replied': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    attempt: [isAttempt, 'a positive integer'],
    turn: [isAttempt, 'a positive integer'],
    message: [isString, 'a string'],
    refusal: [isStringOrNull, 'a string or null'],
    model: [isStringOrNull, 'a string or null'],
    tool_calls: [
      (v) =>
        Array.isArray(v) &&
        v.every(
          (c) =>
            isObject(c) &&
            typeof (c as { id?: unknown }).id === 'string' &&
            typeof (c as { name?: unknown }).name === 'string' &&
            isErrorOrNull((c as { error?: unknown }).error),
        ),
      'an array of tool calls { id, name, input, error }',
    ],
  },
  'tool.started': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    call: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a call index'],
  },
  'tool.settled': {
    key: [isString, 'a step key'],
    index: [isIndex, 'an iteration index or null'],
    call: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'a call index'],
    outcome: [(v) => v === 'completed' || v === 'failed', '"completed" or "failed"'],
    output: [any, 'any value'],
    error: [isErrorOrNull, 'an error record or null'],
  },
  'timer.fired': {
    timer: [(v) => v === 'timeout' || v === 'retry' || v === 'grace', '"timeout", "retry" or "grace"'],
    key: [isStringOrNull, 'a step key or null'],
    index: [isIndex, 'an iteration index or null'],
    attempt: [(v) => Number.isSafeInteger(v) && (v as number) >= 0, 'an integer ≥ 0'],
    jitter: [isJitter, 'a number in [0, 1)'],
  },
  'cancel.requested': { reason: [isString, 'a string'] },
  'journal.failed': { error: [isError, 'an error record'] },
  'run.resumed': {},
  'run.ended': {
    status: [(v) => v === 'COMPLETED' || v === 'FAILED' || v === 'CANCELLED', 'a final run status'],
  },
};

/**
 * Checks a journal handed to `engine.resume`: entries of one run, numbered 1, 2, 3, … in order, each
 * of a known type with the fields that type has, the first of a run that began being `run.started` for
 * this very document. Throws INVALID_ARGUMENT naming the entry and the field. Whether the facts make a
 * possible run is checked as they are folded (an impossible one is refused the same way).
 */
export function checkJournal(
  journal: unknown,
  plan: Plan,
): { runId: string | null; entries: JournalEntry[] } {
  if (!Array.isArray(journal)) throw bad('journal', 'an array of journal entries', journal);
  let runId: string | null = null;
  for (let k = 0; k < journal.length; k++) {
    const e = journal[k] as Record<string, unknown>;
    const at = `journal[${k}]`;
    if (!isObject(e)) throw bad(at, 'a journal entry (an object)', e);
    if (typeof e.run_id !== 'string' || e.run_id === '') throw bad(`${at}.run_id`, 'a run id', e.run_id);
    runId ??= e.run_id;
    if (e.run_id !== runId) throw bad(`${at}.run_id`, `"${runId}" (one run's journal)`, e.run_id);
    if (e.seq !== k + 1)
      throw bad(`${at}.seq`, `${k + 1} (entries numbered from 1, in order, without gaps)`, e.seq);
    if (typeof e.type !== 'string' || !(JOURNAL_ENTRY_TYPES as readonly string[]).includes(e.type)) {
      throw bad(`${at}.type`, `one of ${JOURNAL_ENTRY_TYPES.join(', ')}`, e.type);
    }
    if (typeof e.at !== 'string' || !Number.isFinite(Date.parse(e.at)))
      throw bad(`${at}.at`, 'an ISO time', e.at);
    for (const [field, [check, expected]] of Object.entries(FIELDS[e.type as JournalEntry['type']])) {
      if (!check(e[field])) throw bad(`${at}.${field}`, expected, e[field]);
    }
    if (e.type === 'run.started') {
      if (k !== 0) throw bad(`${at}.type`, 'run.started only as the first entry', e.type);
      if (e.plan_hash !== plan.hash) {
        throw new WeftError(
          ERROR_CODES.INVALID_ARGUMENT,
          `Expected \`journal\` to be a journal of this document: its run started on plan ${String(e.plan_hash)}, the document given compiles to ${plan.hash}. Resume a run with the very version it started on.`,
          { details: { parameter: 'journal', seq: k + 1, field: 'plan_hash' } },
        );
      }
    }
  }
  return { runId, entries: journal as JournalEntry[] };
}

function bad(parameter: string, expected: string, got: unknown): WeftError {
  return new WeftError(
    ERROR_CODES.INVALID_ARGUMENT,
    `Expected \`${parameter}\` to be ${expected}, got ${describeValue(got)}.`,
    { details: { parameter } },
  );
}
