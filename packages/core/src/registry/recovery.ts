/**
 * Crash recovery (docs/durability.md, "Recovery"): a run that is live in the store (PENDING or RUNNING)
 * but whose owner's lease has ended lost its process. A Weft resumes such runs — when it opens, every
 * `recover.intervalMs`, when `runs.wait` meets one, and on `weft.recover()`:
 *
 *   claim (compare-and-set on the lease) → load its journal → `engine.resume` with the run's document,
 *   its app's variables and the registry's journal sink → track it like any run of this process.
 *
 * Only a successful claim resumes a run, so two processes never run the same run. A run this process
 * cannot resume — its document no longer validates here (a step type not registered), its journal is not
 * a run of it — ends FAILED with RESUME_FAILED (never left RUNNING forever); a store that fails during
 * the attempt leaves the run to a later pass (it is released, not failed).
 */
import { ERROR_CODES, ensureWeftError, isWeftError, WeftError } from '../errors.js';
import type { JournalEntry } from '../run/journal.js';
import { computeRetentionDueAt } from '../run/retention.js';
import type { Variable } from '../run/variables.js';
import { isLiveStatus, MAX_JOURNAL_PAGE } from '../store/journal.js';
import type { RunRow } from '../store/types.js';
import { requestedCancelReason } from './cancel.js';
import type { RecoverResult } from './client.js';
import type { RegistryContext } from './context.js';

/** Recoverable runs read per page, and pages per pass (the rest waits for the next pass). */
const PAGE = 100;
const MAX_PAGES = 100;
/** A journal longer than this many pages is not loaded (a run that long cannot be resumed here). */
const MAX_JOURNAL_PAGES = 1_000;

export class Recovery {
  readonly #ctx: () => RegistryContext;
  /** Whether this Weft takes back, on its first pass, runs its (given, stable) owner id still holds. */
  #reclaimOwn: boolean;
  #pass: Promise<RecoverResult> | null = null;
  /** `weft.suspend` was called: this Weft claims and resumes nothing any more. */
  #stopped = false;
  readonly #resuming = new Set<string>();

  constructor(ctx: () => RegistryContext, reclaimOwn: boolean) {
    this.#ctx = ctx;
    this.#reclaimOwn = reclaimOwn;
  }

  /**
   * One pass: every run whose lease has ended (or only `runIds`), claimed and resumed. Passes never
   * overlap: one asked for while another runs starts after it.
   */
  recover(runIds?: readonly string[]): Promise<RecoverResult> {
    const previous = this.#pass ?? Promise.resolve();
    const pass = previous.then(
      () => this.#run(runIds),
      () => this.#run(runIds),
    );
    this.#pass = pass;
    void pass.finally(() => {
      if (this.#pass === pass) this.#pass = null;
    });
    return pass;
  }

  /** From now on nothing is claimed or resumed here (a pass under way stops before its next claim). */
  stop(): void {
    this.#stopped = true;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resumes one run here if nobody holds it: true when it is now in progress here (or has ended). */
  async resumeOne(runId: string): Promise<boolean> {
    const ctx = this.#ctx();
    if (ctx.recorder.isActive(runId)) return true;
    const result: RecoverResult = { resumed: [], failed: [] };
    await this.#claimAndResume(runId, result, new Map());
    return result.resumed.length > 0 || result.failed.length > 0;
  }

  /**
   * Starts or resumes a run this owner has just claimed (a worker's `claimRuns`): a run with an empty
   * journal was enqueued and never began — it starts from its row; any other resumes from its journal.
   */
  /**
   * `variables`: shared by the runs of one claim batch (one read per app). `journalSeq`: the claim's
   * (a run just claimed is only written by its owner, us): 0 means the journal is empty — not read.
   * `row`: the run's row as the claim returned it (ClaimsWithRows) — not read again.
   */
  async resumeClaimed(
    runId: string,
    batch: {
      variables?: Map<string, Promise<Variable[]>>;
      journalSeq?: number;
      row?: RunRow | undefined;
    } = {},
  ): Promise<void> {
    await this.#resume(
      runId,
      { resumed: [], failed: [] },
      batch.variables ?? new Map(),
      batch.journalSeq,
      batch.row,
    );
  }

  async #run(runIds: readonly string[] | undefined): Promise<RecoverResult> {
    const ctx = this.#ctx();
    const result: RecoverResult = { resumed: [], failed: [] };
    const variables = new Map<string, Promise<Variable[]>>();
    if (runIds !== undefined) {
      for (const id of runIds) await this.#claimAndResume(id, result, variables);
      return result;
    }
    const { store, owner } = ctx;
    if (this.#reclaimOwn && !this.#stopped) {
      this.#reclaimOwn = false;
      // A stable owner id: the runs a previous process of the same id held are ours at once.
      const mine = await store.renewLeases(owner.id, owner.until());
      for (const id of mine) {
        if (!ctx.recorder.isActive(id)) await this.#resume(id, result, variables);
      }
    }
    for (let page = 0; page < MAX_PAGES; page++) {
      const leases = await store.listRecoverableRuns(owner.now(), PAGE);
      let claimed = 0;
      for (const lease of leases) {
        if (ctx.recorder.isActive(lease.run_id)) continue;
        if (await this.#claimAndResume(lease.run_id, result, variables)) claimed++;
      }
      if (leases.length < PAGE || claimed === 0) break;
    }
    return result;
  }

  /** Claims the run (compare-and-set) and resumes it. False when another owner holds it. */
  async #claimAndResume(
    runId: string,
    result: RecoverResult,
    variables: Map<string, Promise<Variable[]>>,
  ): Promise<boolean> {
    const { store, owner, recorder } = this.#ctx();
    if (this.#stopped || recorder.isActive(runId) || this.#resuming.has(runId)) return false;
    const claim = await store.claimRun(runId, {
      owner_id: owner.id,
      lease_until: owner.until(),
      now: owner.now(),
    });
    if (!claim.claimed) return false;
    await this.#resume(runId, result, variables);
    return true;
  }

  /** Resumes a run this owner has just claimed. */
  async #resume(
    runId: string,
    result: RecoverResult,
    variables: Map<string, Promise<Variable[]>>,
    journalSeq?: number,
    claimedRow?: RunRow,
  ): Promise<void> {
    const ctx = this.#ctx();
    if (this.#resuming.has(runId) || ctx.recorder.isActive(runId)) return;
    this.#resuming.add(runId);
    try {
      let row: RunRow | null = null;
      let entries: JournalEntry[];
      let vars: Variable[];
      try {
        // The row as the claim left it, when the store returned it with the claim.
        row = claimedRow ?? (await ctx.store.getRun(runId));
        if (row === null || !isLiveStatus(row.status)) {
          await ctx.store.releaseRun(runId, ctx.owner.id);
          return;
        }
        entries = journalSeq === 0 ? [] : await loadAll(ctx, runId);
        // The variables of the app that owns the workflow, as when the run started (secrets included:
        // they are never journaled).
        const app = row.workflow_app_id ?? row.app_id ?? '';
        let listed = variables.get(app);
        if (listed === undefined) {
          listed = ctx.store
            .listVariables(app)
            .then((list) => list.map((v) => ({ key: v.key, value: v.value, secret: v.secret })));
          variables.set(app, listed);
        }
        vars = await listed;
      } catch (error) {
        if (row !== null && isWeftError(error) && error.code === ERROR_CODES.LIMIT) {
          await this.#fail(row, error, result);
          return;
        }
        // The store fails: give the run back; a later pass tries again.
        await ctx.store.releaseRun(runId, ctx.owner.id).catch(() => undefined);
        ctx.report(error, { operation: 'recover', run_id: runId });
        return;
      }
      const document = row.workflow_version ?? row.workflow_version_draft;
      let handle: ReturnType<typeof ctx.engine.resume>;
      try {
        if (document === null) {
          throw new WeftError(ERROR_CODES.NOT_FOUND, 'the run row holds no workflow document');
        }
        handle =
          entries.length === 0
            ? startEnqueued(ctx, row, document, vars)
            : ctx.engine.resume(document, entries, { variables: vars, journal: ctx.recorder.journal });
      } catch (error) {
        const cause = ensureWeftError(error, ERROR_CODES.INTERNAL);
        // Started here meanwhile (a racing resume): not a failure of the run.
        if (cause.code === ERROR_CODES.CONFLICT && ctx.recorder.isActive(runId)) return;
        await this.#fail(row, cause, result);
        return;
      }
      ctx.recorder.track(handle, true);
      // A cancel another process asked for on the row, and nobody has acted on (its canceller died, or
      // its notice was lost): cancelled here at once, with that reason. Synchronously, before the run
      // begins or resumes (on the microtask after engine.start / engine.resume): none of its steps is
      // executed here — a step interrupted with the old owner ends CANCELLED, never runs again.
      const requested = requestedCancelReason(row);
      if (requested !== null) void handle.cancel(requested);
      result.resumed.push(runId);
    } finally {
      this.#resuming.delete(runId);
    }
  }

  /** Ends a run that cannot be resumed here FAILED with RESUME_FAILED (a projection; no entry). */
  async #fail(row: RunRow, cause: WeftError, result: RecoverResult): Promise<void> {
    const { store, owner, report } = this.#ctx();
    const requested = requestedCancelReason(row);
    const error = new WeftError(
      ERROR_CODES.RESUME_FAILED,
      `Run ${row.id} was interrupted (its process stopped) and could not be resumed by this process: ${cause.message} ${requested === null ? 'The run was ended FAILED.' : 'A cancel had been asked for: the run was ended CANCELLED, with its reason.'} Register what its workflow needs (step types with createWeft({ steps }), providers) in every process that opens this store, or replay it (runs.replay).`,
      {
        details: {
          run_id: row.id,
          cause: cause.toJSON(),
          status: requested === null ? 'FAILED' : 'CANCELLED',
        },
        retryable: false,
      },
    );
    const now = owner.now();
    // (requested, above:) a cancel was asked for before the failure was found (the row holds the request): the caller asked
    // for the run to stop, and it does stop — CANCELLED with the caller's reason, as a run that could be
    // resumed would end here. Why it could not be resumed is still reported (onStoreError, the result).
    try {
      await store.appendJournal(row.id, {
        owner_id: owner.id,
        now,
        entries: [],
        run: {
          status: requested === null ? 'FAILED' : 'CANCELLED',
          error: requested === null ? error.toJSON() : { code: ERROR_CODES.CANCELLED, message: requested },
          ended_at: now,
          updated_at: now,
          retention_due_at: computeRetentionDueAt(row.retention, now),
        },
      });
    } catch (failure) {
      await store.releaseRun(row.id, owner.id).catch(() => undefined);
      report(failure, { operation: 'recover', run_id: row.id });
      return;
    }
    result.failed.push({ run_id: row.id, error: error.toJSON() });
    report(error, { operation: 'resume', run_id: row.id });
  }
}

/**
 * A run enqueued by a client-only Weft (runs.run with `worker: false`) begins here: its row holds
 * everything `engine.start` needs. Its input is checked here (INVALID_INPUT ends it FAILED).
 */
function startEnqueued(ctx: RegistryContext, row: RunRow, document: unknown, variables: Variable[]) {
  return ctx.engine.start(document, {
    id: row.id,
    input: row.input,
    variables,
    app_id: row.app_id,
    workflow_app_id: row.workflow_app_id,
    workflow_id: row.workflow_id,
    version: row.version,
    draft: row.workflow_version === null,
    retention: row.retention,
    origin: row.origin,
    collection_id: row.collection_id,
    record_id: row.record_id,
  } as Parameters<typeof ctx.engine.start>[1]);
}

/** The whole journal of a run, page by page. */
async function loadAll(ctx: RegistryContext, runId: string): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  let after = 0;
  for (let page = 0; page < MAX_JOURNAL_PAGES; page++) {
    const batch = await ctx.store.loadJournal(runId, { after_seq: after, limit: MAX_JOURNAL_PAGE });
    // What the store gives back is checked entry by entry by engine.resume (it comes from outside).
    for (const entry of batch) entries.push(entry);
    if (batch.length < MAX_JOURNAL_PAGE) return entries;
    after = batch[batch.length - 1]!.seq;
  }
  throw new WeftError(
    ERROR_CODES.LIMIT,
    `Run ${runId}'s journal has more than ${MAX_JOURNAL_PAGES * MAX_JOURNAL_PAGE} entries.`,
  );
}
