/**
 * Persists runs as they happen, from the engine's events: the run row when it starts, one step record
 * each time a step settles (`step.completed | failed | skipped | cancelled`), and the run-level fields
 * when it ends. Writes of one run are queued in order on a per-run promise chain; a failed write is
 * reported (`onStoreError`) and never breaks the run.
 *
 * Runs the registry starts are tracked from `engine.start`; runs the engine starts itself
 * (sub-workflows of `workflow` steps) are picked up from their first event when they carry an app id.
 */
import type { WeftEventMap } from '../events/events.js';
import type { Engine } from '../run/engine.js';
import type { RunHandle } from '../run/handle.js';
import { computeRetentionDueAt } from '../run/retention.js';
import type { Retention, Run, StepRecord } from '../run/types.js';
import type { WeftStore } from '../store/store.js';
import type { RunRow } from '../store/types.js';

export type StoreErrorReporter = (error: unknown, context: { operation: string; run_id?: string }) => void;

interface Tracker {
  readonly id: string;
  readonly handle: RunHandle;
  readonly workflowAppId: string | null;
  chain: Promise<void>;
  /** Step keys whose final record has been queued. */
  readonly saved: Set<string>;
  /** Undefined for sub-workflow runs until resolved at the end: their workflow's default, else the engine's. */
  retention: Retention | null | undefined;
  readonly ended: Promise<void>;
  resolveEnded(): void;
}

const NOT_ENDED = ['PENDING', 'RUNNING'] as const;

/** The row of a run (everything but the step records). */
export function rowOf(run: Run): RunRow {
  const { output: _output, ...rest } = run;
  return { ...rest, replay_of: run.replay_of ?? null, purged_at: null };
}

export class RunRecorder {
  readonly #engine: Engine;
  readonly #store: WeftStore;
  readonly #report: StoreErrorReporter;
  readonly #trackers = new Map<string, Tracker>();
  /** Runs without an app (started on the bare engine): not persisted. */
  readonly #ignored = new Set<string>();

  readonly #defaultRetention: Retention | null;

  constructor(
    engine: Engine,
    store: WeftStore,
    report: StoreErrorReporter,
    defaultRetention: Retention | null,
  ) {
    this.#engine = engine;
    this.#store = store;
    this.#report = report;
    this.#defaultRetention = defaultRetention;
    engine.on('run.started', (e) => this.#onStarted(e));
    const onStep = (e: { run_id: string; step_key: string }) => this.#onStep(e.run_id, e.step_key);
    engine.on('step.completed', onStep);
    engine.on('step.failed', onStep);
    engine.on('step.skipped', onStep);
    engine.on('step.cancelled', onStep);
    const onEnd = (e: { run_id: string; run: Run }) => this.#onEnded(e.run_id, e.run);
    engine.on('run.completed', onEnd);
    engine.on('run.failed', onEnd);
    engine.on('run.cancelled', onEnd);
  }

  /**
   * Starts persisting a run the registry has just started (call it synchronously after
   * `engine.start`, before the run begins). `preset` records (replay) are written with the row.
   */
  track(handle: RunHandle, preset?: Record<string, StepRecord>): void {
    const snapshot = handle.snapshot();
    const tracker = this.#create(handle, snapshot, snapshot.retention);
    for (const [key, record] of Object.entries(preset ?? {})) {
      tracker.saved.add(key);
      this.#enqueue(tracker, 'saveStepResult', () => this.#store.saveStepResult(tracker.id, key, record));
    }
  }

  #create(handle: RunHandle, snapshot: Run, retention: Retention | null | undefined): Tracker {
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => {
      resolveEnded = resolve;
    });
    const tracker: Tracker = {
      id: handle.id,
      handle,
      workflowAppId: snapshot.workflow_app_id,
      chain: Promise.resolve(),
      saved: new Set(),
      retention,
      ended,
      resolveEnded,
    };
    this.#trackers.set(tracker.id, tracker);
    const row = rowOf(snapshot);
    this.#enqueue(tracker, 'insertRun', () => this.#store.insertRun(row));
    return tracker;
  }

  /** The tracker of a run, creating one for a run the engine started itself (a sub-workflow). */
  #trackerOf(runId: string, final?: Run): Tracker | undefined {
    const tracker = this.#trackers.get(runId);
    if (tracker !== undefined || this.#ignored.has(runId)) return tracker;
    const handle = this.#engine.active.get(runId);
    if (handle === undefined) return undefined;
    const snapshot = final ?? handle.snapshot();
    if (snapshot.app_id === null) {
      this.#ignored.add(runId);
      return undefined;
    }
    // A sub-workflow run: the engine started it without a retention; it is resolved when the run ends.
    return this.#create(handle, snapshot, undefined);
  }

  #enqueue(tracker: Tracker, operation: string, write: () => Promise<unknown>): void {
    tracker.chain = tracker.chain.then(write).then(
      () => undefined,
      (error: unknown) => this.#report(error, { operation, run_id: tracker.id }),
    );
  }

  #onStarted(e: WeftEventMap['run.started']): void {
    const known = this.#trackers.get(e.run_id);
    const tracker = known ?? this.#trackerOf(e.run_id);
    // A tracker created just now inserted the row as it stands (already RUNNING).
    if (known === undefined || tracker === undefined) return;
    const run = tracker.handle.snapshot();
    // Fields a model filled before the run began join the stored input (auto_filled is derived from it).
    const filled = run.auto_filled === undefined ? {} : { input: run.input };
    this.#enqueue(tracker, 'updateRun', () =>
      this.#store.updateRun(
        tracker.id,
        { status: run.status, started_at: run.started_at, updated_at: run.updated_at, ...filled },
        { status_in: ['PENDING'] },
      ),
    );
  }

  #onStep(runId: string, key: string): void {
    const tracker = this.#trackerOf(runId);
    if (tracker === undefined) return;
    const record = tracker.handle.snapshot().output[key];
    if (record === undefined) return;
    tracker.saved.add(key);
    this.#enqueue(tracker, 'saveStepResult', () => this.#store.saveStepResult(runId, key, record));
  }

  #onEnded(runId: string, run: Run): void {
    const tracker = this.#trackerOf(runId, run);
    if (tracker === undefined) {
      this.#ignored.delete(runId);
      return;
    }
    // Steps that never settled through an event (a run cancelled before it began) keep their last record.
    for (const [key, record] of Object.entries(run.output)) {
      if (tracker.saved.has(key)) continue;
      tracker.saved.add(key);
      this.#enqueue(tracker, 'saveStepResult', () => this.#store.saveStepResult(runId, key, record));
    }
    this.#enqueue(tracker, 'updateRun', async () => {
      // Read at write time: a retention update queued before this write wins.
      let retention = tracker.retention;
      if (retention === undefined) {
        const workflow = run.workflow_id === null ? null : await this.#store.getWorkflow(run.workflow_id);
        retention = workflow?.retention ?? this.#defaultRetention;
      }
      const updated = await this.#store.updateRun(
        runId,
        {
          status: run.status,
          result: run.result,
          error: run.error,
          started_at: run.started_at,
          ended_at: run.ended_at,
          usage: run.usage,
          retention,
          retention_due_at: computeRetentionDueAt(retention, run.ended_at),
          updated_at: run.updated_at,
        },
        { status_in: NOT_ENDED },
      );
      if (updated === null) {
        throw new Error(
          `Run ${runId} ended ${run.status}, but its stored row had already ended (or is missing); the stored status was kept.`,
        );
      }
    });
    tracker.chain = tracker.chain.then(() => {
      this.#trackers.delete(runId);
      tracker.resolveEnded();
    });
  }

  /** Whether this process is running (or still storing) the run. */
  isLive(runId: string): boolean {
    return this.#trackers.has(runId);
  }

  /** The app owning the workflow of a live run (sub-workflows resolve against it). */
  workflowAppOf(runId: string): string | null | undefined {
    return this.#trackers.get(runId)?.workflowAppId;
  }

  handleOf(runId: string): RunHandle | undefined {
    return this.#trackers.get(runId)?.handle;
  }

  /** Resolves once every write queued so far for the run has been made. */
  async flush(runId: string): Promise<void> {
    await this.#trackers.get(runId)?.chain;
  }

  /** Resolves once the run has ended and its final state is stored (at once for runs not live here). */
  async ended(runId: string): Promise<void> {
    await this.#trackers.get(runId)?.ended;
  }

  /**
   * Sets the retention of a live run (queued after its earlier writes; its final write uses it).
   * Returns false when the run is not live here.
   */
  setRetention(runId: string, retention: Retention, updatedAt: string): Promise<void> | false {
    const tracker = this.#trackers.get(runId);
    if (tracker === undefined) return false;
    tracker.retention = retention;
    this.#enqueue(tracker, 'updateRun', async () => {
      const row = await this.#store.getRun(runId);
      await this.#store.updateRun(runId, {
        retention,
        retention_due_at: computeRetentionDueAt(retention, row?.ended_at ?? null),
        updated_at: updatedAt,
      });
    });
    return tracker.chain;
  }

  /** Resolves once every write queued so far (for every run) has been made. */
  async idle(): Promise<void> {
    await Promise.all([...this.#trackers.values()].map((t) => t.chain));
  }
}
