/**
 * The scheduler's commands: what `decide` wants done. `decide` writes them to a `Commands` port instead
 * of returning an array, so that a step costs no command objects: the runner's port is a `CommandQueue`
 * (parallel arrays, executed in order once `decide` returns), a fold through a journal uses a port that
 * ignores effects, and tests record them as plain objects (`recordCommands`).
 *
 * Indices are plan step indices; `index` is a loop iteration's index, or -1 for a step's body.
 */
import type { ErrorRecord } from '../errors.js';
import type { LogEntry, UsageCall } from './types.js';

export const TIMERS = ['timeout', 'retry', 'grace'] as const;
export type TimerName = (typeof TIMERS)[number];
/** Timer kinds by index into TIMERS. */
export const TIMER = { TIMEOUT: 0, RETRY: 1, GRACE: 2 } as const;

export const EVALUATIONS = ['conditional', 'loop'] as const;
export type EvaluationField = (typeof EVALUATIONS)[number];
export const EVALUATION = { CONDITIONAL: 0, LOOP: 1 } as const;

export type IterationStatus = 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface Commands {
  /** Emit `run.started`. */
  runStarted(): void;
  /** Evaluate the step's `conditional` or `loop` (EVALUATION); answer with `step.evaluated`. */
  evaluate(step: number, field: number): void;
  /** A loop step's iterations begin: emit `step.started`. */
  stepStarted(step: number): void;
  /**
   * Run one attempt: answer with `step.started` when its handler is called, then `step.settled`. The
   * first attempt of a step's body (index -1, attempt 1) is also the body beginning: emit `step.started`
   * (one command rather than two per step).
   */
  invoke(step: number, index: number, attempt: number): void;
  /** The attempt timed out: abort its signal (its handler may still settle; that is not news any more). */
  abort(step: number, index: number, attempt: number): void;
  /** A loop iteration failed with `throw_on_error`: abort the loop's other iterations. */
  abortLoop(step: number): void;
  /** The run stopped (`state.stopReason`, `state.error`): abort every execution of the run. */
  stop(): void;
  /** Answer with `timer.fired` at `due` (ms since the epoch). */
  setTimer(timer: number, step: number, index: number, attempt: number, due: number): void;
  clearTimer(timer: number, step: number, index: number, attempt: number): void;
  /** Emit `step.retrying` (`attempt` is the next one). */
  retrying(step: number, index: number, attempt: number, delayMs: number, error: ErrorRecord): void;
  /** Emit `loop.iteration`. */
  iterationSettled(step: number, index: number, status: IterationStatus, error: ErrorRecord | null): void;
  /** The step settled: publish it to the scope and emit its settling event. */
  stepSettled(step: number): void;
  /** Emit `usage`. */
  usage(step: number, call: UsageCall, total: number): void;
  /** Emit `log`. */
  log(step: number, entry: LogEntry): void;
  /** Every step has settled (`state.ending`): end the run once no handler runs (answer with `run.ended`). */
  end(): void;
  /** The run ended: emit its final event, resolve `done`. */
  ended(): void;
}

export const OP = {
  RUN_STARTED: 0,
  EVALUATE: 1,
  STEP_STARTED: 2,
  INVOKE: 3,
  ABORT: 4,
  ABORT_LOOP: 5,
  STOP: 6,
  SET_TIMER: 7,
  CLEAR_TIMER: 8,
  RETRYING: 9,
  ITERATION: 10,
  STEP_SETTLED: 11,
  USAGE: 12,
  LOG: 13,
  END: 14,
  ENDED: 15,
} as const;

/**
 * A FIFO of commands in one array used as a ring: each command takes six consecutive slots — its `op`,
 * `step`, `index`, `attempt`, a number and one object argument. No object per command, and no array
 * that grows and shrinks per step (a synchronous chain pushes and takes a handful of commands per step for
 * its whole length). `take()` returns the slot of the next command's `op`, or -1; its arguments follow.
 */
export class CommandQueue implements Commands {
  /** The ring: capacity × 6 slots. */
  slots: unknown[] = new Array<unknown>(8 * 6).fill(0);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The slot of the next command (valid until the next push), or -1 when there is none. */
  take(): number {
    if (this.#size === 0) return -1;
    const p = this.#head;
    this.#head = p + 6 === this.slots.length ? 0 : p + 6;
    this.#size--;
    return p;
  }

  /** Drops every command not yet taken. */
  clear(): void {
    this.#head = 0;
    this.#size = 0;
    this.slots.fill(0);
  }

  #push(op: number, step: number, index: number, attempt: number, num: number, obj: unknown): void {
    const slots = this.slots;
    if (this.#size * 6 === slots.length) {
      this.#grow();
      this.#push(op, step, index, attempt, num, obj);
      return;
    }
    let p = this.#head + this.#size * 6;
    if (p >= slots.length) p -= slots.length;
    slots[p] = op;
    slots[p + 1] = step;
    slots[p + 2] = index;
    slots[p + 3] = attempt;
    slots[p + 4] = num;
    slots[p + 5] = obj;
    this.#size++;
  }

  /** Doubles the capacity, the commands in order from slot 0. */
  #grow(): void {
    const old = this.slots;
    const slots = new Array<unknown>(old.length * 2).fill(0);
    for (let k = 0; k < old.length; k++) slots[k] = old[(this.#head + k) % old.length];
    this.slots = slots;
    this.#head = 0;
  }

  runStarted(): void {
    this.#push(OP.RUN_STARTED, -1, -1, 0, 0, null);
  }
  evaluate(step: number, field: number): void {
    this.#push(OP.EVALUATE, step, -1, 0, field, null);
  }
  stepStarted(step: number): void {
    this.#push(OP.STEP_STARTED, step, -1, 0, 0, null);
  }
  invoke(step: number, index: number, attempt: number): void {
    this.#push(OP.INVOKE, step, index, attempt, 0, null);
  }
  abort(step: number, index: number, attempt: number): void {
    this.#push(OP.ABORT, step, index, attempt, 0, null);
  }
  abortLoop(step: number): void {
    this.#push(OP.ABORT_LOOP, step, -1, 0, 0, null);
  }
  stop(): void {
    this.#push(OP.STOP, -1, -1, 0, 0, null);
  }
  setTimer(timer: number, step: number, index: number, attempt: number, due: number): void {
    this.#push(OP.SET_TIMER, step, index, attempt, due, timer);
  }
  clearTimer(timer: number, step: number, index: number, attempt: number): void {
    this.#push(OP.CLEAR_TIMER, step, index, attempt, 0, timer);
  }
  retrying(step: number, index: number, attempt: number, delayMs: number, error: ErrorRecord): void {
    this.#push(OP.RETRYING, step, index, attempt, delayMs, error);
  }
  iterationSettled(step: number, index: number, status: IterationStatus, error: ErrorRecord | null): void {
    this.#push(OP.ITERATION, step, index, 0, 0, error === null ? status : { status, error });
  }
  stepSettled(step: number): void {
    this.#push(OP.STEP_SETTLED, step, -1, 0, 0, null);
  }
  usage(step: number, call: UsageCall, total: number): void {
    this.#push(OP.USAGE, step, -1, 0, total, call);
  }
  log(step: number, entry: LogEntry): void {
    this.#push(OP.LOG, step, -1, 0, 0, entry);
  }
  end(): void {
    this.#push(OP.END, -1, -1, 0, 0, null);
  }
  ended(): void {
    this.#push(OP.ENDED, -1, -1, 0, 0, null);
  }
}

/** A port that drops every command (a fold that only rebuilds state). */
export const IGNORE_COMMANDS: Commands = {
  runStarted() {},
  evaluate() {},
  stepStarted() {},
  invoke() {},
  abort() {},
  abortLoop() {},
  stop() {},
  setTimer() {},
  clearTimer() {},
  retrying() {},
  iterationSettled() {},
  stepSettled() {},
  usage() {},
  log() {},
  end() {},
  ended() {},
};

export interface RecordedCommand {
  command: keyof Commands;
  args: unknown[];
}

/** A port that records commands as plain objects, for tests of `decide`. */
export function recordCommands(): { out: Commands; commands: RecordedCommand[] } {
  const commands: RecordedCommand[] = [];
  const out = {} as Record<keyof Commands, (...args: unknown[]) => void>;
  for (const command of Object.keys(IGNORE_COMMANDS) as Array<keyof Commands>) {
    out[command] = (...args: unknown[]) => void commands.push({ command, args });
  }
  return { out: out as unknown as Commands, commands };
}
