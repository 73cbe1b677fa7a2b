/**
 * Tool loops as `decide` runs them (docs/semantics.md, "Tools"). A model step with tools makes model
 * calls; a reply with tool calls is a fact (`model.replied`) from which the scheduler runs the calls:
 * a **step tool** is an execution of its tool-only step (units indexed by `tool_index`, with the step's
 * own retries and timeouts: attempt.ts), an **external tool** a call of the engine's handler
 * (`tool.started` / `tool.settled`). Calls of one turn start together (`tools_parallel`) or one after the
 * other; once all have settled the model step is told (`toolsSettled`) and makes its next call. Everything
 * a resumed or retried model step needs — the replies, each call's result — is in this state, rebuilt from
 * the journal, so a completed tool call never runs again. A tool-only step settles once every model step
 * that calls it has settled and none of its invocations runs. Part of the scheduler; pure like it.
 */
import type { PlanTool } from '../compile/agent.js';
import { ERROR_CODES, type ErrorRecord } from '../errors.js';
import { STEP, STEP_EVENT, stepLifecycle } from '../lifecycle/lifecycle.js';
import { cancelWaiting, queueAttempt } from './attempt.js';
import type { Commands } from './commands.js';
import type { ModelRepliedEntry, ToolSettledEntry, ToolStartedEntry } from './journal.js';
import { cancelStep, completeStep, failStep, impossible, skipStep } from './scheduler.js';
import {
  type AgentCall,
  type AgentState,
  CALL,
  createUnits,
  extraOf,
  type RunState,
  SKIP,
  STAGE,
  type ToolState,
  UNIT,
  type Units,
} from './state.js';

/** The tool loop of unit `index` of model step `i` (made on first use). */
export function agentOf(state: RunState, i: number, index: number): AgentState {
  const extra = extraOf(state, i);
  extra.agents ??= new Map();
  let agent = extra.agents.get(index);
  if (agent === undefined) {
    agent = { turns: [], calls: [], open: 0, done: false };
    extra.agents.set(index, agent);
  }
  return agent;
}

/** The unit's tool loop, if it made any tool call. */
export function agentIfAny(state: RunState, i: number, index: number): AgentState | undefined {
  return state.extras[i]?.agents?.get(index);
}

/** Tool-only step `t`'s invocations (made on first use). */
export function toolOf(state: RunState, t: number): ToolState {
  const extra = extraOf(state, t);
  extra.tool ??= { invocations: [], units: createUnits(4), outputs: [], status: [], errors: [], running: 0 };
  return extra.tool;
}

/** Whether invocation `k` of tool step `t` is no longer wanted: its model step unit has ended. */
export function invocationAbandoned(state: RunState, t: number, k: number): boolean {
  const inv = state.extras[t]?.tool?.invocations[k];
  if (inv === undefined) return true;
  return agentIfAny(state, inv.parent, inv.parentIndex)?.done !== false;
}

const CANCELLED_CALL: ErrorRecord = Object.freeze({
  code: ERROR_CODES.CANCELLED,
  message: 'The model step ended before this tool call ran.',
});

// ── a reply with tool calls ─────────────────────────────────────────────────────────────────────

export function modelReplied(state: RunState, entry: ModelRepliedEntry, out: Commands, i: number): void {
  const index = entry.index === null ? -1 : entry.index;
  const s = state.plan.steps[i]!;
  const agentPlan = s.agent;
  if (agentPlan === null) throw impossible(state, entry, `step "${s.key}" has no tools`);
  if (!unitRunning(state, i, index, entry.attempt)) {
    throw impossible(state, entry, `attempt ${entry.attempt} of that execution is not running`);
  }
  const agent = agentOf(state, i, index);
  if (agent.open > 0) throw impossible(state, entry, "the last turn's tool calls have not all settled");
  if (entry.turn !== agent.turns.length + 1 || entry.turn > agentPlan.maxIterations) {
    throw impossible(state, entry, `the next turn is ${agent.turns.length + 1}`);
  }
  const first = agent.calls.length;
  for (let c = 0; c < entry.tool_calls.length; c++) {
    const requested = entry.tool_calls[c]!;
    const tool = requested.error === null ? toolNamed(agentPlan.tools, requested.name) : undefined;
    const call: AgentCall = {
      id: requested.id,
      name: requested.name,
      input: requested.input,
      turn: entry.turn,
      step: tool?.step ?? -1,
      unit: -1,
      status: CALL.PENDING,
      output: null,
      error: null,
    };
    agent.calls.push(call);
    if (requested.error !== null || tool === undefined) {
      call.status = CALL.FAILED;
      call.error = requested.error ?? {
        code: ERROR_CODES.INVALID_TOOL_CALL,
        message: `The model called the tool "${requested.name}", which the step does not have.`,
      };
    } else if (state.stopReason !== null) {
      call.status = CALL.CANCELLED;
      call.error = CANCELLED_CALL;
    } else {
      agent.open++;
    }
    out.callEvent(i, index, first + c, false);
    if (call.status !== CALL.PENDING) out.callEvent(i, index, first + c, true);
  }
  agent.turns.push({
    message: entry.message,
    refusal: entry.refusal,
    model: entry.model,
    first,
    count: entry.tool_calls.length,
  });
  startCalls(state, i, index, agent, entry.at, out);
  if (agent.open === 0) out.toolsSettled(i, index);
}

function toolNamed(tools: readonly PlanTool[], name: string): PlanTool | undefined {
  for (const tool of tools) if (tool.name === name) return tool;
  return undefined;
}

function unitRunning(state: RunState, i: number, index: number, attempt: number): boolean {
  if (state.stepStatus[i] !== STEP.RUNNING) return false;
  const units =
    index < 0 ? (state.stage[i] === STAGE.BODY ? state.body : undefined) : state.extras[i]?.loop?.units;
  const slot = index < 0 ? i : index;
  return units !== undefined && units.attempt[slot] === attempt && units.phase[slot] === UNIT.RUNNING;
}

/** Starts the last turn's calls that may start: all of them (`tools_parallel`), else the next in order. */
function startCalls(
  state: RunState,
  i: number,
  index: number,
  agent: AgentState,
  at: string,
  out: Commands,
): void {
  if (agent.done || state.stopReason !== null || agent.turns.length === 0) return;
  const parallel = state.plan.steps[i]!.agent!.parallel;
  const turn = agent.turns[agent.turns.length - 1]!;
  for (let c = turn.first; c < turn.first + turn.count; c++) {
    const status = agent.calls[c]!.status;
    if (status === CALL.QUEUED || status === CALL.RUNNING) {
      if (!parallel) return;
      continue;
    }
    if (status !== CALL.PENDING) continue;
    startCall(state, i, index, agent, c, at, out);
    if (!parallel) return;
  }
}

function startCall(
  state: RunState,
  i: number,
  index: number,
  agent: AgentState,
  c: number,
  at: string,
  out: Commands,
): void {
  const call = agent.calls[c]!;
  const t = call.step;
  if (t < 0) {
    call.status = CALL.QUEUED;
    out.invokeTool(i, index, c);
    return;
  }
  if (stepLifecycle.isFinalAt(state.stepStatus[t]!)) {
    // Only a replay that kept the tool step's record while running its model step again gets here.
    settleCall(
      state,
      i,
      index,
      agent,
      c,
      CALL.FAILED,
      null,
      {
        code: ERROR_CODES.INVALID_TOOL_CALL,
        message: `The tool step "${state.plan.steps[t]!.key}" has already settled in this run (a replay kept its record), so it cannot run again.`,
      },
      at,
      out,
    );
    return;
  }
  const tool = toolOf(state, t);
  if (state.stepStatus[t] === STEP.PENDING) {
    state.stepStatus[t] = stepLifecycle.step(
      STEP.PENDING,
      STEP_EVENT.START,
      'step',
      state.plan.steps[t]!.key,
    );
    state.stepStartedAt[t] = at;
    state.stage[t] = STAGE.TOOL;
    out.stepStarted(t);
  }
  const k = tool.invocations.length;
  tool.invocations.push({ parent: i, parentIndex: index, call: c, input: call.input });
  tool.outputs.push(null);
  tool.status.push(CALL.QUEUED);
  if (k >= tool.units.phase.length) tool.units = grown(tool.units, k + 1);
  tool.running++;
  call.unit = k;
  call.status = CALL.QUEUED;
  queueAttempt(state, t, k, out);
}

/** A copy of `units` with room for at least `n` units (capacity doubles). */
function grown(units: Units, n: number): Units {
  let size = Math.max(4, units.phase.length);
  while (size < n) size *= 2;
  const next = createUnits(size);
  next.phase.set(units.phase);
  next.attempt.set(units.attempt);
  if (units.failures !== null) {
    next.failures = new Int32Array(size);
    next.failures.set(units.failures);
  }
  if (units.deadline !== null) {
    next.deadline = new Float64Array(size);
    next.deadline.set(units.deadline);
  }
  return next;
}

// ── calls settling ──────────────────────────────────────────────────────────────────────────────

/** Invocation `k` of tool step `t` ended for good (attempt.ts): its call settles. */
export function invocationSettled(
  state: RunState,
  t: number,
  k: number,
  output: unknown,
  error: ErrorRecord | null,
  at: string,
  out: Commands,
): void {
  const tool = toolOf(state, t);
  const inv = tool.invocations[k]!;
  const agent = agentOf(state, inv.parent, inv.parentIndex);
  const status =
    error === null
      ? CALL.COMPLETED
      : error.code === ERROR_CODES.CANCELLED && (state.stopReason !== null || agent.done)
        ? CALL.CANCELLED
        : CALL.FAILED;
  tool.running--;
  tool.status[k] = status;
  if (status === CALL.COMPLETED) tool.outputs[k] = output;
  else if (status === CALL.FAILED) tool.errors.push({ index: k, error: error! });
  settleCall(state, inv.parent, inv.parentIndex, agent, inv.call, status, output, error, at, out);
  maybeSettleTool(state, t, at, out);
}

export function toolStarted(state: RunState, entry: ToolStartedEntry, _out: Commands, i: number): void {
  const call = externalCall(state, entry, i);
  if (call.status !== CALL.QUEUED) throw impossible(state, entry, 'that call is not waiting to start');
  call.status = CALL.RUNNING;
}

export function toolSettled(state: RunState, entry: ToolSettledEntry, out: Commands, i: number): void {
  const call = externalCall(state, entry, i);
  if (call.status !== CALL.QUEUED && call.status !== CALL.RUNNING) {
    throw impossible(state, entry, 'that call is not in flight');
  }
  if (entry.outcome === 'completed' && call.status !== CALL.RUNNING) {
    throw impossible(state, entry, 'that call never started');
  }
  const index = entry.index === null ? -1 : entry.index;
  const agent = agentOf(state, i, index);
  const error = entry.outcome === 'completed' ? null : (entry.error ?? CANCELLED_CALL);
  const status =
    error === null
      ? CALL.COMPLETED
      : error.code === ERROR_CODES.CANCELLED && (state.stopReason !== null || agent.done)
        ? CALL.CANCELLED
        : CALL.FAILED;
  settleCall(state, i, index, agent, entry.call, status, entry.output, error, entry.at, out);
}

function externalCall(state: RunState, entry: ToolStartedEntry | ToolSettledEntry, i: number): AgentCall {
  const call = agentIfAny(state, i, entry.index === null ? -1 : entry.index)?.calls[entry.call];
  if (call === undefined || call.step >= 0) throw impossible(state, entry, 'no such external tool call');
  return call;
}

function settleCall(
  state: RunState,
  i: number,
  index: number,
  agent: AgentState,
  c: number,
  status: number,
  output: unknown,
  error: ErrorRecord | null,
  at: string,
  out: Commands,
): void {
  const call = agent.calls[c]!;
  if (call.status >= CALL.COMPLETED) return;
  call.status = status;
  call.output = status === CALL.COMPLETED ? output : null;
  call.error = status === CALL.COMPLETED ? null : error;
  out.callEvent(i, index, c, true);
  if (call.turn !== agent.turns.length) return;
  agent.open--;
  if (agent.done) return;
  startCalls(state, i, index, agent, at, out);
  if (agent.open === 0) out.toolsSettled(i, index);
}

// ── ends ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Unit `index` of model step `i` ended (completed, failed for good, cancelled): its calls that have not
 * begun are cancelled, those in flight aborted (they settle CANCELLED when their handler stops).
 */
export function agentUnitDone(state: RunState, i: number, index: number, at: string, out: Commands): void {
  const agent = agentIfAny(state, i, index);
  if (agent === undefined || agent.done) return;
  agent.done = true;
  for (let c = 0; c < agent.calls.length; c++) {
    const call = agent.calls[c]!;
    if (call.status === CALL.PENDING) {
      settleCall(state, i, index, agent, c, CALL.CANCELLED, null, CANCELLED_CALL, at, out);
    } else if (call.status === CALL.QUEUED || call.status === CALL.RUNNING) {
      const units = call.step >= 0 ? toolOf(state, call.step).units : null;
      if (units !== null && units.phase[call.unit] === UNIT.WAITING) {
        // Waiting out a retry back-off: it ends now.
        cancelWaiting(call.step, call.unit, units, out);
        invocationSettled(state, call.step, call.unit, null, CANCELLED_CALL, at, out);
      } else {
        out.cancelCall(i, index, c);
      }
    }
  }
}

/** Model step `i` settled: its units' calls end, and its tool steps settle once nothing holds them. */
export function agentStepSettled(state: RunState, i: number, at: string, out: Commands): void {
  const agents = state.extras[i]?.agents;
  if (agents != null) for (const index of agents.keys()) agentUnitDone(state, i, index, at, out);
  for (const tool of state.plan.steps[i]!.agent!.tools) {
    if (tool.step >= 0) maybeSettleTool(state, tool.step, at, out);
  }
}

/**
 * A tool-only step settles once every model step that calls it has settled and none of its invocations
 * runs: SKIPPED (`tool_not_called`, or `run_stopped`) without invocations, else CANCELLED if one was
 * cancelled, FAILED if one failed, COMPLETED with the outputs by `tool_index`.
 */
export function maybeSettleTool(state: RunState, t: number, at: string, out: Commands): void {
  if (stepLifecycle.isFinalAt(state.stepStatus[t]!)) return;
  const s = state.plan.steps[t]!;
  for (const p of s.toolOf!) if (!stepLifecycle.isFinalAt(state.stepStatus[p]!)) return;
  const tool = state.extras[t]?.tool ?? null;
  if (tool === null || tool.invocations.length === 0) {
    skipStep(state, t, state.stopReason !== null ? SKIP.RUN_STOPPED : SKIP.TOOL_NOT_CALLED, at, out);
    return;
  }
  if (tool.running > 0) return;
  if (tool.status.includes(CALL.CANCELLED)) {
    cancelStep(state, t, at, out);
  } else if (tool.errors.length > 0) {
    const { index, error } = tool.errors[0]!;
    const parent = state.plan.steps[tool.invocations[index]!.parent]!.key;
    failStep(
      state,
      t,
      {
        code: error.code,
        message: `Call ${index} of the tool step "${s.key}" (by "${parent}") failed: ${error.message}`,
        step_key: s.key,
        details: { ...error.details, tool_index: index },
      },
      at,
      out,
    );
  } else {
    completeStep(state, t, tool.outputs.slice(), at, out);
  }
}

/** The run stopped: tool invocations waiting out a retry back-off end now. */
export function stopToolStep(state: RunState, t: number, at: string, out: Commands): void {
  const tool = state.extras[t]?.tool;
  if (tool == null) return;
  for (let k = 0; k < tool.invocations.length; k++) {
    if (tool.units.phase[k] !== UNIT.WAITING) continue;
    cancelWaiting(t, k, tool.units, out);
    invocationSettled(
      state,
      t,
      k,
      null,
      { code: ERROR_CODES.CANCELLED, message: state.stopReason! },
      at,
      out,
    );
  }
}

/** After a resume: external calls that were asked for or lost are asked for again (or end, if stopping). */
export function resumeAgents(state: RunState, i: number, at: string, out: Commands): void {
  const agents = state.extras[i]?.agents;
  if (agents == null) return;
  for (const [index, agent] of agents) {
    for (let c = 0; c < agent.calls.length; c++) {
      const call = agent.calls[c]!;
      if (call.step >= 0 || (call.status !== CALL.QUEUED && call.status !== CALL.RUNNING)) continue;
      if (state.stopReason !== null || agent.done) {
        settleCall(state, i, index, agent, c, CALL.CANCELLED, null, CANCELLED_CALL, at, out);
      } else {
        call.status = CALL.QUEUED;
        out.invokeTool(i, index, c);
      }
    }
  }
}

// ── the transcript a model step reads ───────────────────────────────────────────────────────────

export const CALL_STATUS_NAMES = [
  'PENDING',
  'QUEUED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;

export interface TranscriptCall {
  id: string;
  name: string;
  input: unknown;
  status: (typeof CALL_STATUS_NAMES)[number];
  output: unknown;
  error: ErrorRecord | null;
}

export interface TranscriptTurn {
  message: string;
  refusal: string | null;
  model: string | null;
  calls: TranscriptCall[];
}

/** Unit `index` of model step `i`'s turns so far (a copy: the state stays `decide`'s). */
export function transcriptOf(state: RunState, i: number, index: number): TranscriptTurn[] {
  const agent = agentIfAny(state, i, index);
  if (agent === undefined) return [];
  return agent.turns.map((turn) => {
    const calls: TranscriptCall[] = [];
    for (let c = turn.first; c < turn.first + turn.count; c++) {
      const call = agent.calls[c]!;
      calls.push({
        id: call.id,
        name: call.name,
        input: call.input,
        status: CALL_STATUS_NAMES[call.status]!,
        output: call.output,
        error: call.error,
      });
    }
    return { message: turn.message, refusal: turn.refusal, model: turn.model, calls };
  });
}
