/**
 * Issue 11, item 1 for the registry: `createWeft` and every method of `weft` and `weft.app(id)` answer any
 * argument with success or a WeftError — never another error, an unhandled rejection or a process exit.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WeftError } from '../errors.js';
import { fcRuns } from '../test-support/fc.js';
import {
  hostileOptions,
  hostileValue,
  settlesWithin,
  watchProcess,
  weftErrorOrValue,
} from '../test-support/hostile.js';
import { draft } from '../test-support/workflows.js';
import type { AppClient, Weft } from './client.js';
import { createWeft } from './weft.js';

const DOC = draft([
  { type: 'input', key: 'in', destinations: ['double'] },
  { type: 'code', key: 'double', code: '{ "result": 2 }' },
]);

interface World {
  weft: Weft;
  app: AppClient;
  other: AppClient;
  workflowId: string;
  discoverableId: string;
  runId: string;
  testId: string;
}

async function world(): Promise<World> {
  const weft = createWeft();
  const app = weft.app('app_a');
  const other = weft.app('app_b');
  const workflow = await app.workflows.create({ name: 'w', draft: DOC });
  await app.versions.publish(workflow.id);
  const shared = await other.workflows.create({ name: 's', draft: DOC, discoverable: true });
  await other.versions.publish(shared.id);
  const run = await app.runs.run(workflow.id);
  const test = await app.tests.create(workflow.id, {
    name: 't',
    expectations: [{ key: 'k', name: 'k', script: 'true' }],
  });
  await app.variables.set('v', 1);
  return {
    weft,
    app,
    other,
    workflowId: workflow.id,
    discoverableId: shared.id,
    runId: run.id,
    testId: test.id,
  };
}

const RUN_KEYS = [
  'version',
  'input',
  'from_step_key',
  'retention',
  'origin',
  'collection_id',
  'record_id',
  'background',
  'signal',
];
const QUERY_KEYS = [
  'limit',
  'cursor',
  'include_archived',
  'workflow_id',
  'status',
  'origin',
  'created_after',
  'created_before',
];

/** An argument: usually something valid-looking for its position, else anything. */
const arg = (...valid: unknown[]) => fc.oneof(fc.constantFrom(...valid), hostileValue);
const options = (keys: readonly string[]) => fc.oneof(hostileOptions(keys), hostileValue);

type Call = [string, (w: World) => unknown];

function calls(w: World): fc.Arbitrary<Call> {
  const id = arg(w.workflowId, w.discoverableId, 'nope');
  const runId = arg(w.runId, 'nope');
  const testId = arg(w.testId, 'nope');
  return fc.oneof(
    fc
      .tuple(options(['name', 'description', 'discoverable', 'retention', 'draft', 'id']))
      .map(([a]): Call => ['workflows.create', (x) => x.app.workflows.create(a as never)]),
    fc.tuple(id).map(([a]): Call => ['workflows.get', (x) => x.app.workflows.get(a as never)]),
    fc
      .tuple(options(QUERY_KEYS))
      .map(([a]): Call => ['workflows.list', (x) => x.app.workflows.list(a as never)]),
    fc
      .tuple(id, options(['name', 'description', 'discoverable', 'retention']))
      .map(([a, b]): Call => ['workflows.update', (x) => x.app.workflows.update(a as never, b as never)]),
    fc
      .tuple(id, hostileValue)
      .map(
        ([a, b]): Call => [
          'workflows.updateDraft',
          (x) => x.app.workflows.updateDraft(a as never, b as never),
        ],
      ),
    fc.tuple(id).map(([a]): Call => ['workflows.archive', (x) => x.app.workflows.archive(a as never)]),
    fc.tuple(id).map(([a]): Call => ['workflows.restore', (x) => x.app.workflows.restore(a as never)]),
    fc
      .tuple(id, options(['notes', 'description', 'created_by']))
      .map(([a, b]): Call => ['versions.publish', (x) => x.app.versions.publish(a as never, b as never)]),
    fc
      .tuple(id, options(QUERY_KEYS))
      .map(([a, b]): Call => ['versions.list', (x) => x.app.versions.list(a as never, b as never)]),
    fc
      .tuple(id, arg('latest', 1, 2, 'draft'))
      .map(([a, b]): Call => ['versions.get', (x) => x.app.versions.get(a as never, b as never)]),
    fc
      .tuple(id, arg(1, 2), options(['notes']))
      .map(
        ([a, b, c]): Call => [
          'versions.rollback',
          (x) => x.app.versions.rollback(a as never, b as never, c as never),
        ],
      ),
    fc
      .tuple(id, arg('latest', 1), hostileValue)
      .map(([a, b, c]): Call => ['versions.update', (x) => x.app.versions.update(a as never, b as never, c)]),
    fc
      .tuple(id, options(RUN_KEYS))
      .map(([a, b]): Call => ['runs.run', (x) => x.app.runs.run(a as never, b as never)]),
    fc.tuple(runId).map(([a]): Call => ['runs.get', (x) => x.app.runs.get(a as never)]),
    fc.tuple(options(QUERY_KEYS)).map(([a]): Call => ['runs.list', (x) => x.app.runs.list(a as never)]),
    fc
      .tuple(runId, hostileValue)
      .map(([a, b]): Call => ['runs.cancel', (x) => x.app.runs.cancel(a as never, b as never)]),
    fc
      .tuple(runId, options(['from_step_key', 'background', 'retention', 'origin', 'signal']))
      .map(([a, b]): Call => ['runs.replay', (x) => x.app.runs.replay(a as never, b as never)]),
    fc
      .tuple(runId, hostileValue)
      .map(
        ([a, b]): Call => ['runs.updateRetention', (x) => x.app.runs.updateRetention(a as never, b as never)],
      ),
    fc.tuple(runId).map(([a]): Call => ['runs.wait', (x) => x.app.runs.wait(a as never)]),
    fc
      .tuple(options(QUERY_KEYS))
      .map(([a]): Call => ['discover.list', (x) => x.app.discover.list(a as never)]),
    fc.tuple(id).map(([a]): Call => ['discover.get', (x) => x.app.discover.get(a as never)]),
    fc
      .tuple(id, options(QUERY_KEYS))
      .map(
        ([a, b]): Call => [
          'discover.listVersions',
          (x) => x.app.discover.listVersions(a as never, b as never),
        ],
      ),
    fc
      .tuple(id, arg('latest', 1, 'draft'))
      .map(
        ([a, b]): Call => ['discover.getVersion', (x) => x.app.discover.getVersion(a as never, b as never)],
      ),
    fc
      .tuple(id, options(RUN_KEYS))
      .map(([a, b]): Call => ['discover.run', (x) => x.app.discover.run(a as never, b as never)]),
    fc
      .tuple(id, runId, hostileValue)
      .map(
        ([a, b, c]): Call => [
          'discover.cancel',
          (x) => x.app.discover.cancel(a as never, b as never, c as never),
        ],
      ),
    fc
      .tuple(id, options(['name', 'input', 'step_key', 'expectations']))
      .map(([a, b]): Call => ['tests.create', (x) => x.app.tests.create(a as never, b as never)]),
    fc.tuple(testId).map(([a]): Call => ['tests.get', (x) => x.app.tests.get(a as never)]),
    fc
      .tuple(id, options(QUERY_KEYS))
      .map(([a, b]): Call => ['tests.list', (x) => x.app.tests.list(a as never, b as never)]),
    fc
      .tuple(testId, options(['name', 'input', 'step_key', 'expectations']))
      .map(([a, b]): Call => ['tests.update', (x) => x.app.tests.update(a as never, b as never)]),
    fc.tuple(testId).map(([a]): Call => ['tests.delete', (x) => x.app.tests.delete(a as never)]),
    fc
      .tuple(id, options(['mode', 'version', 'test_ids']))
      .map(([a, b]): Call => ['tests.run', (x) => x.app.tests.run(a as never, b as never)]),
    fc
      .tuple(arg('v', 'w'), hostileValue, options(['secret']))
      .map(([a, b, c]): Call => ['variables.set', (x) => x.app.variables.set(a as never, b, c as never)]),
    fc
      .tuple(arg('v', 'w'))
      .map(([a]): Call => ['variables.delete', (x) => x.app.variables.delete(a as never)]),
    fc.tuple(hostileValue).map(([a]): Call => ['weft.app', (x) => x.weft.app(a as never)]),
    fc.tuple(hostileValue).map(([a]): Call => ['weft.sweep', (x) => x.weft.sweep(a as never)]),
  );
}

let watch: ReturnType<typeof watchProcess>;
beforeEach(() => {
  watch = watchProcess();
  vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`process.exit(${code})`);
  });
});
afterEach(() => {
  watch.stop();
  vi.restoreAllMocks();
  expect(watch.problems).toEqual([]);
});

describe('registry arguments', () => {
  it('regressions: runs.run with a signal that is not an AbortSignal', async () => {
    const w = await world();
    // Returned a run, then crashed the process from a microtask.
    await expect(w.app.runs.run(w.workflowId, { signal: { aborted: false } as never })).rejects.toMatchObject(
      {
        code: 'INVALID_ARGUMENT',
        details: { parameter: 'signal' },
      },
    );
  });

  it('regressions: workflows.update without a patch', async () => {
    const w = await world();
    // Found by the property below (seed -260284266): a TypeError reading `name` of undefined.
    await expect(w.app.workflows.update(w.workflowId, undefined as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'patch' },
    });
  });

  it('property: every registry method, any argument → success or a WeftError', async () => {
    const w = await world();
    await fc.assert(
      fc.asyncProperty(fc.array(calls(w), { minLength: 1, maxLength: 4 }), async (sequence) => {
        for (const [label, call] of sequence) {
          const value = await weftErrorOrValue(label, () =>
            settlesWithin(Promise.resolve(call(w)), 10_000, label),
          );
          // Whatever came back is data: it serialises.
          if (value !== undefined) expect(() => JSON.stringify(value)).not.toThrow();
        }
        await w.weft.idle();
        expect(watch.problems).toEqual([]);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('property: createWeft with fc.anything() in every option', async () => {
    const keys = [
      'store',
      'retention',
      'sweepIntervalMs',
      'onStoreError',
      'variables',
      'limits',
      'clock',
      'ids',
      'http',
      'owner',
      'recover',
    ];
    await fc.assert(
      fc.asyncProperty(hostileOptions(keys), hostileValue, async (options, whole) => {
        const a = await weftErrorOrValue('createWeft(anything)', () => createWeft(whole as never));
        await a?.close();
        const weft = await weftErrorOrValue('createWeft', () => createWeft(options as never));
        if (weft === undefined) return;
        const app = weft.app('app_a');
        await weftErrorOrValue('a run', async () => {
          const workflow = await app.workflows.create({ name: 'w', draft: DOC });
          return app.runs.run(workflow.id, { version: 'draft' });
        });
        await weft.close();
      }),
      { numRuns: fcRuns(150) },
    );
  });

  it('WeftErrors only', () => {
    expect(new WeftError('INVALID_ARGUMENT', 'x')).toBeInstanceOf(Error);
  });
});
