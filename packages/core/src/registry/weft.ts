/**
 * `createWeft(options)`: the engine plus the registry — workflows, versions, runs, tests and variables
 * kept in a `WeftStore`, every operation scoped to an app through `weft.app(appId)`. Every run is
 * journaled to the store under a lease of this Weft (recorder.ts); runs whose process died are resumed
 * (recovery.ts).
 */
import { optionalFunction, optionsObject, readingArguments } from '../arguments.js';
import { invalidArgument } from '../errors.js';
import { uuidv7 } from '../ids.js';
import { checkEngineOptions } from '../run/check-options.js';
import { createEngine, DEFAULT_LIMITS, type Engine } from '../run/engine.js';
import { normalizeRetention } from '../run/retention.js';
import { MemoryStore } from '../store/memory.js';
import type { WeftStore } from '../store/store.js';
import type { AppClient, Weft, WeftOptions } from './client.js';
import { CloseHooks, type RegistryContext, toIso } from './context.js';
import { discoverApi } from './discover.js';
import { KeyedMutex } from './mutex.js';
import { Ownership } from './owner.js';
import { RunRecorder, type StoreErrorReporter } from './recorder.js';
import { Recovery } from './recovery.js';
import { createResolver } from './resolver.js';
import { sweep } from './retention.js';
import { runsApi } from './runs.js';
import { variablesApi } from './variables.js';
import { versionsApi } from './versions.js';
import { Worker } from './worker.js';
import { checkNoWorkerMs, checkWorkerOptions } from './worker-options.js';
import { testsApi } from './workflow-tests.js';
import { workflowsApi } from './workflows.js';

const reportStoreError: StoreErrorReporter = (error, context) => {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(
    `Weft could not write to its store (${context.operation}${context.run_id === undefined ? '' : `, run ${context.run_id}`}): ${message}`,
    { code: 'WEFT_STORE_ERROR' },
  );
};

/** `recover`: whether runs are resumed by themselves, and how often. */
function recoverOption(value: WeftOptions['recover'], storeGiven: boolean, leaseMs: number) {
  const fallback = Math.max(10, Math.floor(leaseMs / 3));
  if (value === undefined) return { auto: storeGiven, intervalMs: fallback };
  if (typeof value === 'boolean') return { auto: value, intervalMs: fallback };
  if (value === null || typeof value !== 'object') {
    throw invalidArgument('recover', 'true, false or { intervalMs }', value);
  }
  const intervalMs = value.intervalMs ?? fallback;
  if (!(Number.isInteger(intervalMs) && intervalMs >= 10 && intervalMs <= 86_400_000)) {
    throw invalidArgument(
      'recover.intervalMs',
      'a whole number of milliseconds from 10 to 86,400,000',
      intervalMs,
    );
  }
  return { auto: true, intervalMs };
}

/** `weft.suspend(options)`: the grace period of the steps running (docs/api.md). */
function suspendGraceMs(options: unknown): number {
  return readingArguments('options', () => {
    const o = optionsObject(options, 'options');
    const graceMs = o.graceMs === undefined ? 10_000 : o.graceMs;
    if (!(Number.isInteger(graceMs) && (graceMs as number) >= 0 && (graceMs as number) <= 3_600_000)) {
      throw invalidArgument('graceMs', 'a whole number of milliseconds from 0 to 3,600,000', graceMs);
    }
    return graceMs as number;
  });
}

/** The store methods the registry calls: an object without them would fail later, inside a run. */
const STORE_METHODS = [
  'insertWorkflow',
  'getWorkflow',
  'updateWorkflow',
  'listWorkflows',
  'listDiscoverableWorkflows',
  'insertVersion',
  'getVersion',
  'getVersionByNumber',
  'getLatestVersion',
  'listVersions',
  'insertRun',
  'getRun',
  'updateRun',
  'listRuns',
  'saveStepResult',
  'getStepResults',
  'listRunsDue',
  'purgeRun',
  'insertTest',
  'getTest',
  'updateTest',
  'deleteTest',
  'listTests',
  'insertExpectation',
  'getExpectation',
  'updateExpectation',
  'deleteExpectation',
  'listExpectations',
  'countExpectations',
  'setVariable',
  'listVariables',
  'deleteVariable',
  // Every run is journaled, and runs whose process died are resumed (docs/durability.md).
  'appendJournal',
  'appendJournals',
  'loadJournal',
  'claimRun',
  'renewLeases',
  'releaseRun',
  'getLease',
  'listRecoverableRuns',
] as const;

function checkWeftOptions(options: unknown): WeftOptions {
  return readingArguments('options', () => {
    const o = optionsObject(options, 'options');
    const store = o.store;
    if (store !== undefined) {
      if (store === null || typeof store !== 'object') throw invalidArgument('store', 'a WeftStore', store);
      for (const method of STORE_METHODS) {
        optionalFunction(
          (store as Record<string, unknown>)[method] ?? 0,
          `store.${method}`,
          'a function (a WeftStore method)',
        );
      }
    }
    optionalFunction(o.onStoreError, 'onStoreError', 'a function (error, context) => void');
    return o as WeftOptions;
  });
}

export function createWeft(givenOptions: WeftOptions = {}): Weft {
  const options = checkWeftOptions(givenOptions);
  const {
    store: givenStore,
    retention,
    sweepIntervalMs,
    onStoreError,
    workflows: fallbackResolver,
    owner: ownerOptions,
    recover,
    worker: workerOption,
    noWorkerMs: noWorkerOption,
    ...engineOptions
  } = options;
  if ((engineOptions as { journal?: unknown }).journal !== undefined) {
    throw invalidArgument(
      'journal',
      'absent: createWeft journals every run to its store (use createEngine({ journal }) for a bare engine)',
      (engineOptions as { journal?: unknown }).journal,
    );
  }
  // setInterval turns anything above 2^31 − 1 ms into 1 ms (a sweep every millisecond).
  if (
    sweepIntervalMs !== undefined &&
    !(Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0 && sweepIntervalMs <= 2_147_483_647)
  ) {
    throw invalidArgument('sweepIntervalMs', 'a number of milliseconds in (0, 2147483647]', sweepIntervalMs);
  }
  const store = givenStore ?? new MemoryStore();
  if (
    options.worker !== undefined &&
    options.worker !== false &&
    typeof (store as Partial<WeftStore>).claimRuns !== 'function'
  ) {
    throw invalidArgument('store.claimRuns', 'a function (a store that workers can share)', undefined);
  }
  const defaultRetention = normalizeRetention(retention);
  const clock = engineOptions.clock ?? { now: Date.now };
  // Time-ordered by default: a durable store's inserts then stay on the rightmost b-tree pages (ids.ts).
  const ids = engineOptions.ids ?? uuidv7;
  const report = onStoreError ?? reportStoreError;
  // The engine's options are checked before the owner reads the clock (the engine checks them again).
  checkEngineOptions(engineOptions);
  const {
    owner,
    recovering,
    worker: workerSettings,
    noWorkerMs,
  } = readingArguments('options', () => {
    const owner = new Ownership(ownerOptions, clock);
    // A client-only Weft (worker: false) executes nothing: it resumes nothing either, unless asked.
    const recoverGiven = workerOption === false && recover === undefined ? false : recover;
    return {
      owner,
      recovering: recoverOption(recoverGiven, givenStore !== undefined, owner.leaseMs),
      worker: checkWorkerOptions(workerOption, owner.leaseMs),
      noWorkerMs: checkNoWorkerMs(noWorkerOption, owner.leaseMs),
    };
  });

  let ctx!: RegistryContext;
  let engine!: Engine;
  const recorder = new RunRecorder({ engine: () => engine, store, owner, report, defaultRetention });
  engine = createEngine({
    ...engineOptions,
    clock,
    ids,
    workflows: createResolver(() => ctx, fallbackResolver),
    journal: recorder.journal,
  });
  const recovery = new Recovery(() => ctx, ownerOptions?.id !== undefined);
  ctx = {
    engine,
    store,
    recorder,
    owner,
    recovery,
    autoRecover: recovering.auto,
    enqueue: workerOption === false,
    noWorkerMs,
    cancelGraceMs: engineOptions.limits?.cancelGraceMs ?? DEFAULT_LIMITS.cancelGraceMs,
    report,
    locks: new KeyedMutex(),
    ids,
    now: () => new Date(clock.now()).toISOString(),
    defaultRetention,
    closing: new CloseHooks(),
  };

  const apps = new Map<string, AppClient>();
  const timers: Array<ReturnType<typeof setInterval>> = [];
  let closed = false;
  const every = (ms: number, tick: () => void) => {
    const timer = setInterval(tick, ms);
    timer.unref();
    timers.push(timer);
    return timer;
  };
  const recoverPass = () => {
    if (closed) return;
    recovery.recover().catch((error: unknown) => report(error, { operation: 'recover' }));
  };

  // Runs held here are renewed for as long as they run, even after close() (they end on their own).
  const heartbeat = setInterval(() => {
    if (closed && recorder.live === 0) {
      clearInterval(heartbeat);
      return;
    }
    recorder.heartbeat().catch((error: unknown) => report(error, { operation: 'heartbeat' }));
  }, owner.heartbeatMs);
  heartbeat.unref();

  const weft: Weft = {
    engine,
    store,
    ownerId: owner.id,
    app(appId: string): AppClient {
      if (typeof appId !== 'string' || appId === '')
        throw invalidArgument('appId', 'a non-empty string', appId);
      let client = apps.get(appId);
      if (client === undefined) {
        client = Object.freeze({
          app_id: appId,
          workflows: workflowsApi(ctx, appId),
          versions: versionsApi(ctx, appId),
          runs: runsApi(ctx, appId),
          discover: discoverApi(ctx, appId),
          tests: testsApi(ctx, appId),
          variables: variablesApi(ctx, appId),
        });
        apps.set(appId, client);
      }
      return client;
    },
    // async: a bad `now` rejects, as every method that returns a Promise does (docs/api.md).
    sweep: async (now) => sweep(ctx, now === undefined ? ctx.now() : toIso(now, 'now')),
    recover(runIds) {
      if (
        runIds !== undefined &&
        !(Array.isArray(runIds) && runIds.every((id) => typeof id === 'string' && id !== ''))
      ) {
        return Promise.reject(invalidArgument('runIds', 'an array of run ids', runIds));
      }
      return recovery.recover(runIds);
    },
    idle: () => recorder.idle(),
    async close() {
      closed = true;
      ctx.closing.close();
      for (const timer of timers) clearInterval(timer);
      timers.length = 0;
      await worker?.close();
      // A pass in progress finishes (its runs are claimed): wait for it, then for the journal.
      await recovery.recover([]);
      await recorder.idle();
    },
    async suspend(options) {
      const graceMs = suspendGraceMs(options);
      recovery.stop();
      // The runs in progress stop starting steps now; a recovery pass under way may still resume some
      // (close waits for it): those are suspended next, under the same deadline.
      const deadline = Date.now() + graceMs;
      const now = recorder.suspend(graceMs);
      await weft.close();
      const late = recorder.suspend(Math.max(0, deadline - Date.now()));
      const [a, b] = await Promise.all([now, late]);
      await recorder.idle();
      return {
        suspended: [...a.suspended, ...b.suspended],
        ended: [...a.ended, ...b.ended],
        cancelled: [...a.cancelled, ...b.cancelled],
      };
    },
  };

  if (sweepIntervalMs !== undefined) {
    every(sweepIntervalMs, () => {
      weft.sweep().catch((error: unknown) => report(error, { operation: 'sweep' }));
    });
  }
  const worker = workerSettings === null ? null : new Worker(ctx, workerSettings);
  if (worker !== null) {
    // The worker claims every run there is to execute, recoverable ones included, within its concurrency.
    worker.start();
  } else if (recovering.auto) {
    // On open (once the caller has its Weft), then periodically.
    setImmediate(recoverPass);
    every(recovering.intervalMs, recoverPass);
  }
  return weft;
}
