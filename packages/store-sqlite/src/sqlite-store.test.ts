/** What is particular to the SQLite store: the file, its settings, migrations, and several processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWeft, isWeftError, type WorkflowVersionDraft } from '@weft/core';
import type { JournalEntry, RunRow } from '@weft/core/store';

/** An entry as a store sees it: opaque beyond its bookkeeping fields. */
const raw = (e: Record<string, unknown>) => e as unknown as JournalEntry;

import { at, codeOf, runFixture, stepFixture, workflowFixture } from '@weft/testing/store-contract';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { APPLICATION_ID, MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import { SqliteStore, sqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (name = 'db') => join(dir, `${name}-${++n}.db`);

const live = (id: string): RunRow =>
  runFixture(id, 'a', 1, { status: 'RUNNING', ended_at: null, result: null });

async function errorOf(
  work: () => unknown,
): Promise<{ code: string; message: string; details: unknown; retryable: boolean }> {
  try {
    await work();
  } catch (error) {
    if (isWeftError(error)) {
      return { code: error.code, message: error.message, details: error.details, retryable: error.retryable };
    }
    throw error;
  }
  throw new Error('expected an error');
}

describe('opening', () => {
  it('creates the file and its folder, in WAL mode with synchronous=NORMAL by default, FULL on request', () => {
    const path = join(dir, 'nested', 'deeper', 'weft.db');
    const store = sqliteStore({ path });
    expect(store.path).toBe(path);
    expect(store.synchronous).toBe('NORMAL');
    store.close();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    db.close();
    const full = sqliteStore({ path, synchronous: 'FULL' });
    expect(full.synchronous).toBe('FULL');
    full.close();
  });

  it('refuses bad options with INVALID_ARGUMENT naming the option', async () => {
    for (const [options, parameter] of [
      [null, 'options'],
      [{}, 'path'],
      [{ path: '' }, 'path'],
      [{ path: file(), synchronous: 'OFF' }, 'synchronous'],
      [{ path: file(), busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    ] as const) {
      const error = await errorOf(() => new SqliteStore(options as never));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({ parameter });
    }
  });

  it('keeps everything across a close and a reopen', async () => {
    const path = file();
    const first = sqliteStore({ path });
    await first.insertWorkflow(workflowFixture('w', 'a', 1));
    await first.insertRun(live('r'), { owner_id: 'p1', lease_until: at(100) });
    await first.appendJournal('r', {
      owner_id: 'p1',
      now: at(2),
      entries: [raw({ seq: 1, type: 'run.started', at: at(2) })],
      steps: { s: stepFixture('s') },
    });
    first.close();
    const second = sqliteStore({ path });
    expect((await second.getWorkflow('w'))!.id).toBe('w');
    expect(await second.getLease('r')).toMatchObject({
      owner_id: 'p1',
      lease_until: at(100),
      journal_seq: 1,
    });
    expect((await second.getStepResults(['r'])).get('r')).toEqual({ s: stepFixture('s') });
    expect(await second.loadJournal('r')).toEqual([{ run_id: 'r', seq: 1, type: 'run.started', at: at(2) }]);
    second.close();
  });

  it('fails every call on a closed store with STORE_ERROR', async () => {
    const store = sqliteStore({ path: ':memory:' });
    store.close();
    store.close();
    const error = await errorOf(() => store.getRun('r'));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(/closed \(getRun\)/);
  });

  it('refuses a file that is not a database, and another application’s database, touching nothing', async () => {
    const junk = file('junk');
    writeFileSync(junk, 'hello, this is not SQLite at all '.repeat(100));
    const error = await errorOf(() => sqliteStore({ path: junk }));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.details).toMatchObject({ cause: 'SQLITE_NOTADB' });
    expect(error.message).toMatch(/not a \(healthy\) SQLite database/);

    const foreign = file('foreign');
    const db = new Database(foreign);
    db.exec('CREATE TABLE customers (id INTEGER)');
    db.close();
    const refused = await errorOf(() => sqliteStore({ path: foreign }));
    expect(refused.code).toBe('STORE_ERROR');
    expect(refused.message).toMatch(/another application .*table "customers"/);
    const check = new Database(foreign);
    expect(schemaVersion(check)).toBe(0);
    check.close();
  });
});

describe('migrations', () => {
  it('record every version applied in schema_version; reopening applies nothing', () => {
    const path = file();
    sqliteStore({ path, now: () => Date.UTC(2024, 0, 1) }).close();
    const db = new Database(path);
    expect(db.prepare('SELECT version, name, applied_at FROM schema_version').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: '2024-01-01T00:00:00.000Z' })),
    );
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(migrate(db, path, at(0))).toEqual([]);
    db.close();
  });

  it('apply a newer migration on open, in order, once', () => {
    const path = file();
    sqliteStore({ path }).close();
    const db = new Database(path);
    const next = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, name: 'a column', sql: 'ALTER TABLE runs ADD COLUMN extra TEXT' },
    ];
    expect(migrate(db, path, at(0), next)).toEqual([SCHEMA_VERSION + 1]);
    expect(migrate(db, path, at(0), next)).toEqual([]);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    db.close();
  });

  it('migrate a version-2 database (before the expectation library) forward, keeping its rows', async () => {
    const path = file();
    const db = new Database(path);
    expect(migrate(db, path, at(0), MIGRATIONS.slice(0, 2))).toEqual([1, 2]);
    // A workflow written by a version-2 Weft: still there after the library's table is added.
    db.prepare(
      'INSERT INTO workflows (id, app_id, created_at, archived, discover, body) VALUES (?, ?, ?, 0, 0, ?)',
    ).run('w', 'a', at(1), JSON.stringify(workflowFixture('w', 'a', 1)));
    db.close();
    const store = sqliteStore({ path });
    const check = new Database(path);
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION);
    check.close();
    expect((await store.getWorkflow('w'))?.id).toBe('w');
    await store.insertExpectation({
      id: 'e',
      app_id: 'a',
      workflow_id: 'w',
      name: 'Total',
      script: 'result = 1',
      created_at: at(1),
      updated_at: at(1),
    });
    expect((await store.listExpectations({ workflow_id: 'w', search: 'tot' })).data.map((e) => e.id)).toEqual(
      ['e'],
    );
    store.close();
  });

  it('migrate a version-3 database (a row per journal entry and per step record) to appends, keeping every entry and record', async () => {
    const path = file();
    const db = new Database(path);
    expect(migrate(db, path, at(0), MIGRATIONS.slice(0, 3))).toEqual([1, 2, 3]);
    // A run written by a version-3 Weft: live, owned, three entries (one with data that is not JSON).
    const row = live('r');
    db.prepare(
      "INSERT INTO runs (id, status, origin, created_at, updated_at, owner_id, lease_until) VALUES (?, 'RUNNING', 'WORKFLOW', ?, ?, 'p1', ?)",
    ).run(row.id, at(1), at(1), at(100));
    const insert = db.prepare('INSERT INTO journal (run_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)');
    insert.run(
      'r',
      1,
      'run.started',
      at(1),
      JSON.stringify({ input: { n: 0.1, big: 9007199254740991, tiny: 1e-7, s: 'é"\\' } }),
    );
    insert.run('r', 2, 'step.started', at(2), JSON.stringify({ key: 'a', index: null, attempt: 1 }));
    insert.run('r', 3, 'step.settled', at(3), JSON.stringify({ key: 'a', output: [1, { x: null }] }));
    insert.run('bad', 1, 'run.started', at(1), 'not json {');
    // Step records, saved in the order b, a (their positions): the order they come back in.
    const step = db.prepare('INSERT INTO steps (run_id, key, pos, body) VALUES (?, ?, ?, ?)');
    step.run('r', 'b', 0, JSON.stringify(stepFixture('b')));
    step.run('r', 'a', 1, JSON.stringify(stepFixture('a')));
    step.run('bad', 'x', 0, 'not json {');
    db.close();

    const store = sqliteStore({ path });
    const check = new Database(path);
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION);
    expect(
      check.prepare("SELECT name FROM sqlite_master WHERE name IN ('journal', 'steps')").get(),
    ).toBeUndefined();
    check.close();
    expect(await store.loadJournal('r')).toEqual([
      {
        run_id: 'r',
        seq: 1,
        type: 'run.started',
        at: at(1),
        input: { n: 0.1, big: 9007199254740991, tiny: 1e-7, s: 'é"\\' },
      },
      { run_id: 'r', seq: 2, type: 'step.started', at: at(2), key: 'a', index: null, attempt: 1 },
      { run_id: 'r', seq: 3, type: 'step.settled', at: at(3), key: 'a', output: [1, { x: null }] },
    ]);
    expect(await store.loadJournal('r', { after_seq: 1, limit: 1 })).toMatchObject([{ seq: 2 }]);
    // The lease reads the journal's end from the packs: the next append continues at seq 4.
    expect(await store.getLease('r')).toMatchObject({ owner_id: 'p1', journal_seq: 3 });
    await store.appendJournal('r', {
      owner_id: 'p1',
      now: at(4),
      entries: [raw({ seq: 4, type: 'step.started', at: at(4) }), raw({ seq: 5, type: 'x', at: at(4) })],
    });
    expect((await store.loadJournal('r', { after_seq: 2 })).map((e) => e.seq)).toEqual([3, 4, 5]);
    const steps = (await store.getStepResults(['r'])).get('r')!;
    expect(steps).toEqual({ b: stepFixture('b'), a: stepFixture('a') });
    expect(Object.keys(steps)).toEqual(['b', 'a']);
    // An upsert keeps the key's place and takes the new value; a new key goes last.
    await store.appendJournal('r', {
      owner_id: 'p1',
      now: at(5),
      entries: [],
      steps: { a: stepFixture('a2'), c: stepFixture('c') },
    });
    await store.saveStepResult('r', 'b', stepFixture('b2'));
    const after = (await store.getStepResults(['r'])).get('r')!;
    expect(Object.keys(after)).toEqual(['b', 'a', 'c']);
    expect(after).toEqual({ b: stepFixture('b2'), a: stepFixture('a2'), c: stepFixture('c') });
    expect((await errorOf(() => store.getStepResults(['bad']))).code).toBe('STORE_ERROR');
    // The entry that was not JSON fails its own run's reads (STORE_ERROR), nothing else.
    const error = await errorOf(() => store.loadJournal('bad'));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(/journal pack from seq 1 .*not a JSON array/);
    store.close();
  });

  it('reads a journal across packs with after and limit, entry by entry', async () => {
    const store = sqliteStore({ path: ':memory:' });
    await store.insertRun(live('r'), { owner_id: 'p1', lease_until: at(100) });
    let seq = 0;
    // Packs of 1, 3, 2 and 4 entries.
    for (const size of [1, 3, 2, 4]) {
      const entries = Array.from({ length: size }, () => raw({ seq: ++seq, type: 't', at: at(seq) }));
      await store.appendJournal('r', { owner_id: 'p1', now: at(1), entries });
    }
    expect(await store.getLease('r')).toMatchObject({ journal_seq: 10 });
    for (let after = 0; after <= 10; after++) {
      for (const limit of [1, 2, 3, 5, 100]) {
        const seqs = (await store.loadJournal('r', { after_seq: after, limit })).map((e) => e.seq);
        const expected = Array.from({ length: Math.min(limit, 10 - after) }, (_, i) => after + 1 + i);
        expect(seqs).toEqual(expected);
      }
    }
    store.close();
  });

  it('migrate a version-4 database (before worker presence) with live and ended runs: they finish and read back', async () => {
    const path = file();
    // Runs as a version-4 Weft leaves them (the run path did not change with migration 5): one ended,
    // one RUNNING that its process handed over (suspended: unowned, journaled up to its first step), one
    // PENDING that a client enqueued for the workers. Then the file is taken back to version 4.
    const old = sqliteStore({ path });
    let calls = 0;
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const first = createWeft({
      store: old,
      steps: {
        slow: () => {
          if (++calls === 2) started(); // the second run's
          return new Promise<string>((resolve) => setTimeout(() => resolve('slow done'), 20));
        },
      },
    });
    const draft = {
      steps: [
        { type: 'slow', key: 'slow', destinations: ['after'] },
        { type: 'code', key: 'after', code: '"after " & slow.output' },
      ],
    } as unknown as WorkflowVersionDraft;
    const workflow = await first.app('a').workflows.create({ name: 'm', draft });
    const ended = await first.app('a').runs.run(workflow.id, { version: 'draft' });
    expect(ended).toMatchObject({ status: 'COMPLETED', result: 'after slow done' });
    const live = await first.app('a').runs.run(workflow.id, { version: 'draft', background: true });
    await running;
    expect(await first.suspend({ graceMs: 5_000 })).toMatchObject({ suspended: [live.id] });
    const client = createWeft({ store: old, worker: false });
    const pending = await client.app('a').runs.run(workflow.id, { version: 'draft', background: true });
    await client.close();
    const endedJournal = await old.loadJournal(ended.id);
    const liveJournal = await old.loadJournal(live.id);
    old.close();
    const db = new Database(path);
    db.exec('DROP TABLE workers; DELETE FROM schema_version WHERE version > 4;');
    expect(schemaVersion(db)).toBe(4);
    db.close();

    const store = sqliteStore({ path });
    const check = new Database(path);
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION);
    check.close();
    expect(await store.getLease(live.id)).toMatchObject({ status: 'RUNNING', owner_id: null });
    expect(await store.getLease(pending.id)).toMatchObject({ status: 'PENDING', owner_id: null });
    expect(await store.loadJournal(live.id)).toEqual(liveJournal);
    const worker = createWeft({
      store,
      worker: { concurrency: 2, pollMs: 20 },
      steps: { slow: () => 'again' },
    });
    expect(await store.countWorkers(new Date().toISOString())).toBe(1);
    const app = worker.app('a');
    // The suspended run resumes from its journal (slow is not executed again); the enqueued one runs.
    expect(await app.runs.wait(live.id)).toMatchObject({ status: 'COMPLETED', result: 'after slow done' });
    expect(await app.runs.wait(pending.id)).toMatchObject({ status: 'COMPLETED', result: 'after again' });
    expect(await app.runs.get(ended.id)).toMatchObject({ status: 'COMPLETED', result: 'after slow done' });
    expect(await store.loadJournal(ended.id)).toEqual(endedJournal);
    await worker.close();
    expect(await store.countWorkers(new Date().toISOString())).toBe(0);
    store.close();
  });

  it('refuse a database written by a newer Weft with STORE_SCHEMA_TOO_NEW, and change nothing', async () => {
    const path = file();
    sqliteStore({ path }).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_version VALUES (?, 'from the future', '2099-01-01')").run(
      SCHEMA_VERSION + 5,
    );
    db.close();
    const error = await errorOf(() => sqliteStore({ path }));
    expect(error.code).toBe('STORE_SCHEMA_TOO_NEW');
    expect(error.details).toMatchObject({ schema_version: SCHEMA_VERSION + 5, supported: SCHEMA_VERSION });
    expect(error.message).toMatch(/newer Weft .*Upgrade Weft/);
    const after = new Database(path);
    expect(schemaVersion(after)).toBe(SCHEMA_VERSION + 5);
    after.close();
  });

  it('a failing migration rolls back whole', () => {
    const path = file();
    const db = new Database(path);
    const broken = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE x (; nonsense' },
    ];
    expect(() => migrate(db, path, at(0), broken)).toThrow();
    expect(schemaVersion(db)).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({
      n: 0,
    });
    db.close();
  });
});

describe('SQL specifics', () => {
  it('refuses a patch of an unknown run field with INVALID_ARGUMENT and writes nothing', async () => {
    const store = sqliteStore({ path: ':memory:' });
    await store.insertRun(live('r'));
    const error = await errorOf(() => store.updateRun('r', { status: 'FAILED', bogus: 1 } as never));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'patch.bogus' } });
    expect((await store.getRun('r'))!.status).toBe('RUNNING');
    store.close();
  });

  it('refuses an append whose run patch names an unknown field before writing any of it', async () => {
    const store = sqliteStore({ path: ':memory:' });
    await store.insertRun(live('r'), { owner_id: 'p1', lease_until: at(100) });
    const [bad, good] = await store.appendJournals([
      {
        run_id: 'r',
        batch: {
          owner_id: 'p1',
          now: at(1),
          entries: [raw({ seq: 1, type: 'x', at: at(1) })],
          run: { nope: 1 } as never,
        },
      },
      {
        run_id: 'r',
        batch: { owner_id: 'p1', now: at(1), entries: [raw({ seq: 1, type: 'y', at: at(1) })] },
      },
    ]);
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', details: { parameter: 'batch.run.nope' } },
    });
    expect(good!.ok).toBe(true);
    expect((await store.loadJournal('r')).map((e) => e.type)).toEqual(['y']);
    store.close();
  });

  it('refuses a cursor of another list shape with INVALID_ARGUMENT', async () => {
    const store = sqliteStore({ path: ':memory:' });
    const cursor = Buffer.from('not-a-position|x').toString('base64url');
    expect(await codeOf(store.listRuns({ app_id: 'a', cursor }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(store.listVersions({ workflow_id: 'w', cursor }))).toBe('INVALID_ARGUMENT');
    store.close();
  });

  it('uses its indexes for lists, due runs and recovery (no table scans)', () => {
    const path = file();
    sqliteStore({ path }).close();
    const db = new Database(path);
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join('; ');
    expect(
      plan(
        "SELECT * FROM runs WHERE app_id = 'a' AND (created_at, seq) < ('x', 1) ORDER BY created_at DESC, seq DESC LIMIT 5",
      ),
    ).toMatch(/USING INDEX runs_by_app/);
    expect(
      plan(
        "SELECT * FROM runs WHERE app_id = 'a' AND workflow_id = 'w' ORDER BY created_at DESC, seq DESC LIMIT 5",
      ),
    ).toMatch(/USING INDEX runs_by_workflow/);
    expect(
      plan(
        "SELECT * FROM runs WHERE retention_due_at IS NOT NULL AND purged_at IS NULL AND NOT (status = 'FAILED' AND preserve = 1) AND retention_due_at <= 'x' ORDER BY retention_due_at, id LIMIT 5",
      ),
    ).toMatch(/USING INDEX runs_due/);
    expect(
      plan(
        "SELECT * FROM runs WHERE status IN ('PENDING', 'RUNNING') AND (owner_id IS NULL OR lease_until IS NULL OR lease_until < 'x') ORDER BY lease_until, id LIMIT 5",
      ),
    ).toMatch(/USING INDEX runs_live/);
    expect(
      plan('SELECT * FROM workflows WHERE discover = 1 ORDER BY created_at DESC, seq DESC LIMIT 5'),
    ).toMatch(/USING INDEX workflows_discover/);
    expect(plan("SELECT * FROM appends WHERE run_id = 'r' AND last_seq > 3 ORDER BY last_seq")).toMatch(
      /USING INDEX appends_by_run/,
    );
    // The lease's journal_seq: one index seek (not a scan of the run's appends).
    expect(plan("SELECT max(last_seq) FROM appends WHERE run_id = 'r'")).toMatch(
      /USING COVERING INDEX appends_by_run/,
    );
    expect(plan("SELECT steps FROM appends WHERE run_id = 'r' AND steps IS NOT NULL ORDER BY id")).toMatch(
      /USING INDEX appends_by_run/,
    );
    db.close();
  });

  it('a write that waits longer than busyTimeoutMs for another connection’s lock fails STORE_ERROR, retryable', async () => {
    const path = file();
    const store = sqliteStore({ path, busyTimeoutMs: 50 });
    await store.insertRun(live('r'));
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const error = await errorOf(() =>
      store.claimRun('r', { owner_id: 'p1', lease_until: at(10), now: at(0) }),
    );
    other.exec('ROLLBACK');
    other.close();
    expect(error).toMatchObject({ code: 'STORE_ERROR', retryable: true, details: { cause: 'SQLITE_BUSY' } });
    expect(error.message).toMatch(/busyTimeoutMs/);
    expect((await store.claimRun('r', { owner_id: 'p1', lease_until: at(10), now: at(0) })).claimed).toBe(
      true,
    );
    store.close();
  });
});

// ── several processes on one file ──────────────────────────────────────────────────────────────────

const worker = fileURLToPath(new URL('./test-support/worker.mjs', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

function spawnWorker(args: string[]): {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [worker, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) lines.push(`stderr: ${stderr}`);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('several processes on one file', () => {
  it('a frozen workflow read is fresh after another connection changed the workflow', async () => {
    const path = file();
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    await a.insertWorkflow(workflowFixture('w', 'a', 0, { name: 'first' }));
    const first = (await a.getFrozenWorkflow('w'))!;
    expect(await a.getFrozenWorkflow('w')).toBe(first);
    await b.updateWorkflow('w', { name: 'second', updated_at: at(1) });
    const second = (await a.getFrozenWorkflow('w'))!;
    expect(second.name).toBe('second');
    expect(Object.isFrozen(second)).toBe(true);
    expect(first.name).toBe('first');
    a.close();
    b.close();
  });

  it("the variables read is fresh after this or another connection changed them, and is the caller's own", async () => {
    const path = file();
    const a = new SqliteStore({ path });
    const b = new SqliteStore({ path });
    const variable = (key: string, value: unknown) => ({
      key,
      value,
      secret: false,
      created_at: at(0),
      updated_at: at(0),
    });
    expect(await a.listVariables('app')).toEqual([]);
    await a.setVariable('app', variable('k', { n: 1 }));
    const first = await a.listVariables('app');
    expect(first).toEqual([variable('k', { n: 1 })]);
    (first[0]!.value as { n: number }).n = 99;
    first.push(variable('mine', 0));
    expect(await a.listVariables('app')).toEqual([variable('k', { n: 1 })]);
    await b.setVariable('app', variable('j', 'other'));
    expect((await a.listVariables('app')).map((v) => v.key)).toEqual(['j', 'k']);
    await b.deleteVariable('app', 'k');
    expect((await a.listVariables('app')).map((v) => v.key)).toEqual(['j']);
    await a.deleteVariable('app', 'j');
    expect(await a.listVariables('app')).toEqual([]);
    expect(await a.listVariables('other-app')).toEqual([]);
    a.close();
    b.close();
  });

  it('claims are compare-and-set across processes: every run is claimed by exactly one of three', async () => {
    const path = file('race');
    const runs = 60;
    const store = sqliteStore({ path });
    for (let i = 0; i < runs; i++) await store.insertRun(live(`r${i}`));
    const go = join(dir, `go-${n}`);
    const workers = ['p1', 'p2', 'p3'].map((owner) => spawnWorker([path, owner, 'claim', String(runs), go]));
    await until(() => workers.every((w) => w.lines.includes('ready')), 'the workers to start');
    writeFileSync(go, '');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, workers.map((w) => w.lines.join('\n')).join('\n')).toEqual([0, 0, 0]);
    const reports = workers.map((w) => JSON.parse(w.lines.at(-1)!) as { owner: string; claimed: string[] });
    const claimed = reports.flatMap((r) => r.claimed);
    expect(claimed.sort()).toEqual(Array.from({ length: runs }, (_, i) => `r${i}`).sort());
    for (const report of reports) {
      for (const id of report.claimed) {
        expect(await store.getLease(id)).toMatchObject({ owner_id: report.owner, journal_seq: 1 });
        expect(await store.loadJournal(id)).toMatchObject([{ seq: 1, type: 'claimed', owner: report.owner }]);
      }
    }
    store.close();
  });

  it('a process killed (SIGKILL) mid-append leaves whole batches only: no gap, no torn projection', async () => {
    const path = file('kill');
    const store = sqliteStore({ path });
    await store.insertRun(live('r'), { owner_id: 'p1', lease_until: '2999-01-01T00:00:00.000Z' });
    store.close();
    for (let round = 0; round < 2; round++) {
      const w = spawnWorker([path, 'p1', 'append', 'r']);
      await until(() => w.lines.length >= 20 + round * 5, 'appends');
      w.child.kill('SIGKILL');
      await w.exited;
      const reopened = sqliteStore({ path });
      const lease = (await reopened.getLease('r'))!;
      const journal = await reopened.loadJournal('r');
      // Every committed seq the child printed is in the journal; batches are whole (multiples of 3).
      const printed = Number(w.lines.filter((l) => /^\d+$/.test(l)).at(-1));
      expect(lease.journal_seq).toBeGreaterThanOrEqual(printed);
      expect(lease.journal_seq % 3).toBe(0);
      expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: lease.journal_seq }, (_, i) => i + 1));
      // The projections moved with the entries: one step record and the usage per batch.
      const batches = lease.journal_seq / 3;
      expect(Object.keys((await reopened.getStepResults(['r'])).get('r')!)).toHaveLength(batches);
      expect((journal.at(-1) as unknown as { batch: number }).batch).toBe(batches - 1);
      expect((await reopened.getRun('r'))!.usage.total).toBe(batches);
      reopened.close();
    }
  });
});
