/**
 * A run-starting call takes what it needs from its caller when it is called, before any await
 * (run-call.ts; docs/api.md, "The run input is the run's own"): the input copied, every option read once.
 * What the caller does to its objects once the call has returned its promise changes nothing in the run,
 * and argument errors come before lookups.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WeftError } from '../errors.js';
import { MAX_INPUT_FILE_BYTES } from '../input/files.js';
import { createEngine } from '../run/engine.js';
import type { RunHandle } from '../run/handle.js';
import type { StepContext } from '../steps/types.js';
import { MemoryStore } from '../store/memory.js';
import { fcRuns, jsonObject } from '../test-support/fc.js';
import { draft } from '../test-support/workflows.js';
import type { AppClient, Weft } from './client.js';
import { rejection } from './test-support/fixtures.js';
import { createWeft } from './weft.js';

const DOC = draft([
  {
    type: 'input',
    key: 'in',
    input: {
      name: { type: 'string', optional: true },
      upload: { type: 'file', optional: true },
    },
    destinations: ['look'],
  },
  { type: 'look', key: 'look' },
]);

/** What the run's step saw of its input (a JSON snapshot). */
let seen: unknown[] = [];
const look = (ctx: StepContext) => {
  seen.push(JSON.parse(JSON.stringify(ctx.scope.input)));
  return 'looked';
};

const wefts: Weft[] = [];
afterEach(async () => {
  seen = [];
  for (const weft of wefts.splice(0)) await weft.close();
});

async function world(): Promise<{
  weft: Weft;
  app: AppClient;
  other: AppClient;
  workflowId: string;
  sharedId: string;
}> {
  const weft = createWeft({ store: new MemoryStore(), steps: { look }, recover: false });
  wefts.push(weft);
  const app = weft.app('app');
  const other = weft.app('other');
  const workflow = await app.workflows.create({ name: 'look', draft: DOC });
  await app.versions.publish(workflow.id);
  const shared = await other.workflows.create({ name: 'shared', draft: DOC, discoverable: true });
  await other.versions.publish(shared.id);
  return { weft, app, other, workflowId: workflow.id, sharedId: shared.id };
}

/** Every level of the caller's object changed, keys added and removed, as a caller reusing it would. */
function scribble(value: unknown, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 64) return;
  if (Array.isArray(value)) {
    for (const item of value) scribble(item, depth + 1);
    value.push('pushed by the caller');
    value[0] = 'replaced by the caller';
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    scribble(record[key], depth + 1);
    if (key.length % 2 === 0) delete record[key];
    else Object.defineProperty(record, key, { value: 'changed by the caller', enumerable: true });
  }
  record.added_by_the_caller = true;
}

describe('the input is taken at the call', () => {
  it('runs.run: the caller changing its input right after the call (before awaiting it) changes nothing in the run', async () => {
    const { app, workflowId } = await world();
    const input = { name: 'ada', nested: { list: [1, { two: 2 }] } };
    const pending = app.runs.run(workflowId, { input });
    scribble(input);
    const run = await pending;
    expect(run.status).toBe('COMPLETED');
    expect(seen).toEqual([{ name: 'ada', nested: { list: [1, { two: 2 }] } }]);
    expect(run.input).toEqual({ name: 'ada', nested: { list: [1, { two: 2 }] } });
    expect((await app.runs.get(run.id)).input).toEqual(run.input);
  });

  it('discover.run: the same, for another app’s workflow', async () => {
    const { app, sharedId } = await world();
    const input = { name: 'ada', nested: { flag: true } };
    const pending = app.discover.run(sharedId, { input });
    scribble(input);
    const run = await pending;
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({ name: 'ada', nested: { flag: true } });
    expect(seen).toEqual([run.input]);
  });

  it('file bytes are copied at the call: changing or detaching the buffer afterwards changes nothing', async () => {
    const { app, workflowId } = await world();
    const bytes = Buffer.from('%PDF-1.4\n%the original\n');
    const original = bytes.toString('base64');
    const input = { upload: bytes };
    const pending = app.runs.run(workflowId, { input });
    bytes.fill(0);
    const run = await pending;
    expect(run.input.upload).toEqual({ data: original, type: 'application/pdf' });

    // Over the cap: refused with the size it had at the call, though the caller detached it since.
    const big = new Uint8Array(MAX_INPUT_FILE_BYTES + 1);
    const refused = app.runs.run(workflowId, { input: { upload: big } });
    structuredClone(big, { transfer: [big.buffer] });
    expect(big.byteLength).toBe(0);
    const error = await rejection(refused);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(String(MAX_INPUT_FILE_BYTES + 1));
  });

  it('the options are read once, at the call: changing them afterwards changes nothing', async () => {
    const { app, workflowId } = await world();
    const started: string[] = [];
    const options = {
      version: 'draft' as string | number,
      input: { name: 'ada' } as Record<string, unknown>,
      background: false,
      collection_id: 'collection-1' as string | null,
      retention: { max_age_in_seconds: 3600, preserve_on_failure: true },
      onStart: (handle: RunHandle) => started.push(`first ${handle.id}`),
    };
    const pending = app.runs.run(workflowId, options);
    options.version = 99;
    options.input = { name: 'eve' };
    options.background = true;
    options.collection_id = null;
    options.retention.max_age_in_seconds = 1;
    options.onStart = () => started.push('second');
    const run = await pending;
    expect(run.status).toBe('COMPLETED');
    expect(run).toMatchObject({
      version: null,
      input: { name: 'ada' },
      collection_id: 'collection-1',
      retention: { max_age_in_seconds: 3600, preserve_on_failure: true },
    });
    expect(started).toEqual([`first ${run.id}`]);
  });

  it('runs.replay: its options too', async () => {
    const { app, workflowId } = await world();
    const first = await app.runs.run(workflowId, { input: { name: 'ada' } });
    const options = { background: false, origin: 'TRIGGER' as string, retention: 60 as number | null };
    const pending = app.runs.replay(first.id, options as never);
    options.background = true;
    options.origin = 'RECORD';
    options.retention = null;
    const replay = await pending;
    expect(replay).toMatchObject({
      status: 'COMPLETED',
      origin: 'TRIGGER',
      retention: { max_age_in_seconds: 60, preserve_on_failure: false },
      input: { name: 'ada' },
    });
  });

  it('each option is read once; a getter that throws is INVALID_ARGUMENT naming the option', async () => {
    const { app, workflowId } = await world();
    const reads: string[] = [];
    const options = {};
    for (const [name, value] of [
      ['version', 'latest'],
      ['input', { name: 'ada' }],
      ['background', false],
      ['origin', 'TRIGGER'],
    ] as const) {
      Object.defineProperty(options, name, {
        enumerable: true,
        get() {
          reads.push(name);
          return name === 'input' ? { ...(value as object) } : value;
        },
      });
    }
    const run = await app.runs.run(workflowId, options);
    expect(run).toMatchObject({ status: 'COMPLETED', input: { name: 'ada' }, origin: 'TRIGGER' });
    expect(reads.sort()).toEqual(['background', 'input', 'origin', 'version']);

    const hostile = Object.defineProperty({}, 'collection_id', {
      enumerable: true,
      get() {
        throw new Error('a getter that throws');
      },
    });
    const error = await rejection(app.runs.run(workflowId, hostile));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'collection_id' } });
  });

  it('runs.list: the query’s arrays are read at the call', async () => {
    const { app, workflowId } = await world();
    const done = await app.runs.run(workflowId, { input: {} });
    const status: string[] = ['COMPLETED'];
    const pending = app.runs.list({ workflow_id: workflowId, status: status as never });
    status[0] = 'FAILED';
    expect((await pending).data.map((r) => r.id)).toEqual([done.id]);
  });
});

describe('argument errors come before lookups', () => {
  const missing = 'wf_does_not_exist';

  it('runs.run / discover.run: a bad input or option is INVALID_ARGUMENT, not NOT_FOUND', async () => {
    const { app } = await world();
    for (const [options, parameter] of [
      [{ input: 5 }, 'input'],
      [{ input: { when: new Date(0) } }, 'input'],
      [{ version: 1.5 }, 'version'],
      [{ version: '' }, 'version'],
      [{ from_step_key: 5 }, 'from_step_key'],
      [{ retention: 'forever' }, 'retention'],
      [{ origin: 'NOWHERE' }, 'origin'],
      [{ collection_id: 5 }, 'collection_id'],
      [{ record_id: {} }, 'record_id'],
      [{ background: 'yes' }, 'background'],
      [{ signal: { aborted: false } }, 'signal'],
      [{ onStart: 'not a function' }, 'onStart'],
      [{ stream: true }, 'stream'],
    ] as const) {
      for (const call of [
        app.runs.run(missing, options as never),
        app.discover.run(missing, options as never),
      ]) {
        const error = await rejection(call);
        expect({ options, code: error.code, parameter: error.details?.parameter }).toEqual({
          options,
          code: 'INVALID_ARGUMENT',
          parameter,
        });
      }
    }
    // A bad id first of all (arguments in order), then the lookup.
    expect(await rejection(app.runs.run('', { input: 5 } as never))).toMatchObject({
      details: { parameter: 'workflowId' },
    });
    expect((await rejection(app.runs.run(missing, { input: {} }))).code).toBe('NOT_FOUND');
  });

  it('what needs the version comes after the lookup: INVALID_INPUT, a from_step_key naming no step', async () => {
    const { app, workflowId } = await world();
    expect((await rejection(app.runs.run(missing, { input: { name: 5 } }))).code).toBe('NOT_FOUND');
    expect((await rejection(app.runs.run(workflowId, { input: { name: 5 } }))).code).toBe('INVALID_INPUT');
    expect((await rejection(app.runs.run(missing, { from_step_key: 'nope' }))).code).toBe('NOT_FOUND');
    expect(await rejection(app.runs.run(workflowId, { from_step_key: 'nope' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'from_step_key' },
    });
  });

  it('runs.replay and runs.updateRetention: INVALID_ARGUMENT before the run is looked up', async () => {
    const { app } = await world();
    expect(await rejection(app.runs.replay('run_missing', { stepKey: 5 } as never))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'stepKey' },
    });
    expect(await rejection(app.runs.replay('run_missing', { background: 1 } as never))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'background' },
    });
    expect(await rejection(app.runs.updateRetention('run_missing', 'x' as never))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'retention' },
    });
    expect((await rejection(app.runs.replay('run_missing', {}))).code).toBe('NOT_FOUND');
  });

  it('a client-only Weft refuses from_step_key and onStart before the lookup', async () => {
    const client = createWeft({ store: new MemoryStore(), worker: false });
    wefts.push(client);
    const app = client.app('app');
    for (const options of [{ from_step_key: 'look' }, { onStart: () => {} }]) {
      expect(await rejection(app.runs.run(missing, options))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        details: { parameter: Object.keys(options)[0] },
      });
    }
  });
});

describe('the input’s own errors before its document’s, on every path', () => {
  it('data that is not JSON is INVALID_ARGUMENT even when a file is also too large (engine.start too)', async () => {
    const { app, workflowId } = await world();
    const input = () => ({ upload: new Uint8Array(MAX_INPUT_FILE_BYTES + 1), name: new Date(0) });
    const viaRegistry = await rejection(app.runs.run(workflowId, { input: input() }));
    let viaEngine: unknown;
    try {
      createEngine({ steps: { look } }).start(DOC, { input: input() });
    } catch (error) {
      viaEngine = error;
    }
    expect(viaEngine).toBeInstanceOf(WeftError);
    expect(viaRegistry).toMatchObject({ code: 'INVALID_ARGUMENT', details: { path: 'input.name' } });
    expect({ code: (viaEngine as WeftError).code, message: (viaEngine as WeftError).message }).toEqual({
      code: viaRegistry.code,
      message: viaRegistry.message,
    });
  });

  it('binary data outside a file field names its kind as the caller gave it (a Buffer)', async () => {
    const { app, workflowId } = await world();
    const error = await rejection(app.runs.run(workflowId, { input: { name: Buffer.from('x') } }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('(Buffer)');
  });
});

describe('property', () => {
  it('whatever the caller does to its input once the call has returned, the run has the input as it was at the call', async () => {
    const { app } = await world();
    // No input definition: any JSON object is a valid input.
    const { id: workflowId } = await app.workflows.create({
      name: 'any input',
      draft: draft([{ type: 'look', key: 'look' }]),
    });
    await fc.assert(
      fc.asyncProperty(jsonObject, fc.boolean(), async (input, background) => {
        seen = [];
        const expected = structuredClone(input);
        const pending = app.runs.run(workflowId, { version: 'draft', input, background });
        scribble(input);
        const returned = await pending;
        const run = background ? await app.runs.wait(returned.id) : returned;
        expect(run.status).toBe('COMPLETED');
        expect(run.input).toEqual(expected);
        expect(seen).toEqual([JSON.parse(JSON.stringify(expected))]);
        expect((await app.runs.get(run.id)).input).toEqual(expected);
      }),
      { numRuns: fcRuns(60) },
    );
  });
});
