/**
 * `createWeft(options)`: the engine plus the registry — workflows, versions, runs, tests and variables
 * kept in a `WeftStore`, every operation scoped to an app through `weft.app(appId)`.
 */
import { randomUUID } from 'node:crypto';
import { optionalFunction, optionsObject, readingArguments } from '../arguments.js';
import { invalidArgument } from '../errors.js';
import { createEngine } from '../run/engine.js';
import { normalizeRetention } from '../run/retention.js';
import { MemoryStore } from '../store/memory.js';
import type { AppClient, Weft, WeftOptions } from './client.js';
import { type RegistryContext, toIso } from './context.js';
import { discoverApi } from './discover.js';
import { KeyedMutex } from './mutex.js';
import { RunRecorder, type StoreErrorReporter } from './recorder.js';
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
  'setVariable',
  'listVariables',
  'deleteVariable',
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
    ...engineOptions
  } = options;
  const store = givenStore ?? new MemoryStore();
  const defaultRetention = normalizeRetention(retention);
  const clock = engineOptions.clock ?? { now: Date.now };
  const ids = engineOptions.ids ?? randomUUID;

  let ctx!: RegistryContext;
  const engine = createEngine({
    ...engineOptions,
    clock,
    ids,
    workflows: createResolver(() => ctx, fallbackResolver),
  });
  ctx = {
    engine,
    store,
    recorder: new RunRecorder(engine, store, onStoreError ?? reportStoreError, defaultRetention),
    locks: new KeyedMutex(),
    ids,
    now: () => new Date(clock.now()).toISOString(),
    defaultRetention,
  };

  const apps = new Map<string, AppClient>();
  let timer: ReturnType<typeof setInterval> | null = null;

  const weft: Weft = {
    engine,
    store,
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
    idle: () => ctx.recorder.idle(),
    async close() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await ctx.recorder.idle();
    },
  };

  if (sweepIntervalMs !== undefined) {
    // setInterval turns anything above 2^31 − 1 ms into 1 ms (a sweep every millisecond).
    if (!(Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0 && sweepIntervalMs <= 2_147_483_647)) {
      throw invalidArgument(
        'sweepIntervalMs',
        'a number of milliseconds in (0, 2147483647]',
        sweepIntervalMs,
      );
    }
    timer = setInterval(() => {
      weft
        .sweep()
        .catch((error: unknown) => (onStoreError ?? reportStoreError)(error, { operation: 'sweep' }));
    }, sweepIntervalMs);
    timer.unref();
  }
  return weft;
}
