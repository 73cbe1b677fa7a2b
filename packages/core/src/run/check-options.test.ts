/**
 * Issue 11, item 1: every option of `createEngine` and `engine.start/run` is checked synchronously. A bad
 * one throws INVALID_ARGUMENT naming it; nothing — whatever the value — throws another error, rejects
 * unhandled, crashes the process from a microtask, or leaves `done` unsettled.
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
import { createEngine } from './engine.js';

const DOC = draft([
  { type: 'input', key: 'in', destinations: ['double'] },
  { type: 'code', key: 'double', code: '$count($keys(input)) * 2', destinations: ['done'] },
  { type: 'task', key: 'done' },
]);

const START_KEYS = [
  'input',
  'variables',
  'from_step_key',
  'signal',
  'origin',
  'app_id',
  'workflow_app_id',
  'workflow_id',
  'collection_id',
  'record_id',
  'version',
  'retention',
  'draft',
  'id',
  'replay_of',
  'preset',
] as const;

const ENGINE_KEYS = [
  'providers',
  'pricing',
  'steps',
  'services',
  'variables',
  'concurrency',
  'limits',
  'retry',
  'workflows',
  'http',
  'clock',
  'ids',
  'random',
  'onListenerError',
  'planCacheSize',
  'planCacheBytes',
] as const;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof WeftError
      ? `${error.code} ${String(error.details?.parameter)}`
      : `not a WeftError: ${error}`;
  }
  return 'no error';
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

describe('engine.start options (regressions)', () => {
  const engine = createEngine({ steps: { task: () => 'ok' } });

  it('refuses a signal that is not an AbortSignal before the run exists', () => {
    // Each of these returned a handle, then crashed the process from a microtask ("external.addEventListener
    // is not a function") and `done` never settled.
    expect(codeOf(() => engine.start(DOC, { signal: {} as AbortSignal }))).toBe('INVALID_ARGUMENT signal');
    expect(codeOf(() => engine.start(DOC, { signal: { aborted: false } as AbortSignal }))).toBe(
      'INVALID_ARGUMENT signal',
    );
    expect(engine.active.size).toBe(0);
  });

  it('refuses a replay record that is not a step record', () => {
    expect(codeOf(() => engine.start(DOC, { preset: { double: null } as never }))).toBe(
      'INVALID_ARGUMENT preset.double',
    );
    expect(codeOf(() => engine.start(DOC, { preset: { nope: {} } as never }))).toBe(
      'INVALID_ARGUMENT preset.nope',
    );
    expect(
      codeOf(() => engine.start(DOC, { preset: { double: { status: 'COMPLETED', calls: [5] } } as never })),
    ).toBe('INVALID_ARGUMENT preset.double.calls[0]');
  });

  it('refuses variables that are not a list of { key, value }', () => {
    expect(codeOf(() => engine.start(DOC, { variables: 5 as never }))).toBe('INVALID_ARGUMENT variables');
    expect(codeOf(() => engine.start(DOC, { variables: [null] as never }))).toBe(
      'INVALID_ARGUMENT variables[0]',
    );
    expect(codeOf(() => engine.start(DOC, { variables: [{ key: 'k', value: 1n }] as never }))).toBe(
      'INVALID_ARGUMENT variables[0].value',
    );
  });

  it('refuses input that is not JSON data, naming where', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => engine.start(DOC, { input: cyclic }))).toBe('INVALID_ARGUMENT input');
    expect(codeOf(() => engine.start(DOC, { input: { when: new Date() } }))).toBe('INVALID_ARGUMENT input');
    expect(codeOf(() => engine.start(DOC, { input: [] as never }))).toBe('INVALID_ARGUMENT input');
  });

  it('the run keeps a copy: changing the options after start changes nothing', async () => {
    const input = { a: { b: 1 } };
    const handle = engine.start(DOC, { input });
    input.a.b = 2;
    (input as Record<string, unknown>).extra = true;
    const run = await handle.done;
    expect(run.input).toEqual({ a: { b: 1 } });
    expect(run.output.double!.output).toBe(2);
  });

  it('cancel(reason) wants a string', async () => {
    const handle = engine.start(DOC);
    await expect(handle.cancel(5 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await handle.done;
  });
});

describe('createEngine options (regressions)', () => {
  it('names the option', () => {
    expect(codeOf(() => createEngine({ variables: 5 as never }))).toBe('INVALID_ARGUMENT variables');
    expect(codeOf(() => createEngine({ clock: {} as never }))).toBe('INVALID_ARGUMENT clock.now');
    expect(codeOf(() => createEngine({ limits: { cancelGraceMs: -1 } }))).toBe(
      'INVALID_ARGUMENT limits.cancelGraceMs',
    );
    expect(codeOf(() => createEngine({ retry: { max_attempts: 0 } }))).toBe('INVALID_ARGUMENT retry');
    expect(codeOf(() => createEngine({ providers: [{ name: 'x' }] as never }))).toBe(
      'INVALID_ARGUMENT providers[0]',
    );
    expect(codeOf(() => createEngine({ http: { allow: true } as never }))).toBe(
      'INVALID_ARGUMENT http.allow',
    );
    expect(codeOf(() => createEngine({ concurrency: { providers: { a: 0 } } }))).toBe(
      'INVALID_ARGUMENT concurrency.providers.a',
    );
  });
});

describe('property: any option value is a WeftError or works', () => {
  it('engine.start / engine.run with fc.anything() in every option', async () => {
    const engine = createEngine({ steps: { task: () => 'ok' } });
    await fc.assert(
      fc.asyncProperty(hostileOptions(START_KEYS), fc.boolean(), async (options, viaRun) => {
        const done = await weftErrorOrValue('engine.start', () =>
          viaRun ? engine.run(DOC, options) : engine.start(DOC, options).done,
        );
        if (done !== undefined) {
          const run = await settlesWithin(Promise.resolve(done), 10_000, 'done');
          expect(['COMPLETED', 'FAILED', 'CANCELLED']).toContain(run.status);
          expect(() => JSON.stringify(run)).not.toThrow();
        }
        await new Promise((resolve) => setImmediate(resolve));
        expect(watch.problems).toEqual([]);
      }),
      { numRuns: fcRuns(300) },
    );
  });

  it('the options object itself may be anything', async () => {
    const engine = createEngine({ steps: { task: () => 'ok' } });
    await fc.assert(
      fc.asyncProperty(hostileValue, async (options) => {
        const handle = await weftErrorOrValue('engine.start', () => engine.start(DOC, options as never));
        if (handle !== undefined) await settlesWithin(handle.done, 10_000, 'done');
        await weftErrorOrValue('engine.compile', () => engine.compile(options));
        await weftErrorOrValue('engine.on', () => engine.on(options as never, options as never));
      }),
      { numRuns: fcRuns(200) },
    );
  });

  it('createEngine with fc.anything() in every option, then a run', async () => {
    await fc.assert(
      fc.asyncProperty(hostileOptions(ENGINE_KEYS), hostileValue, async (options, whole) => {
        await weftErrorOrValue('createEngine(anything)', () => createEngine(whole as never));
        const engine = await weftErrorOrValue('createEngine', () =>
          createEngine({ steps: { task: () => 'ok' }, ...options } as never),
        );
        if (engine === undefined) return;
        const done = await weftErrorOrValue('engine.run', () => engine.run(DOC, { input: { a: 1 } }));
        if (done !== undefined) {
          const run = await settlesWithin(Promise.resolve(done), 10_000, 'done');
          expect(['COMPLETED', 'FAILED', 'CANCELLED']).toContain(run.status);
        }
      }),
      { numRuns: fcRuns(300) },
    );
  });
});
