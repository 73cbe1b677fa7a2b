/**
 * Durable runs through the registry, as one vitest suite for every store: `createWeft({ store })`
 * journals each run under a lease, resumes the runs whose process died, and never leaves a lie when the
 * store fails (docs/durability.md). A store passes when
 *
 *   describeDurableRuns('MyStore', { create: () => new MyStore(), reopen: (s) => new MyStore(sameDb) });
 *
 * is green. `reopen` gives a second handle on the same database (another "process"); without it the
 * same store object is shared. A process that dies is simulated by `severable(store).sever()`: from then
 * on every call of that handle hangs, as if the process had stopped between two instructions.
 *
 * Like `@weft/testing/store-contract`, it imports vitest itself (a peer dependency of this entry only).
 */
import type { RunRecord, StepContext, Weft, WeftOptions, WeftStore, WorkflowVersionDraft } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contractFixture } from './contract-fixture.js';

export interface DurableContractOptions {
  /** A new, empty store (called for each test). */
  create(): WeftStore | Promise<WeftStore>;
  /** A second handle on the database of `store` (another process). Default: the same object. */
  reopen?(store: WeftStore): WeftStore | Promise<WeftStore>;
  /** Releases a handle after its test. */
  destroy?(store: WeftStore): void | Promise<void>;
  /** fast-check runs of the crash + resume property (default 15). */
  propertyRuns?: number;
}

/** A handle on a store whose calls can be made to hang (the process died) or to fail. */
export interface SeverableStore {
  readonly store: WeftStore;
  /** From now on every call hangs (already-started calls finish). */
  sever(): void;
  /** `appendJournals` calls that went through so far. */
  readonly appends: number;
  /** The calls to `appendJournals` whose 1-based numbers are listed reject with `error`. */
  failAppends(numbers: readonly number[], error?: Error): void;
  /** From the `n`-th `appendJournals` call (1-based) on, every call hangs. */
  severAtAppend(n: number): void;
  /**
   * The next `appendJournals` call that carries an entry of this type (`run.started`: a run's first
   * append; `run.ended`: its last) rejects with `error` — once. Unlike numbers, this does not depend on
   * how many appends a run happens to make (a loaded machine can merge or split batches).
   */
  failAppendWith(type: string, error?: Error): void;
}

export function severable(store: WeftStore): SeverableStore {
  let severed = false;
  let appends = 0;
  let severAt = Number.POSITIVE_INFINITY;
  let failing = new Set<number>();
  let failingType: string | null = null;
  let failure = new Error('disk I/O error (injected)');
  const carries = (args: unknown[], type: string) =>
    Array.isArray(args[0]) &&
    (args[0] as Array<{ batch?: { entries?: Array<{ type?: unknown }> } }>).some((append) =>
      append?.batch?.entries?.some((entry) => entry?.type === type),
    );
  const never = new Promise<never>(() => undefined);
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (severed) return never;
        if (property === 'appendJournals') {
          appends++;
          if (appends >= severAt) {
            severed = true;
            return never;
          }
          if (failing.has(appends)) return Promise.reject(failure);
          if (failingType !== null && carries(args, failingType)) {
            failingType = null;
            return Promise.reject(failure);
          }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: proxy,
    sever: () => {
      severed = true;
    },
    get appends() {
      return appends;
    },
    failAppends(numbers, error) {
      failing = new Set(numbers);
      if (error !== undefined) failure = error;
    },
    severAtAppend(n) {
      severAt = n;
    },
    failAppendWith(type, error) {
      failingType = type;
      if (error !== undefined) failure = error;
    },
  };
}

/** A one-key-per-step executions log: key → [attempt, idempotency_key] of every execution. */
type Executions = Map<string, Array<[number, string]>>;

function record(log: Executions, ctx: StepContext): void {
  const key = `${ctx.run.id}/${ctx.step.key}`;
  let list = log.get(key);
  if (list === undefined) {
    list = [];
    log.set(key, list);
  }
  list.push([ctx.attempt, ctx.idempotency_key]);
}

const HOUR = 3_600_000;

/** `Promise.withResolvers` (Node 22+) for Node 20. */
function resolvers<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
/** A clock `offsetMs` ahead of the real one: a later process sees the leases of an earlier one ended. */
const later = (offsetMs: number) => ({ now: () => Date.now() + offsetMs });

function chain(keys: string[], type = 'work'): WorkflowVersionDraft {
  return {
    key: 'durable',
    steps: keys.map((key, i) => ({
      type,
      key,
      destinations: i + 1 < keys.length ? [keys[i + 1]!] : [],
    })),
  } as unknown as WorkflowVersionDraft;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function describeDurableRuns(name: string, options: DurableContractOptions): void {
  describe(`durable runs: ${name}`, () => {
    const { open, reopen, weft } = contractFixture(options);

    /**
     * Process A starts a run of `a → hold → c`, and dies while `hold` runs (its store handle hangs from
     * then on). Returns the store, the run id and the executions A made.
     */
    async function crashed() {
      const store = await open();
      const log: Executions = new Map();
      const cut = severable(store);
      const held = resolvers<void>();
      const a = weft({
        store: cut.store,
        recover: false,
        steps: {
          work: (ctx: StepContext) => {
            record(log, ctx);
            return `${ctx.step.key}@A`;
          },
          hold: (ctx: StepContext) => {
            record(log, ctx);
            held.resolve();
            return new Promise(() => undefined);
          },
        },
      });
      const app = a.app('app_1');
      const workflow = await app.workflows.create({
        name: 'crash',
        draft: {
          key: 'crash',
          steps: [
            { type: 'work', key: 'a', destinations: ['hold'] },
            { type: 'hold', key: 'hold', destinations: ['c'] },
            // No `destinations`: the resumed run's document is the stored one, as it was given.
            { type: 'work', key: 'c' },
          ],
        } as unknown as WorkflowVersionDraft,
      });
      // A published version (the run row holds the version record, not the draft).
      await app.versions.publish(workflow.id);
      const started = await app.runs.run(workflow.id, { background: true });
      await held.promise;
      await a.idle(); // `a` settled and `hold` started are in the store
      cut.sever();
      return { store, runId: started.id, log };
    }

    function resumer(store: WeftStore, log: Executions, extra: WeftOptions = {}): Weft {
      const step = (ctx: StepContext) => {
        record(log, ctx);
        return `${ctx.step.key}@B`;
      };
      return weft({ store, clock: later(HOUR), steps: { work: step, hold: step }, ...extra });
    }

    it('journals every run: its row, step records and end go through appendJournals, the lease is released at the end', async () => {
      const store = await open();
      const calls: string[] = [];
      const spy = new Proxy(store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(String(property));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const w = weft({ store: spy, steps: { work: (ctx: StepContext) => ctx.step.key } });
      const app = w.app('app_1');
      const workflow = await app.workflows.create({ name: 'chain', draft: chain(['a', 'b', 'c']) });
      const run = await app.runs.run(workflow.id, { version: 'draft' });
      expect(run).toMatchObject({ status: 'COMPLETED', result: 'c' });
      expect(calls).toContain('appendJournals');
      for (const legacy of ['insertRun', 'saveStepResult', 'updateRun']) expect(calls).not.toContain(legacy);
      const journal = await store.loadJournal(run.id);
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
      expect(journal[0]!.type).toBe('run.started');
      expect(journal.at(-1)!.type).toBe('run.ended');
      expect(await store.getLease(run.id)).toMatchObject({ status: 'COMPLETED', owner_id: null });
      const records = (await store.getStepResults([run.id])).get(run.id)!;
      expect(Object.keys(records).sort()).toEqual(['a', 'b', 'c']);
      expect(records.c).toMatchObject({ status: 'COMPLETED', output: 'c' });
      expect(await app.runs.get(run.id)).toEqual(run);
    });

    it('a foreground runs.run answers exactly what the store holds, without reading it back (generated workflows)', async () => {
      // JSON data as a handler would return it (through JSON, so that -0 and the like do not differ
      // between a JSON store and the memory store's copies).
      const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
      const shape = fc.record({
        steps: fc.array(
          fc.record({ output: json, async: fc.boolean(), fail: fc.boolean(), throws: fc.boolean() }),
          { minLength: 1, maxLength: 6 },
        ),
        edges: fc.array(fc.tuple(fc.nat(5), fc.nat(5)), { maxLength: 8 }),
        input: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), json, { maxKeys: 3 }),
        retention: fc.constantFrom(undefined, 60, { max_age_in_seconds: 5, preserve_on_failure: true }),
      });
      await fc.assert(
        fc.asyncProperty(shape, async ({ steps, edges, input, retention }) => {
          const keys = steps.map((_, i) => `s${i}`);
          const destinations = keys.map(() => new Set<string>());
          for (const [x, y] of edges) {
            const [from, to] = [Math.min(x, y) % keys.length, Math.max(x, y) % keys.length];
            if (from < to) destinations[from]!.add(keys[to]!);
          }
          const document = {
            key: 'answer',
            steps: keys.map((key, i) => ({
              type: 'gen',
              key,
              destinations: [...destinations[i]!],
              throw_on_error: steps[i]!.throws,
            })),
          } as unknown as WorkflowVersionDraft;
          const store = await open();
          const w = weft({
            store,
            steps: {
              gen: async (ctx: StepContext) => {
                const step = steps[Number(ctx.step.key.slice(1))]!;
                if (step.async) await new Promise((resolve) => setTimeout(resolve, 1));
                if (step.fail) throw new Error(`${ctx.step.key} fails`);
                ctx.usage.record({ id: ctx.step.key, total: 1 });
                return step.output;
              },
            },
          });
          const app = w.app('app_1');
          const workflow = await app.workflows.create({ name: 'answer', draft: document });
          const run = await app.runs.run(workflow.id, {
            version: 'draft',
            input,
            ...(retention === undefined ? {} : { retention }),
          });
          expect(run).toStrictEqual(await app.runs.get(run.id));
        }),
        { numRuns: options.propertyRuns ?? 15 },
      );
    });

    it('a run in progress is owned by its Weft, its lease ahead of the clock', async () => {
      const store = await open();
      const gate = resolvers<string>();
      const w = weft({ store, owner: { leaseMs: 60_000 }, steps: { work: () => gate.promise } });
      const app = w.app('app_1');
      const workflow = await app.workflows.create({ name: 'one', draft: chain(['a']) });
      const run = await app.runs.run(workflow.id, { version: 'draft', background: true });
      expect(run.status).toBe('RUNNING');
      const lease = await store.getLease(run.id);
      expect(lease?.owner_id).toBe(w.ownerId);
      expect(Date.parse(lease!.lease_until!)).toBeGreaterThan(Date.now() + 30_000);
      gate.resolve('done');
      expect(await app.runs.wait(run.id)).toMatchObject({ status: 'COMPLETED', result: 'done' });
    });

    it('recovery on open: a crashed run resumes; completed steps never run again, the running one runs again with the next attempt and the same idempotency key', async () => {
      const { store, runId, log } = await crashed();
      expect(log.get(`${runId}/a`)).toHaveLength(1);
      const b = resumer(await reopen(store), log);
      // Handles obtained after the restart settle when the resumed run ends (never RUNNING at once).
      const done = await b.app('app_1').runs.wait(runId);
      expect(done).toMatchObject({ status: 'COMPLETED', result: 'c@B' });
      expect(done.output.a).toMatchObject({ status: 'COMPLETED', output: 'a@A' });
      expect(log.get(`${runId}/a`)).toHaveLength(1);
      const hold = log.get(`${runId}/hold`)!;
      expect(hold.map(([attempt]) => attempt)).toEqual([1, 2]);
      expect(hold[1]![1]).toBe(hold[0]![1]);
      expect(log.get(`${runId}/c`)).toHaveLength(1);
      const journal = await store.loadJournal(runId);
      expect(journal.map((e) => e.type)).toContain('run.resumed');
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
    });

    it('a run whose owner is alive is not taken: another Weft waits for it (polling the store)', async () => {
      const store = await open();
      const gate = resolvers<string>();
      const a = weft({ store, steps: { work: () => gate.promise } });
      const workflow = await a.app('app_1').workflows.create({ name: 'w', draft: chain(['a']) });
      const run = await a.app('app_1').runs.run(workflow.id, { version: 'draft', background: true });
      let calls = 0;
      const b = weft({
        store: await reopen(store),
        steps: {
          work: () => {
            calls++;
            return 'B';
          },
        },
      });
      expect(await b.recover()).toEqual({ resumed: [], failed: [] });
      const waiting = b.app('app_1').runs.wait(run.id);
      await new Promise((resolve) => setTimeout(resolve, 30));
      gate.resolve('A');
      expect(await waiting).toMatchObject({ status: 'COMPLETED', result: 'A' });
      expect(calls).toBe(0);
    });

    it('two Wefts recovering at once resume each run exactly once', async () => {
      const store = await open();
      const cut = severable(store);
      const a = weft({
        store: cut.store,
        recover: false,
        steps: { work: () => new Promise(() => undefined) },
      });
      const app = a.app('app_1');
      const workflow = await app.workflows.create({ name: 'w', draft: chain(['a']) });
      const ids: string[] = [];
      for (let i = 0; i < 20; i++)
        ids.push((await app.runs.run(workflow.id, { version: 'draft', background: true })).id);
      await a.idle();
      cut.sever();
      const executions = new Map<string, number>();
      const step = (ctx: StepContext) => {
        executions.set(ctx.run.id, (executions.get(ctx.run.id) ?? 0) + 1);
        return 'done';
      };
      const b = weft({
        store: await reopen(store),
        clock: later(HOUR),
        recover: false,
        steps: { work: step },
      });
      const c = weft({
        store: await reopen(store),
        clock: later(HOUR),
        recover: false,
        steps: { work: step },
      });
      const [rb, rc] = await Promise.all([b.recover(), c.recover()]);
      expect([...rb.resumed, ...rc.resumed].sort()).toEqual([...ids].sort());
      for (const id of ids) {
        const waiter = rb.resumed.includes(id) ? b : c;
        expect(await waiter.app('app_1').runs.wait(id)).toMatchObject({
          status: 'COMPLETED',
          result: 'done',
        });
      }
      expect([...executions.values()].every((n) => n === 1)).toBe(true);
      expect(executions.size).toBe(ids.length);
    });

    it('a Weft that lost its lease stops appending and aborts its execution; the new owner’s run wins', async () => {
      const store = await open();
      const gate = resolvers<string>();
      let aborted = false;
      const a = weft({
        store,
        recover: false,
        owner: { leaseMs: HOUR },
        steps: {
          work: (ctx: StepContext) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
            });
            return gate.promise;
          },
        },
      });
      const workflow = await a.app('app_1').workflows.create({ name: 'w', draft: chain(['a', 'b']) });
      const run = await a.app('app_1').runs.run(workflow.id, { version: 'draft', background: true });
      await a.idle();
      // A is paused longer than its lease: B (whose clock is past it) takes the run over.
      const b = weft({
        store: await reopen(store),
        clock: later(2 * HOUR),
        recover: false,
        steps: { work: (ctx: StepContext) => `${ctx.step.key}@B` },
      });
      expect((await b.recover()).resumed).toEqual([run.id]);
      expect(await b.app('app_1').runs.wait(run.id)).toMatchObject({ status: 'COMPLETED', result: 'b@B' });
      // A wakes up: its append is refused, its run is abandoned, nothing of it reaches the store.
      gate.resolve('a@A');
      expect(await a.app('app_1').runs.wait(run.id)).toMatchObject({ status: 'COMPLETED', result: 'b@B' });
      await a.idle();
      const stored = await b.app('app_1').runs.get(run.id);
      expect(stored.output.a).toMatchObject({ output: 'a@B' });
      const journal = await store.loadJournal(run.id);
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
      expect(aborted || journal.every((e) => !JSON.stringify(e).includes('a@A'))).toBe(true);
    });

    it('a run whose step type is no longer registered ends FAILED with RESUME_FAILED', async () => {
      const { store, runId } = await crashed();
      const b = weft({
        store: await reopen(store),
        clock: later(HOUR),
        recover: false,
        steps: { work: () => 'x' },
      });
      const result = await b.recover();
      expect(result.resumed).toEqual([]);
      expect(result.failed).toEqual([
        { run_id: runId, error: expect.objectContaining({ code: 'RESUME_FAILED' }) },
      ]);
      const run = await b.app('app_1').runs.wait(runId);
      expect(run).toMatchObject({ status: 'FAILED', error: { code: 'RESUME_FAILED' } });
      expect(await store.getLease(runId)).toMatchObject({ owner_id: null });
    });

    it('runs.wait on an orphaned run with recover: false is RUN_ORPHANED, saying how to resume it', async () => {
      const { store, runId } = await crashed();
      const b = weft({ store: await reopen(store), clock: later(HOUR), recover: false });
      await expect(b.app('app_1').runs.wait(runId)).rejects.toMatchObject({ code: 'RUN_ORPHANED' });
    });

    describe('store failures never leave a lie', () => {
      // Each step returns only once the batch holding its start has gone to the store (an append call
      // counted since it began), so that every step boundary is an append of its own however fast or
      // slow the store is (a sleep was not enough on a loaded machine: PostgreSQL merged the batches).
      const stepAfterAnAppend = (cut: SeverableStore) => async (ctx: StepContext) => {
        const seen = cut.appends;
        const deadline = Date.now() + 5_000;
        while (cut.appends === seen && Date.now() < deadline && !ctx.signal.aborted) {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return ctx.step.key;
      };
      for (const which of ['first', 'middle', 'last'] as const) {
        it(`a failure of the ${which} append: the run ends FAILED with STORE_ERROR (never RUNNING), and the store records it later`, async () => {
          const store = await open();
          const cut = severable(store);
          const w = weft({
            store: cut.store,
            // A frequent heartbeat (it writes the end once the store works again); a lease a loaded
            // machine renews in time (an append needs an unexpired one).
            owner: { leaseMs: 5_000, heartbeatMs: 20 },
            steps: { work: stepAfterAnAppend(cut) },
          });
          const app = w.app('app_1');
          const workflow = await app.workflows.create({ name: 'w', draft: chain(['a', 'b', 'c']) });
          // An uninterrupted run counts the appends a run of this workflow makes.
          const before = cut.appends;
          expect((await app.runs.run(workflow.id, { version: 'draft' })).status).toBe('COMPLETED');
          const count = cut.appends - before;
          expect(count).toBeGreaterThanOrEqual(3);
          if (which === 'first') cut.failAppendWith('run.started');
          else if (which === 'last') cut.failAppendWith('run.ended');
          else cut.failAppends([cut.appends + Math.ceil(count / 2)]);
          const run = await app.runs.run(workflow.id, { version: 'draft' });
          expect(run).not.toBeNull();
          expect(run.status).toBe('FAILED');
          expect(run.error).toMatchObject({ code: 'STORE_ERROR' });
          expect(await app.runs.get(run.id)).toMatchObject({ status: 'FAILED' });
          // The heartbeat writes the end once the store works again.
          await until(
            async () => (await store.getRun(run.id))?.status === 'FAILED',
            'the end to be recorded',
          );
          expect(await store.getRun(run.id)).toMatchObject({
            status: 'FAILED',
            error: { code: 'STORE_ERROR' },
          });
          expect(await app.runs.wait(run.id)).toMatchObject({ status: 'FAILED' });
          expect((await app.runs.list()).data.find((r) => r.id === run.id)?.status).toBe('FAILED');
        });
      }

      it('a background run whose insert fails is returned (FAILED, never null) and waits resolve FAILED', async () => {
        const store = await open();
        const cut = severable(store);
        const w = weft({ store: cut.store, steps: { work: async () => 'x' } });
        const app = w.app('app_1');
        const workflow = await app.workflows.create({ name: 'w', draft: chain(['a']) });
        cut.failAppends([cut.appends + 1]);
        const run = await app.runs.run(workflow.id, { version: 'draft', background: true });
        expect(run).not.toBeNull();
        expect(['RUNNING', 'FAILED']).toContain(run.status);
        expect(await app.runs.wait(run.id)).toMatchObject({
          status: 'FAILED',
          error: { code: 'STORE_ERROR' },
        });
      });
    });

    it('crash + resume = no crash: for generated workflows and crash points, the resumed run ends as an uninterrupted one', async () => {
      const shape = fc.record({
        n: fc.integer({ min: 1, max: 6 }),
        edges: fc.array(fc.tuple(fc.nat(5), fc.nat(5)), { maxLength: 10 }),
        asyncSteps: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        crashAt: fc.integer({ min: 1, max: 12 }),
      });
      await fc.assert(
        fc.asyncProperty(shape, async ({ n, edges, asyncSteps, crashAt }) => {
          const keys = Array.from({ length: n }, (_, i) => `s${i}`);
          const destinations = keys.map(() => new Set<string>());
          for (const [x, y] of edges) {
            const [from, to] = [Math.min(x, y) % n, Math.max(x, y) % n];
            if (from < to) destinations[from]!.add(keys[to]!);
          }
          // Every branch flows into one last step, so that the run's result (the output of the step that
          // completed last) does not depend on which of two parallel branches a timer finishes first.
          const document = {
            key: 'generated',
            steps: [
              ...keys.map((key, i) => ({
                type: asyncSteps[i] ? 'slow' : 'work',
                key,
                destinations: destinations[i]!.size === 0 ? ['end'] : [...destinations[i]!],
              })),
              { type: 'work', key: 'end', destinations: [] },
            ],
          } as unknown as WorkflowVersionDraft;
          // Deterministic handlers: the output depends only on the step.
          const steps = {
            work: (ctx: StepContext) => `${ctx.step.key}!`,
            slow: async (ctx: StepContext) => {
              await new Promise((resolve) => setTimeout(resolve, 1));
              return { key: ctx.step.key };
            },
          };
          const store = await open();
          const plain = weft({ store, steps });
          const app = plain.app('app_1');
          const workflow = await app.workflows.create({ name: 'p', draft: document });
          const expected = await app.runs.run(workflow.id, { version: 'draft' });

          const cut = severable(store);
          const crashing = weft({ store: cut.store, steps, recover: false });
          cut.severAtAppend(cut.appends + crashAt);
          const started = await Promise.race([
            crashing.app('app_1').runs.run(workflow.id, { version: 'draft', background: true }),
            new Promise<null>((resolve) => setTimeout(() => resolve(null), 200)),
          ]);
          // The first append hung (crash before the run reached the store): nothing to resume.
          if (started === null) return;
          await Promise.race([
            crashing.app('app_1').runs.wait(started.id),
            new Promise((r) => setTimeout(r, 50)),
          ]);
          const resumer = weft({ store: await reopen(store), clock: later(HOUR), steps, recover: false });
          await resumer.recover();
          const run: RunRecord = await resumer.app('app_1').runs.wait(started.id);
          const view = (r: RunRecord) => ({
            status: r.status,
            result: r.result,
            error: r.error,
            output: Object.fromEntries(
              Object.entries(r.output).map(([k, s]) => [k, { status: s.status, output: s.output }]),
            ),
            usage_total: r.usage.total,
          });
          expect(view(run)).toEqual(view(expected));
        }),
        { numRuns: options.propertyRuns ?? 15 },
      );
    });
  });
}
