/**
 * The run journal: the facts of a run, in the order the scheduler consumed them. Every event the
 * scheduler's `decide` function receives is one journal entry (and nothing else changes a run's state),
 * so folding a run's entries through `decide` from the initial state rebuilds the run exactly: that is
 * what `engine.resume` does after a crash (docs/semantics.md, "Durable runs").
 *
 * Entries are plain data: `{ run_id, seq, type, at, ...data }`. A store keeps `run_id`, `seq`, `type` and
 * `at` as columns and the rest as one JSON value (`journalData(entry)`; `journalEntry(...)` puts them back
 * together). `seq` counts a run's entries from 1 without gaps; `at` is the time of the fact (ISO 8601, from
 * the engine's clock, like every time on a run record). The data holds what handlers returned, redacted of
 * the run's secret variables (a secret never reaches a sink); a value JSON cannot represent fails the
 * sink's append like any other store failure.
 *
 * A sink receives the entries of every run that uses it in batches: everything produced within one
 * macrotask goes into one `append` call, in order, and the next `append` waits for the previous one to
 * settle. See `JournalWriter`.
 */
import { ERROR_CODES, type ErrorRecord, ensureWeftError, WeftError } from '../errors.js';
import type { LogEntry, Retention, RunOrigin, StepRecord, UsageCall } from './types.js';

export const JOURNAL_ENTRY_TYPES = [
  'run.started',
  'step.evaluated',
  'step.started',
  'step.settled',
  'usage.recorded',
  'step.logged',
  'model.replied',
  'tool.started',
  'tool.settled',
  'timer.fired',
  'cancel.requested',
  'journal.failed',
  'run.resumed',
  'run.ended',
  'child.started',
] as const;
export type JournalEntryType = (typeof JOURNAL_ENTRY_TYPES)[number];

export interface JournalEntryBase {
  run_id: string;
  /** 1, 2, 3, … for each run, without gaps. */
  seq: number;
  type: JournalEntryType;
  /**
   * When the fact happened (ISO 8601, from the engine's clock). Facts recorded in one synchronous stretch
   * of engine work, with no handler or listener running in between, may share one clock reading.
   */
  at: string;
}

/** What a run was started with (besides the document): enough to rebuild it from its journal. */
export interface RunMeta {
  origin: RunOrigin;
  app_id: string | null;
  workflow_app_id: string | null;
  workflow_id: string | null;
  collection_id: string | null;
  record_id: string | null;
  version: number | null;
  draft: boolean;
  retention: Retention | null;
  replay_of: string | null;
}

/** The run began: its input and options. Always the first entry of a run that began. */
export interface RunStartedEntry extends JournalEntryBase {
  type: 'run.started';
  /** The plan hash of the document (`engine.compile(doc).hash`): a resume checks it is the same document. */
  plan_hash: string;
  /** The run input (`input_default` merged under the caller's input), redacted. */
  input: Record<string, unknown>;
  from_step_key: string | null;
  /** When `engine.start` created the run (the run's `created_at`, ISO 8601). */
  created_at: string;
  meta: RunMeta;
  /** Replay: step records kept from the original run, settled before anything runs. */
  preset: Record<string, StepRecord> | null;
  /**
   * Input fields a model filled before the run began (run/auto-fill.ts): their names (the values are in
   * `input`), the calls made, and the AUTO_FILL_FAILED error when filling failed (the run then fails
   * without running a step). Absent when nothing was left to a model.
   */
  auto_fill?: AutoFillRecord;
}

/** The ledger key of auto-fill calls (`run.usage.steps.$auto`): no step is charged for them. */
export const AUTO_FILL_USAGE_KEY = '$auto';

/** What auto-fill did, as `run.started` records it. */
export interface AutoFillRecord {
  fields: string[];
  calls: UsageCall[];
  error: ErrorRecord | null;
}

/** A step's `conditional` or `loop` was evaluated (expressions are evaluated once; the value is a fact). */
export interface StepEvaluatedEntry extends JournalEntryBase {
  type: 'step.evaluated';
  key: string;
  field: 'conditional' | 'loop';
  /** The conditional's boolean, or the loop's elements; null when `error` is set. */
  value: boolean | unknown[] | null;
  error: ErrorRecord | null;
}

/**
 * An execution began: the step body (`index` null) or loop iteration `index`, attempt `attempt`. The
 * handler is called right after this entry.
 */
export interface StepStartedEntry extends JournalEntryBase {
  type: 'step.started';
  key: string;
  index: number | null;
  attempt: number;
}

/** An execution ended (or was given up before it began: a CANCELLED error, no `step.started`). */
export interface StepSettledEntry extends JournalEntryBase {
  type: 'step.settled';
  key: string;
  index: number | null;
  attempt: number;
  outcome: 'completed' | 'failed';
  /** The handler's output when completed, else null. */
  output: unknown;
  error: ErrorRecord | null;
  /** Whether the error allows a retry (docs/semantics.md, rule 9). */
  retryable: boolean;
  /** A uniform number in [0, 1) for the retry delay's jitter: randomness enters the scheduler as data. */
  jitter: number;
}

export interface UsageRecordedEntry extends JournalEntryBase {
  type: 'usage.recorded';
  key: string;
  index: number | null;
  call: UsageCall;
}

export interface StepLoggedEntry extends JournalEntryBase {
  type: 'step.logged';
  key: string;
  log: LogEntry;
}

/** A tool call as a model reply made it, checked by the model step (run/agent.ts). */
export interface RepliedToolCall {
  /** The provider's id of the call. */
  id: string;
  /** The tool as the document names it (`LOOKUP`, `external:refund`), or the unknown name the model used. */
  name: string;
  /** The parsed arguments; the raw text when they were not JSON. */
  input: unknown;
  /** Set when the call cannot run (malformed arguments, an unknown tool, arguments that do not fit): it fails at once, and the model gets this error as the tool's result. */
  error: ErrorRecord | null;
}

/**
 * A model step's model call (turn `turn`, 1-based) answered with tool calls: the scheduler runs them
 * (docs/semantics.md, "Tools"). Replies without tool calls are not journaled: the step settles with them.
 */
export interface ModelRepliedEntry extends JournalEntryBase {
  type: 'model.replied';
  key: string;
  index: number | null;
  attempt: number;
  turn: number;
  message: string;
  refusal: string | null;
  model: string | null;
  tool_calls: RepliedToolCall[];
}

/** An external tool's call began (`call`: its position in the unit's calls). */
export interface ToolStartedEntry extends JournalEntryBase {
  type: 'tool.started';
  key: string;
  index: number | null;
  call: number;
}

/** An external tool's call ended (or was given up before it began: CANCELLED, no `tool.started`). */
export interface ToolSettledEntry extends JournalEntryBase {
  type: 'tool.settled';
  key: string;
  index: number | null;
  call: number;
  outcome: 'completed' | 'failed';
  output: unknown;
  error: ErrorRecord | null;
}

/**
 * A timer the scheduler set went off: an attempt's `timeout_ms` (`timeout`), the end of a retry
 * back-off (`retry`), or the cancellation grace period (`grace`, no key).
 */
export interface TimerFiredEntry extends JournalEntryBase {
  type: 'timer.fired';
  timer: 'timeout' | 'retry' | 'grace';
  key: string | null;
  index: number | null;
  attempt: number;
  /** As in `step.settled`: a timed-out attempt may be retried after a jittered delay. */
  jitter: number;
}

export interface CancelRequestedEntry extends JournalEntryBase {
  type: 'cancel.requested';
  reason: string;
}

/** Appending the run's entries to its sink failed: the run ends FAILED with STORE_ERROR. */
export interface JournalFailedEntry extends JournalEntryBase {
  type: 'journal.failed';
  error: ErrorRecord;
}

/**
 * The run was resumed from its journal in a new process: executions that had begun and not ended were
 * lost with the old process and run again (with the next attempt number).
 */
export interface RunResumedEntry extends JournalEntryBase {
  type: 'run.resumed';
}

/**
 * A `workflow` step's execution started a sub-workflow run, `child_run_id` (journaled before the child's
 * first entry, in the same batch or an earlier one): an execution of the same unit run again after a
 * crash re-attaches to that child instead of starting another (docs/semantics.md, "Durable runs").
 */
export interface ChildStartedEntry extends JournalEntryBase {
  type: 'child.started';
  key: string;
  index: number | null;
  attempt: number;
  child_run_id: string;
}

export interface RunEndedEntry extends JournalEntryBase {
  type: 'run.ended';
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
}

export type JournalEntry =
  | RunStartedEntry
  | StepEvaluatedEntry
  | StepStartedEntry
  | StepSettledEntry
  | UsageRecordedEntry
  | StepLoggedEntry
  | ModelRepliedEntry
  | ToolStartedEntry
  | ToolSettledEntry
  | TimerFiredEntry
  | CancelRequestedEntry
  | JournalFailedEntry
  | RunResumedEntry
  | RunEndedEntry
  | ChildStartedEntry;

/** An entry without its bookkeeping: what the runner hands `decide`'s journal before numbering it. */
export type JournalFact = JournalEntry extends infer E
  ? E extends JournalEntry
    ? Omit<E, 'run_id' | 'seq'>
    : never
  : never;

/** Where a run's entries go: a store, a file, a test. A rejection or a throw fails the runs concerned. */
export interface JournalSink {
  append(entries: readonly JournalEntry[]): void | PromiseLike<void>;
}

/** The entry's data: everything but `run_id`, `seq`, `type` and `at` (what a store keeps as JSON). */
export function journalData(entry: JournalEntry): Record<string, unknown> {
  const { run_id: _r, seq: _s, type: _t, at: _a, ...data } = entry;
  return data;
}

/** Puts a stored entry back together (the inverse of `journalData`). */
export function journalEntry(
  run_id: string,
  seq: number,
  type: JournalEntryType,
  at: string,
  data: Record<string, unknown>,
): JournalEntry {
  return { ...data, run_id, seq, type, at } as JournalEntry;
}

/**
 * One run's place in a writer: how many of its entries await acknowledgement, and who waits for them.
 * Owned by the run (run/runner.ts); the writer only counts.
 */
export class RunJournal {
  readonly runId: string;
  /** Entries handed to the writer and not yet acknowledged by the sink. */
  pending = 0;
  /** Set once an append holding this run's entries failed. */
  failure: WeftError | null = null;
  /** Once the run has given up on its journal, its queued entries are dropped instead of retried. */
  dropped = false;
  #waiters: Array<(ok: boolean) => void> = [];
  readonly #writer: JournalWriter;
  readonly #onFailure: (error: WeftError) => void;

  constructor(runId: string, writer: JournalWriter, onFailure: (error: WeftError) => void) {
    this.runId = runId;
    this.#writer = writer;
    this.#onFailure = onFailure;
  }

  /**
   * Resolves true once every entry written so far is acknowledged, false as soon as an append fails.
   * Asking is also a nudge: entries put back by a failed append are sent again.
   */
  flushed(): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    const answer = new Promise<boolean>((resolve) => this.#waiters.push(resolve));
    this.#writer.nudge();
    return answer;
  }

  /** @internal */
  acknowledged(count: number): void {
    this.pending -= count;
    if (this.pending === 0) this.#wake(true);
  }

  /** @internal */
  failed(error: WeftError): void {
    const first = this.failure === null;
    this.failure ??= error;
    this.#wake(false);
    if (first) this.#onFailure(error);
  }

  #wake(ok: boolean): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const wake of waiters) wake(ok);
  }
}

/**
 * Batches the entries of every run that writes to one sink: one `append` per macrotask (group commit),
 * never two at once, always in the order the entries were written. When an append fails, its entries
 * stay at the head of the queue (no gap in any run's sequence) and are sent again with the next batch;
 * each run concerned is told once (it then ends FAILED with STORE_ERROR) and drops its entries when it
 * gives up, so a sink that keeps failing holds no more than the entries of runs still in progress.
 */
export class JournalWriter {
  readonly #sink: JournalSink;
  readonly #timeoutMs: number;
  #entries: JournalEntry[] = [];
  #owners: RunJournal[] = [];
  #scheduled = false;
  #appending = false;
  /** Counts appends, so that an answer that comes after its append timed out is ignored. */
  #generation = 0;
  /**
   * The append in flight — its entries, owners and deadline (`performance.now()` ms) — or null. One
   * guard timer per writer watches it: armed at the first append, re-armed only when it fires before the
   * deadline of the append then in flight, unref'd while none is (a timer per append cost more than the
   * append itself for a store that answers at once).
   */
  #inFlight: { entries: JournalEntry[]; owners: RunJournal[]; deadline: number } | null = null;
  #guard: ReturnType<typeof setTimeout> | null = null;

  /** `timeoutMs`: an append that has not settled by then counts as failed (a store that hangs must not hang runs). */
  constructor(sink: JournalSink, timeoutMs = DEFAULT_JOURNAL_TIMEOUT_MS) {
    this.#sink = sink;
    this.#timeoutMs = timeoutMs;
  }

  write(owner: RunJournal, entry: JournalEntry): void {
    // A run that gave up on its journal (or was abandoned: its lease is elsewhere) writes nothing more.
    if (owner.dropped) return;
    this.#entries.push(entry);
    this.#owners.push(owner);
    owner.pending++;
    this.#schedule();
  }

  /** Takes one entry back out of the queue (it was not acknowledged, and its run no longer stands by it). */
  unwrite(owner: RunJournal, entry: JournalEntry): void {
    const k = this.#entries.indexOf(entry);
    if (k < 0) return;
    this.#entries.splice(k, 1);
    this.#owners.splice(k, 1);
    owner.pending--;
  }

  /** Forgets the entries `owner` has not had acknowledged (the run gave up on its journal). */
  drop(owner: RunJournal): void {
    owner.dropped = true;
    if (owner.pending === 0) return;
    const entries: JournalEntry[] = [];
    const owners: RunJournal[] = [];
    for (let i = 0; i < this.#owners.length; i++) {
      if (this.#owners[i] === owner) continue;
      entries.push(this.#entries[i]!);
      owners.push(this.#owners[i]!);
    }
    this.#entries = entries;
    this.#owners = owners;
    // Entries of this run inside an append in flight are counted off when that append settles.
    owner.pending = 0;
  }

  /** Sends what is queued on the next macrotask (a run waits for its entries, say after a failure). */
  nudge(): void {
    if (this.#entries.length > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#appending) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#appending || this.#entries.length === 0) return;
    const entries = this.#entries;
    const owners = this.#owners;
    this.#entries = [];
    this.#owners = [];
    this.#appending = true;
    let result: void | PromiseLike<void>;
    try {
      result = this.#sink.append(entries);
    } catch (error) {
      this.#failed(entries, owners, error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      const generation = ++this.#generation;
      this.#inFlight = { entries, owners, deadline: performance.now() + this.#timeoutMs };
      if (this.#guard === null) this.#guard = setTimeout(this.#onGuard, this.#timeoutMs);
      else this.#guard.ref();
      result.then(
        () => {
          if (generation !== this.#generation) return;
          this.#landed();
          this.#acknowledged(owners);
        },
        (error: unknown) => {
          if (generation !== this.#generation) return;
          this.#landed();
          this.#failed(entries, owners, error);
        },
      );
    } else {
      this.#acknowledged(owners);
    }
  }

  /** The append in flight answered in time: the guard stays armed, but no longer keeps the process alive. */
  #landed(): void {
    this.#inFlight = null;
    this.#guard?.unref();
  }

  readonly #onGuard = (): void => {
    this.#guard = null;
    const inFlight = this.#inFlight;
    if (inFlight === null) return;
    const left = inFlight.deadline - performance.now();
    if (left > 0) {
      this.#guard = setTimeout(this.#onGuard, Math.ceil(left));
      return;
    }
    this.#inFlight = null;
    this.#generation++;
    this.#failed(
      inFlight.entries,
      inFlight.owners,
      new Error(`the journal sink did not answer within ${this.#timeoutMs} ms (limits.journalTimeoutMs)`),
    );
  };

  #acknowledged(owners: RunJournal[]): void {
    this.#appending = false;
    // Counted per run, in runs of equal owners: a batch is mostly a few runs' consecutive entries.
    let i = 0;
    while (i < owners.length) {
      const owner = owners[i]!;
      let n = 0;
      while (i < owners.length && owners[i] === owner) {
        n++;
        i++;
      }
      if (!owner.dropped) owner.acknowledged(n);
    }
    if (this.#entries.length > 0) this.#schedule();
  }

  #failed(entries: JournalEntry[], owners: RunJournal[], cause: unknown): void {
    this.#appending = false;
    const error = storeError(cause);
    // Back at the head of the queue, before anything written since, minus the runs that gave up.
    const keptEntries: JournalEntry[] = [];
    const keptOwners: RunJournal[] = [];
    for (let i = 0; i < owners.length; i++) {
      if (owners[i]!.dropped) continue;
      keptEntries.push(entries[i]!);
      keptOwners.push(owners[i]!);
    }
    this.#entries = keptEntries.concat(this.#entries);
    this.#owners = keptOwners.concat(this.#owners);
    const told = new Set<RunJournal>();
    for (const owner of keptOwners) {
      if (told.has(owner)) continue;
      told.add(owner);
      owner.failed(error);
    }
    // No retry of its own: the next entry written, or a run waiting for its entries, schedules one.
  }
}

/** How long an append may take before it counts as failed. */
export const DEFAULT_JOURNAL_TIMEOUT_MS = 30_000;

const WRITERS = new WeakMap<JournalSink, JournalWriter>();

/**
 * The one writer of a sink (runs sharing a sink share its batches; the first engine to use a sink sets
 * its timeout).
 */
export function writerFor(sink: JournalSink, timeoutMs = DEFAULT_JOURNAL_TIMEOUT_MS): JournalWriter {
  let writer = WRITERS.get(sink);
  if (writer === undefined) {
    writer = new JournalWriter(sink, timeoutMs);
    WRITERS.set(sink, writer);
  }
  return writer;
}

function storeError(cause: unknown): WeftError {
  const e = ensureWeftError(cause);
  return new WeftError(
    ERROR_CODES.STORE_ERROR,
    `The run's journal could not be written: ${e.message}. The run was stopped; it can be resumed from what the journal holds once the store works again.`,
    { details: { cause: e.toJSON() }, retryable: false, cause },
  );
}
