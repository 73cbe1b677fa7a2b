/**
 * Lifecycles are xstate v5 machines — the definitions below are the source of truth and can be
 * inspected, visualised and tested as machines. Running an xstate actor (or even its pure
 * `transition`) per run or per step costs tens of microseconds, far above the engine's per-step
 * budget, so each machine is compiled once, at module load, into a lookup table by asking xstate
 * itself for every (state, event) transition. The scheduler then moves through the table, by index
 * (`step`) on its hot path, and every move is checked: an event the machine does not accept in the
 * current state throws an INTERNAL WeftError naming both, never a silent `undefined`.
 */
import { type AnyStateMachine, initialTransition, setup, transition } from 'xstate';
import { ERROR_CODES, WeftError } from '../errors.js';
import { RUN_STATUSES, type RunStatus, STEP_STATUSES, type StepStatus } from '../statuses.js';

export { RUN_STATUSES, type RunStatus, STEP_STATUSES, type StepStatus };

export interface Lifecycle<S extends string, E extends string> {
  readonly machine: AnyStateMachine;
  readonly initial: S;
  readonly states: readonly S[];
  readonly events: readonly E[];
  /** The next state, or undefined when the machine does not accept the event in that state. */
  next(state: S, event: E): S | undefined;
  isFinal(state: S): boolean;
  /**
   * The checked move: the next state, or a thrown INTERNAL WeftError naming the subject (`kind` and
   * `name`, e.g. step "a"), the state and the event when the machine does not accept the event there.
   */
  transition(state: S, event: E, kind: string, name: string): S;
  /**
   * The same by index (into `states` and `events`), for the scheduler's per-step state arrays: the next
   * state's index, checked like `transition`.
   */
  step(state: number, event: number, kind: string, name: string): number;
  /** Whether the state at this index is final. */
  isFinalAt(state: number): boolean;
}

export function compileLifecycle<S extends string, E extends string>(
  machine: AnyStateMachine,
  events: readonly E[],
): Lifecycle<S, E> {
  const [initialSnapshot] = initialTransition(machine);
  const initial = initialSnapshot.value as S;
  const states = Object.keys(machine.config.states ?? {}) as S[];
  const table = new Map<S, Map<E, S>>();
  const finals = new Set<S>();
  // By index: moves[state × events + event] is the next state's index, or -1.
  const moves = new Int8Array(states.length * events.length).fill(-1);
  const finalAt = new Uint8Array(states.length);
  for (let i = 0; i < states.length; i++) {
    const state = states[i]!;
    const row = new Map<E, S>();
    const snapshot = machine.resolveState({ value: state, context: {} });
    if (snapshot.status === 'done') {
      finals.add(state);
      finalAt[i] = 1;
    }
    for (let e = 0; e < events.length; e++) {
      const event = events[e]!;
      const [next] = transition(machine, snapshot, { type: event });
      if (next.value !== state) {
        row.set(event, next.value as S);
        moves[i * events.length + e] = states.indexOf(next.value as S);
      }
    }
    table.set(state, row);
  }
  // The subject's name is only put into words on failure: a transition happens on every step of every run.
  const refuse = (kind: string, name: string, state: string, event: string): WeftError =>
    new WeftError(
      ERROR_CODES.INTERNAL,
      `The ${machine.id} lifecycle of ${kind} "${name}" has no transition ${event} from ${state}. This is a bug in Weft: please report it.`,
      { details: { machine: machine.id, [kind]: name, state, event }, retryable: false },
    );
  const width = events.length;
  return {
    machine,
    initial,
    states,
    events,
    next: (state, event) => table.get(state)?.get(event),
    isFinal: (state) => finals.has(state),
    transition(state, event, kind, name) {
      const next = table.get(state)?.get(event);
      if (next === undefined) throw refuse(kind, name, state, event);
      return next;
    },
    step(state, event, kind, name) {
      const next = moves[state * width + event];
      if (next === undefined || next < 0) {
        throw refuse(kind, name, states[state] ?? String(state), events[event] ?? String(event));
      }
      return next;
    },
    isFinalAt: (state) => finalAt[state] === 1,
  };
}

export const RUN_EVENTS = ['START', 'COMPLETE', 'FAIL', 'CANCEL'] as const;
export type RunEvent = (typeof RUN_EVENTS)[number];

/** PENDING → RUNNING → COMPLETED | FAILED | CANCELLED; a pending run can be cancelled before it starts. */
export const runMachine = setup({}).createMachine({
  id: 'run',
  initial: 'PENDING',
  states: {
    PENDING: { on: { START: 'RUNNING', CANCEL: 'CANCELLED' } },
    RUNNING: { on: { COMPLETE: 'COMPLETED', FAIL: 'FAILED', CANCEL: 'CANCELLED' } },
    COMPLETED: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELLED: { type: 'final' },
  },
});

export const STEP_EVENTS = ['START', 'COMPLETE', 'FAIL', 'CANCEL', 'SKIP'] as const;
export type StepEvent = (typeof STEP_EVENTS)[number];

/**
 * A step waits (PENDING) until it is ready, then either is skipped or runs; a running step ends
 * COMPLETED, FAILED or CANCELLED. Retries happen inside RUNNING. A pending step can also be cancelled
 * — never: when a run stops, steps that never started are SKIPPED (they did not run), see semantics.
 */
export const stepMachine = setup({}).createMachine({
  id: 'step',
  initial: 'PENDING',
  states: {
    PENDING: { on: { START: 'RUNNING', SKIP: 'SKIPPED' } },
    RUNNING: { on: { COMPLETE: 'COMPLETED', FAIL: 'FAILED', CANCEL: 'CANCELLED', SKIP: 'SKIPPED' } },
    COMPLETED: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELLED: { type: 'final' },
    SKIPPED: { type: 'final' },
  },
});

export const runLifecycle: Lifecycle<RunStatus, RunEvent> = compileLifecycle(runMachine, RUN_EVENTS);
export const stepLifecycle: Lifecycle<StepStatus, StepEvent> = compileLifecycle(stepMachine, STEP_EVENTS);

/** Step statuses by index in `stepLifecycle.states` (the scheduler keeps a step's status as this index). */
export const STEP = {
  PENDING: stepLifecycle.states.indexOf('PENDING'),
  RUNNING: stepLifecycle.states.indexOf('RUNNING'),
  COMPLETED: stepLifecycle.states.indexOf('COMPLETED'),
  FAILED: stepLifecycle.states.indexOf('FAILED'),
  CANCELLED: stepLifecycle.states.indexOf('CANCELLED'),
  SKIPPED: stepLifecycle.states.indexOf('SKIPPED'),
} as const;

/** Step events by index in `stepLifecycle.events`. */
export const STEP_EVENT = {
  START: stepLifecycle.events.indexOf('START'),
  COMPLETE: stepLifecycle.events.indexOf('COMPLETE'),
  FAIL: stepLifecycle.events.indexOf('FAIL'),
  CANCEL: stepLifecycle.events.indexOf('CANCEL'),
  SKIP: stepLifecycle.events.indexOf('SKIP'),
} as const;
