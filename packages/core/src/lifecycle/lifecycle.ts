/**
 * Lifecycles are xstate v5 machines — the definitions below are the source of truth and can be
 * inspected, visualised and tested as machines. Running an xstate actor (or even its pure
 * `transition`) per run or per step costs tens of microseconds, far above the engine's per-step
 * budget, so each machine is compiled once, at module load, into a lookup table by asking xstate
 * itself for every (state, event) transition. The scheduler then moves through the table.
 */
import { type AnyStateMachine, initialTransition, setup, transition } from 'xstate';
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
  for (const state of states) {
    const row = new Map<E, S>();
    const snapshot = machine.resolveState({ value: state, context: {} });
    if (snapshot.status === 'done') finals.add(state);
    for (const event of events) {
      const [next] = transition(machine, snapshot, { type: event });
      if (next.value !== state) row.set(event, next.value as S);
    }
    table.set(state, row);
  }
  return {
    machine,
    initial,
    states,
    events,
    next: (state, event) => table.get(state)?.get(event),
    isFinal: (state) => finals.has(state),
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
