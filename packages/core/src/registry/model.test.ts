/**
 * Model-based test: random sequences of registry operations (create, edit draft, publish, rollback,
 * run, finish, cancel, replay, retention update, sweep, discover, read) from two apps, checked against
 * a simple model — version numbers consecutive and immutable, runs pinned to what they ran, purges
 * exactly per policy, no cross-app visibility.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../store/types.js';
import { fcRuns } from '../test-support/fc.js';
import type { AppClient, Weft } from './client.js';
import { code, codeOf, createGates, draft, manualClock } from './test-support/fixtures.js';
import { createWeft } from './weft.js';

const APPS = ['app_0', 'app_1'] as const;

/** A document whose result is `value`; with input `{ hold: true }` it also waits for its gate. */
const doc = (value: number) =>
  draft([{ type: 'hold', key: 'h', conditional: 'input.hold = true' }, code('c', String(value))]);

const resultOf = (document: { steps: ReadonlyArray<{ key: string; code?: string }> }) =>
  Number(document.steps.find((s) => s.key === 'c')!.code);

type Retention = { max_age_in_seconds: number; preserve_on_failure: boolean } | number | null;

interface MWorkflow {
  id: string;
  app: number;
  discoverable: boolean;
  draftValue: number;
  /** versions[n - 1] is the value of version n. */
  versions: number[];
}

interface MRun {
  id: string;
  app: number;
  workflow: MWorkflow;
  value: number;
  version: number | null;
  hold: boolean;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLED';
  maxAge: number | null;
  endedAt: number | null;
  purged: boolean;
}

interface Model {
  workflows: MWorkflow[];
  runs: MRun[];
  nextValue: number;
  now: number;
}

interface Real {
  weft: Weft;
  apps: AppClient[];
  gates: ReturnType<typeof createGates>;
  clock: ReturnType<typeof manualClock>;
}

const maxAgeOf = (r: Retention): number | null =>
  r === null ? null : typeof r === 'number' ? r : r.max_age_in_seconds;

function due(run: MRun, now: number): boolean {
  return (
    !run.purged &&
    run.endedAt !== null &&
    run.maxAge !== null &&
    run.maxAge !== -1 &&
    run.endedAt + run.maxAge * 1000 <= now
  );
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** What the runs exercised (checked at the end, so the property cannot pass vacuously). */
const exercised = { runs: 0, held: 0, cancelled: 0, replays: 0, purged: 0, rollbacks: 0, refused: 0 };

class CreateWorkflow implements Cmd {
  constructor(
    readonly app: number,
    readonly discoverable: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const value = m.nextValue++;
    const w = await r.apps[this.app]!.workflows.create({
      name: `w${value}`,
      discoverable: this.discoverable,
      draft: doc(value),
    });
    expect(w).toMatchObject({
      app_id: APPS[this.app],
      discoverable: this.discoverable,
      latest_version: null,
    });
    m.workflows.push({
      id: w.id,
      app: this.app,
      discoverable: this.discoverable,
      draftValue: value,
      versions: [],
    });
  }
  toString = () => `create(app ${this.app}, discoverable ${this.discoverable})`;
}

class EditDraft implements Cmd {
  constructor(
    readonly w: number,
    readonly viaOther: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.workflows.length > 0;
  async run(m: Model, r: Real) {
    const w = m.workflows[this.w % m.workflows.length]!;
    const value = m.nextValue++;
    if (this.viaOther) {
      expect(await codeOf(r.apps[1 - w.app]!.workflows.updateDraft(w.id, doc(value)))).toBe('NOT_FOUND');
      return;
    }
    await r.apps[w.app]!.workflows.updateDraft(w.id, doc(value));
    w.draftValue = value;
  }
  toString = () => `editDraft(${this.w}${this.viaOther ? ', other app' : ''})`;
}

class Publish implements Cmd {
  constructor(
    readonly w: number,
    readonly twice: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.workflows.length > 0;
  async run(m: Model, r: Real) {
    const w = m.workflows[this.w % m.workflows.length]!;
    const api = r.apps[w.app]!.versions;
    const published = await Promise.all(
      this.twice ? [api.publish(w.id), api.publish(w.id)] : [api.publish(w.id)],
    );
    const numbers = published.map((v) => v.version).sort((a, b) => a - b);
    expect(numbers).toEqual(published.map((_, i) => w.versions.length + 1 + i));
    for (const v of published) expect(resultOf(v)).toBe(w.draftValue);
    for (const _ of published) w.versions.push(w.draftValue);
  }
  toString = () => `publish(${this.w}${this.twice ? ' ×2 at once' : ''})`;
}

class Rollback implements Cmd {
  constructor(
    readonly w: number,
    readonly n: number,
  ) {}
  check = (m: Readonly<Model>) => m.workflows.some((w) => w.versions.length > 0);
  async run(m: Model, r: Real) {
    const candidates = m.workflows.filter((w) => w.versions.length > 0);
    const w = candidates[this.w % candidates.length]!;
    const target = (this.n % w.versions.length) + 1;
    const v = await r.apps[w.app]!.versions.rollback(w.id, target);
    expect(v.version).toBe(w.versions.length + 1);
    expect(v.rollback_version).toBe(target);
    expect(resultOf(v)).toBe(w.versions[target - 1]);
    w.versions.push(w.versions[target - 1]!);
    exercised.rollbacks++;
  }
  toString = () => `rollback(${this.w}, ${this.n})`;
}

class Run implements Cmd {
  constructor(
    readonly app: number,
    readonly w: number,
    readonly ref: 'latest' | 'draft' | number,
    readonly hold: boolean,
    readonly retention: Retention,
  ) {}
  check = (m: Readonly<Model>) => m.workflows.length > 0;
  async run(m: Model, r: Real) {
    const w = m.workflows[this.w % m.workflows.length]!;
    const api = r.apps[this.app]!;
    const own = w.app === this.app;
    const options = {
      version: this.ref,
      input: { hold: this.hold },
      background: true,
      ...(this.retention === null ? {} : { retention: this.retention }),
    };
    const start = () => (own ? api.runs.run(w.id, options) : api.discover.run(w.id, options));
    let expected: { value: number; version: number | null } | string;
    if (!own && !w.discoverable) expected = 'NOT_FOUND';
    else if (this.ref === 'draft') expected = own ? { value: w.draftValue, version: null } : 'FORBIDDEN';
    else {
      const n = this.ref === 'latest' ? w.versions.length : this.ref;
      expected = n >= 1 && n <= w.versions.length ? { value: w.versions[n - 1]!, version: n } : 'NOT_FOUND';
    }
    if (!own) expect(await codeOf(api.runs.run(w.id, options))).toBe('NOT_FOUND');
    if (typeof expected === 'string') {
      expect(await codeOf(start())).toBe(expected);
      exercised.refused++;
      return;
    }
    exercised.runs++;
    if (this.hold) exercised.held++;
    let run = await start();
    expect(run).toMatchObject({
      app_id: APPS[this.app],
      workflow_app_id: APPS[w.app],
      workflow_id: w.id,
      version: expected.version,
    });
    if (!this.hold) {
      run = await api.runs.wait(run.id);
      expect(run.status).toBe('COMPLETED');
      expect(run.result).toBe(expected.value);
    } else {
      expect(run.status).toBe('RUNNING');
    }
    m.runs.push({
      id: run.id,
      app: this.app,
      workflow: w,
      value: expected.value,
      version: expected.version,
      hold: this.hold,
      status: this.hold ? 'RUNNING' : 'COMPLETED',
      maxAge: maxAgeOf(this.retention),
      endedAt: this.hold ? null : m.now,
      purged: false,
    });
  }
  toString = () =>
    `run(app ${this.app}, w ${this.w}, ${this.ref}, hold ${this.hold}, retention ${JSON.stringify(this.retention)})`;
}

class Finish implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.runs.some((x) => x.status === 'RUNNING');
  async run(m: Model, r: Real) {
    const running = m.runs.filter((x) => x.status === 'RUNNING');
    const run = running[this.i % running.length]!;
    r.gates.release(run.id);
    const ended = await r.apps[run.app]!.runs.wait(run.id);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.result).toBe(run.value);
    run.status = 'COMPLETED';
    run.endedAt = m.now;
  }
  toString = () => `finish(${this.i})`;
}

class Cancel implements Cmd {
  constructor(
    readonly app: number,
    readonly i: number,
  ) {}
  check = (m: Readonly<Model>) => m.runs.length > 0;
  async run(m: Model, r: Real) {
    const run = m.runs[this.i % m.runs.length]!;
    const api = r.apps[this.app]!;
    if (run.app !== this.app) {
      expect(await codeOf(api.runs.cancel(run.id))).toBe('NOT_FOUND');
      expect(await codeOf(api.discover.cancel(run.workflow.id, run.id))).toBe('NOT_FOUND');
      return;
    }
    const cancel =
      run.workflow.app === this.app ? api.runs.cancel(run.id) : api.discover.cancel(run.workflow.id, run.id);
    if (run.status !== 'RUNNING') {
      expect(await codeOf(cancel)).toBe('NOT_CANCELLABLE');
      return;
    }
    const cancelled = await cancel;
    expect(cancelled.status).toBe('CANCELLED');
    exercised.cancelled++;
    run.status = 'CANCELLED';
    run.endedAt = m.now;
  }
  toString = () => `cancel(app ${this.app}, run ${this.i})`;
}

class Replay implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.runs.length > 0;
  async run(m: Model, r: Real) {
    const run = m.runs[this.i % m.runs.length]!;
    const api = r.apps[run.app]!;
    if (run.purged) {
      expect(await codeOf(api.runs.replay(run.id))).toBe('CONFLICT');
      return;
    }
    let replay = await api.runs.replay(run.id, { background: true });
    exercised.replays++;
    expect(replay).toMatchObject({ replay_of: run.id, version: run.version, app_id: APPS[run.app] });
    if (!run.hold) {
      replay = await api.runs.wait(replay.id);
      expect(replay.result).toBe(run.value);
    }
    m.runs.push({
      ...run,
      id: replay.id,
      status: run.hold ? 'RUNNING' : 'COMPLETED',
      endedAt: run.hold ? null : m.now,
      purged: false,
    });
  }
  toString = () => `replay(${this.i})`;
}

class UpdateRetention implements Cmd {
  constructor(
    readonly i: number,
    readonly retention: Exclude<Retention, null>,
  ) {}
  check = (m: Readonly<Model>) => m.runs.length > 0;
  async run(m: Model, r: Real) {
    const run = m.runs[this.i % m.runs.length]!;
    const updated = await r.apps[run.app]!.runs.updateRetention(run.id, this.retention);
    run.maxAge = maxAgeOf(this.retention);
    const expectedDue =
      run.endedAt === null || run.maxAge === -1
        ? null
        : new Date(run.endedAt + run.maxAge! * 1000).toISOString();
    expect(updated.retention_due_at).toBe(expectedDue);
    expect(await codeOf(r.apps[1 - run.app]!.runs.updateRetention(run.id, this.retention))).toBe('NOT_FOUND');
  }
  toString = () => `updateRetention(${this.i}, ${JSON.stringify(this.retention)})`;
}

class Sweep implements Cmd {
  constructor(readonly seconds: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += this.seconds * 1000;
    r.clock.set(m.now);
    const { purged } = await r.weft.sweep();
    const expected = m.runs.filter((x) => due(x, m.now));
    expect([...purged].sort()).toEqual(expected.map((x) => x.id).sort());
    for (const x of expected) x.purged = true;
    exercised.purged += expected.length;
  }
  toString = () => `sweep(+${this.seconds}s)`;
}

class Discover implements Cmd {
  constructor(readonly app: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await r.apps[this.app]!.discover.list({ limit: 2, cursor });
      for (const w of page.data) expect(w).not.toHaveProperty('draft');
      seen.push(...page.data.map((w) => w.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    const expected = m.workflows.filter((w) => w.discoverable && w.app !== this.app).map((w) => w.id);
    expect(seen.sort()).toEqual(expected.sort());
  }
  toString = () => `discover(app ${this.app})`;
}

class Read implements Cmd {
  constructor(readonly app: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const api = r.apps[this.app]!;
    // Every run of this app, as listed, matches the model; other apps' runs never appear.
    const listed: RunRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.runs.list({ limit: 3, cursor });
      listed.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor !== null);
    const mine = m.runs.filter((x) => x.app === this.app);
    expect(listed.map((x) => x.id).sort()).toEqual(mine.map((x) => x.id).sort());
    for (const run of listed) {
      const x = mine.find((y) => y.id === run.id)!;
      expect(run.status).toBe(x.status);
      expect(run.version).toBe(x.version);
      expect(run.purged_at !== null).toBe(x.purged);
      const pinned = run.workflow_version ?? run.workflow_version_draft;
      expect(resultOf(pinned!)).toBe(x.value);
      if (x.purged) expect(run.input).toEqual({});
      else expect(run.input).toEqual({ hold: x.hold });
      // A cancelled run's result is its last completed code step's output, if that step got to complete.
      if (x.purged) expect(run.result).toBeNull();
      else if (x.status === 'COMPLETED') expect(run.result).toBe(x.value);
      else expect([null, x.value]).toContain(run.result);
    }
    for (const x of m.runs.filter((y) => y.app !== this.app))
      expect(await codeOf(api.runs.get(x.id))).toBe('NOT_FOUND');
    // Versions: consecutive from 1, each still the document it was published with.
    for (const w of m.workflows.filter((y) => y.app === this.app)) {
      const versions = (await api.versions.list(w.id, { limit: 100 })).data;
      expect(versions.map((v) => v.version)).toEqual(w.versions.map((_, i) => w.versions.length - i));
      for (const v of versions) expect(resultOf(v)).toBe(w.versions[v.version - 1]);
    }
  }
  toString = () => `read(app ${this.app})`;
}

const app = fc.integer({ min: 0, max: 1 });
const index = fc.nat({ max: 20 });
const retention: fc.Arbitrary<Retention> = fc.constantFrom(null, 0, 10, 60, -1, {
  max_age_in_seconds: 30,
  preserve_on_failure: true,
});

const create = fc.tuple(app, fc.boolean()).map(([a, d]) => new CreateWorkflow(a, d));
const publish = fc.tuple(index, fc.boolean()).map(([w, t]) => new Publish(w, t));
const runCmd = fc
  .tuple(
    app,
    index,
    fc.constantFrom<'latest' | 'draft' | number>('latest', 'draft', 1, 2, 3),
    fc.boolean(),
    retention,
  )
  .map(([a, w, ref, hold, r]) => new Run(a, w, ref, hold, r));

/** Creating, publishing and running are listed more than once: they are what the other commands act on. */
const commands = [
  create,
  create,
  publish,
  publish,
  runCmd,
  runCmd,
  runCmd,
  fc.tuple(index, fc.boolean()).map(([w, o]) => new EditDraft(w, o)),
  fc.tuple(index, index).map(([w, n]) => new Rollback(w, n)),
  index.map((i) => new Finish(i)),
  fc.tuple(app, index).map(([a, i]) => new Cancel(a, i)),
  index.map((i) => new Replay(i)),
  fc
    .tuple(
      index,
      fc.constantFrom<Exclude<Retention, null>>(0, 20, -1, {
        max_age_in_seconds: 5,
        preserve_on_failure: false,
      }),
    )
    .map(([i, r]) => new UpdateRetention(i, r)),
  fc.constantFrom(0, 5, 10, 30, 61).map((s) => new Sweep(s)),
  app.map((a) => new Discover(a)),
  app.map((a) => new Read(a)),
];

describe('registry model', () => {
  it('random operation sequences agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const start = Date.UTC(2024, 0, 1);
        const clock = manualClock(start);
        const gates = createGates();
        const weft = createWeft({ clock, steps: gates.steps });
        const setup = () => ({
          model: { workflows: [], runs: [], nextValue: 1, now: start } as Model,
          real: { weft, apps: APPS.map((id) => weft.app(id)), gates, clock } as Real,
        });
        await fc.asyncModelRun(setup, cmds);
        // Release whatever is still held so that nothing outlives the property.
        for (const run of weft.engine.active.keys()) gates.release(run);
        await weft.close();
      }),
      { numRuns: fcRuns(300) },
    );
    for (const [what, count] of Object.entries(exercised)) expect(count, what).toBeGreaterThan(0);
  }, 60_000);
});
