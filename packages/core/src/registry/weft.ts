/**
 * `createWeft(options)`: the engine plus the registry — workflows, versions, runs, tests and variables
 * kept in a `WeftStore`, every operation scoped to an app through `weft.app(appId)`. Every run is
 * journaled to the store under a lease of this Weft (recorder.ts); runs whose process died are resumed
 * (recovery.ts).
 */
import { randomUUID } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import { createEngine, type Engine } from '../run/engine.js';
import { normalizeRetention } from '../run/retention.js';
import { MemoryStore } from '../store/memory.js';
import type { AppClient, Weft, WeftOptions } from './client.js';
import { type RegistryContext, toIso } from './context.js';
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

export function createWeft(options: WeftOptions = {}): Weft {
  const {
    store: givenStore,
    retention,
    sweepIntervalMs,
    onStoreError,
    workflows: fallbackResolver,
    owner: ownerOptions,
    recover,
    ...engineOptions
  } = options;
  if ((engineOptions as { journal?: unknown }).journal !== undefined) {
    throw invalidArgument(
      'journal',
      'absent: createWeft journals every run to its store (use createEngine({ journal }) for a bare engine)',
      (engineOptions as { journal?: unknown }).journal,
    );
  }
  if (sweepIntervalMs !== undefined && !(Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0)) {
    throw invalidArgument('sweepIntervalMs', 'a positive number of milliseconds', sweepIntervalMs);
  }
  const store = givenStore ?? new MemoryStore();
  const defaultRetention = normalizeRetention(retention);
  const clock = engineOptions.clock ?? { now: Date.now };
  const ids = engineOptions.ids ?? randomUUID;
  const report = onStoreError ?? reportStoreError;
  const owner = new Ownership(ownerOptions, clock);
  const recovering = recoverOption(recover, givenStore !== undefined, owner.leaseMs);

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
    report,
    locks: new KeyedMutex(),
    ids,
    now: () => new Date(clock.now()).toISOString(),
    defaultRetention,
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
    sweep: (now) => sweep(ctx, now === undefined ? ctx.now() : toIso(now, 'now')),
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
      for (const timer of timers) clearInterval(timer);
      timers.length = 0;
      // A pass in progress finishes (its runs are claimed): wait for it, then for the journal.
      await recovery.recover([]);
      await recorder.idle();
    },
  };

  if (sweepIntervalMs !== undefined) {
    every(sweepIntervalMs, () => {
      weft.sweep().catch((error: unknown) => report(error, { operation: 'sweep' }));
    });
  }
  if (recovering.auto) {
    // On open (once the caller has its Weft), then periodically.
    setImmediate(recoverPass);
    every(recovering.intervalMs, recoverPass);
  }
  return weft;
}
