/**
 * A run's input is its own, on every store (docs/api.md, "The run input"): the input of `runs.run` is
 * copied once where it enters Weft, and from then on the caller's object and the run's are two objects —
 * the caller changing its object after the run began changes nothing in the run (its steps, its record, its
 * journal), and a step changing the run's input changes nothing of the caller's. The input and the
 * options are taken when `runs.run` is called, before it awaits anything: changing them right after the
 * call, before awaiting its promise, changes nothing either. On a Weft that executes runs, a client-only
 * Weft with a worker (one handle each, as two processes), and a replay.
 *
 *   describeRunInputOwnership('MyStore', { create: () => new MyStore(), reopen: (s) => new MyStore(sameDb) });
 *
 * Imports vitest itself.
 */
import {
  createWeft,
  type RunRecord,
  type StepContext,
  type Weft,
  type WeftOptions,
  type WeftStore,
  type WorkflowVersionDraft,
} from '@weft/core';
import { describe, expect, it } from 'vitest';
import { contractFixture } from './contract-fixture.js';
import type { WorkerContractOptions } from './worker-contract.js';

/** A fresh input: nested objects and arrays, a null, and a "__proto__" key that JSON keeps as data. */
function given(): Record<string, unknown> {
  return JSON.parse(
    '{"name":"ada","nested":{"list":[1,"two",{"three":3}],"flag":true},"none":null,"__proto__":{"isAdmin":false}}',
  ) as Record<string, unknown>;
}

/** What a step of the run sees of its input, and the run's input object itself. */
interface Seen {
  snapshots: unknown[];
  objects: unknown[];
}

function handlers(seen: Seen) {
  return {
    // Reads the run's input (a JSON snapshot of it, and the object itself).
    look: (ctx: StepContext) => {
      const input = ctx.scope.input;
      seen.objects.push(input);
      const snapshot = JSON.parse(JSON.stringify(input)) as unknown;
      seen.snapshots.push(snapshot);
      return snapshot;
    },
    // Writes into the run's input: a handler that breaks the read-only scope must not reach the caller.
    touch: (ctx: StepContext) => {
      const input = ctx.scope.input as { name: string; nested: { list: unknown[]; flag: boolean } };
      seen.objects.push(input);
      input.name = 'changed by the run';
      input.nested.list.push('added by the run');
      input.nested.flag = false;
      return 'touched';
    },
  };
}

const single = (type: string): WorkflowVersionDraft =>
  ({ key: 'input-ownership', steps: [{ type, key: 's' }] }) as unknown as WorkflowVersionDraft;

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Changes every level of the caller's object, as a caller reusing it would. */
function scribble(input: Record<string, unknown>): void {
  input.name = 'changed by the caller';
  const nested = input.nested as { list: unknown[]; flag: boolean };
  nested.list.push('added by the caller');
  (nested.list[2] as Record<string, unknown>).three = 'changed';
  nested.flag = false;
  delete input.none;
}

export function describeRunInputOwnership(name: string, options: WorkerContractOptions): void {
  describe(`run input ownership: ${name}`, () => {
    const { open, reopen, track } = contractFixture(options);
    function weft(store: WeftStore, extra: Partial<WeftOptions> = {}): Weft {
      return track(createWeft({ store, recover: false, ...extra } as WeftOptions));
    }
    /** A client-only Weft on a new store and a worker on another handle; the workflow `name`, one step `key`. */
    async function clientAndWorker(name: string, key: string) {
      const store = await open();
      const seen: Seen = { snapshots: [], objects: [] };
      const client = weft(store, { worker: false });
      const worker = weft(await reopen(store), { steps: handlers(seen), worker: { concurrency: 1 } });
      const app = client.app('app');
      const workflow = await app.workflows.create({ name, draft: single(key) });
      return { store, seen, app, workflow, worker };
    }
    async function startedInput(store: WeftStore, runId: string): Promise<unknown> {
      const [first] = await store.loadJournal(runId, { after_seq: 0, limit: 1 });
      expect(first?.type).toBe('run.started');
      return (first as unknown as { input: unknown }).input;
    }

    it('the caller changing its object once the run has begun changes nothing in the run, its record or its journal', async () => {
      const store = await open();
      const seen: Seen = { snapshots: [], objects: [] };
      const app = weft(store, { steps: handlers(seen) }).app('app');
      const workflow = await app.workflows.create({ name: 'look', draft: single('look') });
      const input = given();
      // onStart runs after the run exists and before its first step: the caller's object changes there.
      const run = await app.runs.run(workflow.id, {
        version: 'draft',
        input,
        onStart: () => scribble(input),
      });
      expect(run.status).toBe('COMPLETED');
      expect(seen.snapshots).toEqual([given()]);
      expect(seen.objects[0]).not.toBe(input);
      expect(run.input).toEqual(given());
      expect(run.input).not.toBe(input);
      expect((await app.runs.get(run.id)).input).toEqual(given());
      expect(await startedInput(store, run.id)).toEqual(given());
      expect(Object.hasOwn(run.input, '__proto__')).toBe(true);
      expect((run.input as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    });

    it('the caller changing its object right after the call, before awaiting it, changes nothing in the run', async () => {
      const store = await open();
      const seen: Seen = { snapshots: [], objects: [] };
      const app = weft(store, { steps: handlers(seen) }).app('app');
      const workflow = await app.workflows.create({ name: 'look', draft: single('look') });
      const input = given();
      const options = { version: 'draft', input, collection_id: 'at the call' as string | null };
      // The call returns its promise before it has looked anything up: the input is taken by then.
      const pending = app.runs.run(workflow.id, options);
      scribble(input);
      options.input = { name: 'another object' } as never;
      options.collection_id = null;
      const run = await pending;
      expect(run.status).toBe('COMPLETED');
      expect(seen.snapshots).toEqual([given()]);
      expect(run.input).toEqual(given());
      expect(run.collection_id).toBe('at the call');
      expect((await app.runs.get(run.id)).input).toEqual(given());
      expect(await startedInput(store, run.id)).toEqual(given());
    });

    it('a client-only Weft and a worker: the caller’s changes right after the call, before awaiting it, reach neither the row nor the worker’s run', async () => {
      const { store, seen, app, workflow } = await clientAndWorker('look', 'look');
      const foreground = given();
      const background = given();
      const waited = app.runs.run(workflow.id, { version: 'draft', input: foreground });
      const options = { version: 'draft', input: background, background: true };
      const enqueuing = app.runs.run(workflow.id, options);
      scribble(foreground);
      scribble(background);
      options.background = false;
      const enqueued = await enqueuing;
      expect(enqueued.status).toBe('PENDING');
      expect(enqueued.input).toEqual(given());
      const run = await waited;
      expect(run.status).toBe('COMPLETED');
      expect(run.input).toEqual(given());
      await until(async () => (await app.runs.get(enqueued.id)).status === 'COMPLETED', 'the worker');
      expect(seen.snapshots).toEqual([given(), given()]);
      for (const id of [run.id, enqueued.id]) {
        expect((await app.runs.get(id)).input).toEqual(given());
        expect(await startedInput(store, id)).toEqual(given());
      }
    });

    it('a step changing the run input changes nothing of the caller’s object', async () => {
      const store = await open();
      const seen: Seen = { snapshots: [], objects: [] };
      const app = weft(store, { steps: handlers(seen) }).app('app');
      const workflow = await app.workflows.create({ name: 'touch', draft: single('touch') });
      const input = given();
      const run = await app.runs.run(workflow.id, { version: 'draft', input });
      expect(run.status).toBe('COMPLETED');
      expect(input).toEqual(given());
      expect(seen.objects[0]).not.toBe(input);
      expect((seen.objects[0] as { nested: unknown }).nested).not.toBe(input.nested);
    });

    it('what runs.run answers is not the caller’s object, nor the stored one', async () => {
      const store = await open();
      const app = weft(store, { steps: handlers({ snapshots: [], objects: [] }) }).app('app');
      const workflow = await app.workflows.create({ name: 'look', draft: single('look') });
      const input = given();
      const run = await app.runs.run(workflow.id, { version: 'draft', input });
      expect(run.input).not.toBe(input);
      (run.input.nested as { flag: boolean }).flag = false;
      expect(input).toEqual(given());
      expect((await app.runs.get(run.id)).input).toEqual(given());
    });

    it('a client-only Weft and a worker: the caller’s changes after the call reach neither the row nor the worker’s run', async () => {
      const { store, seen, app, workflow, worker } = await clientAndWorker('touch', 'look');
      const input = given();
      const enqueued = await app.runs.run(workflow.id, { version: 'draft', input, background: true });
      scribble(input);
      expect(enqueued.input).toEqual(given());
      await until(async () => (await app.runs.get(enqueued.id)).status === 'COMPLETED', 'the worker');
      expect(seen.snapshots).toEqual([given()]);
      const run: RunRecord = await app.runs.get(enqueued.id);
      expect(run.input).toEqual(given());
      expect(await startedInput(store, run.id)).toEqual(given());
      expect(worker).toBeDefined();
    });

    it('a client-only Weft and a worker: a step changing the run input changes nothing of the caller’s object', async () => {
      const { seen, app, workflow } = await clientAndWorker('touch', 'touch');
      const input = given();
      const run = await app.runs.run(workflow.id, { version: 'draft', input });
      expect(run.status).toBe('COMPLETED');
      expect(input).toEqual(given());
      expect(seen.objects[0]).not.toBe(input);
    });

    it('a replay runs on the original’s input, its own copy: changing what either call answered changes neither run', async () => {
      const store = await open();
      const seen: Seen = { snapshots: [], objects: [] };
      const app = weft(store, { steps: handlers(seen) }).app('app');
      const workflow = await app.workflows.create({ name: 'look', draft: single('look') });
      const original = await app.runs.run(workflow.id, { version: 'draft', input: given() });
      scribble(original.input);
      const replay = await app.runs.replay(original.id);
      expect(replay.status).toBe('COMPLETED');
      expect(seen.snapshots).toEqual([given(), given()]);
      expect(seen.objects[1]).not.toBe(seen.objects[0]);
      scribble(replay.input);
      expect((await app.runs.get(original.id)).input).toEqual(given());
      expect((await app.runs.get(replay.id)).input).toEqual(given());
    });
  });
}
