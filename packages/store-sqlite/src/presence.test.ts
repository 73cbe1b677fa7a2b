/**
 * Worker presence on SQLite (migration 5, "workers"): the shared presence contract between two
 * connections to one file, what it costs the file, and end to end — a client-only Weft on a file that no
 * worker serves fails its wait NO_WORKER instead of waiting forever, a worker started later on the same
 * file runs the run, and a worker killed outright counts until its last announcement runs out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWeft, type Weft, type WeftOptions, type WorkflowVersionDraft } from '@weft/core';
import { describePresenceContract } from '@weft/testing/worker-contract';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-sqlite-presence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `presence-${++n}.db`);

describePresenceContract('SqliteStore (another connection to the file reads)', {
  create: () => new SqliteStore({ path: file() }),
  peer: (store) => new SqliteStore({ path: store.path }),
  destroy: (store) => store.close(),
});

describePresenceContract('SqliteStore (:memory:)', {
  create: () => new SqliteStore({ path: ':memory:' }),
  destroy: (store) => store.close(),
});

const iso = (ms: number) => new Date(ms).toISOString();

/** The rows of the file's workers table, read by a connection of its own. */
function workerRows(path: string): Array<{ owner_id: string; until: string }> {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT owner_id, until FROM workers ORDER BY owner_id').all() as Array<{
      owner_id: string;
      until: string;
    }>;
  } finally {
    db.close();
  }
}

describe('worker presence in the file', () => {
  it('an announcement is one row per worker, moved by the next; countWorkers deletes the rows run out', async () => {
    const path = file();
    const store = new SqliteStore({ path });
    const t = Date.UTC(2030, 0, 1);
    await store.announceWorker('w1', iso(t + 1_000));
    await store.announceWorker('w1', iso(t + 2_000));
    await store.announceWorker('w2', iso(t + 500));
    expect(workerRows(path)).toEqual([
      { owner_id: 'w1', until: iso(t + 2_000) },
      { owner_id: 'w2', until: iso(t + 500) },
    ]);
    expect(await store.countWorkers(iso(t + 1_000))).toBe(1);
    expect(workerRows(path)).toEqual([{ owner_id: 'w1', until: iso(t + 2_000) }]);
    await store.withdrawWorker('w1');
    expect(workerRows(path)).toEqual([]);
    store.close();
  });

  it('countWorkers reads without waiting for another process’s write lock when nothing ran out', async () => {
    const path = file();
    const store = new SqliteStore({ path, busyTimeoutMs: 0 });
    const t = Date.UTC(2030, 0, 1);
    await store.announceWorker('w1', iso(t + 1_000));
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE'); // another process holds the write lock (a long append, a claim)
    try {
      expect(await store.countWorkers(iso(t))).toBe(1);
      // A row that ran out must go: that needs the lock, and waits for it like every write (here 0 ms).
      await expect(store.countWorkers(iso(t + 5_000))).rejects.toMatchObject({
        code: 'STORE_ERROR',
        retryable: true,
      });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await store.countWorkers(iso(t + 5_000))).toBe(0);
    store.close();
  });
});

const draft = {
  key: 'presence',
  steps: [{ type: 'work', key: 'a', destinations: [] }],
} as unknown as WorkflowVersionDraft;

const refuse = {
  work: () => {
    throw new Error('a client-only Weft executed a step');
  },
};

describe('a client-only Weft on a SQLite file (end to end)', () => {
  const stores: SqliteStore[] = [];
  const wefts: Weft[] = [];
  afterEach(async () => {
    for (const weft of wefts.splice(0)) await weft.close();
    for (const store of stores.splice(0).reverse()) store.close();
  });
  /** A Weft on its own connection to `path`, as another process would have. */
  function weftOn(path: string, options: Omit<WeftOptions, 'store'>): { weft: Weft; store: SqliteStore } {
    const store = new SqliteStore({ path });
    stores.push(store);
    const weft = createWeft({ store, onStoreError: () => undefined, ...options });
    wefts.push(weft);
    return { weft, store };
  }
  it('with no worker on the file the wait fails NO_WORKER, nothing lost; a worker started later runs it', async () => {
    const path = file();
    const { weft: client, store } = weftOn(path, { worker: false, noWorkerMs: 50, steps: refuse });
    const { app, workflow } = await published(client);
    const error = await app.runs.run(workflow.id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_WORKER', retryable: true });
    const { run_id: runId, waited_ms: waited } = (error as { details: { run_id: string; waited_ms: number } })
      .details;
    expect(waited).toBeGreaterThanOrEqual(50);
    expect(await app.runs.get(runId)).toMatchObject({ status: 'PENDING' });
    expect(await store.getLease(runId)).toMatchObject({ status: 'PENDING', owner_id: null });
    await expect(app.runs.wait(runId)).rejects.toMatchObject({ code: 'NO_WORKER' });
    // The client announced nothing: it is not a worker.
    expect(workerRows(path)).toEqual([]);

    const { weft: worker } = weftOn(path, {
      worker: { concurrency: 1, pollMs: 20 },
      steps: { work: () => 'done' },
    });
    expect(workerRows(path).map((row) => row.owner_id)).toEqual([worker.ownerId]);
    expect(await app.runs.wait(runId)).toMatchObject({ status: 'COMPLETED', result: 'done' });
    // A foreground run of the client now settles too.
    expect(await app.runs.run(workflow.id)).toMatchObject({ status: 'COMPLETED', result: 'done' });
    // Closing the worker withdraws it: the next wait fails NO_WORKER again.
    await worker.close();
    expect(workerRows(path)).toEqual([]);
    await expect(app.runs.run(workflow.id)).rejects.toMatchObject({ code: 'NO_WORKER' });
  });

  it('a client whose worker is busy keeps waiting past noWorkerMs (no NO_WORKER)', async () => {
    const path = file();
    const { weft: client } = weftOn(path, { worker: false, noWorkerMs: 20, steps: refuse });
    const { app, workflow } = await published(client);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    weftOn(path, {
      worker: { concurrency: 1, pollMs: 20 },
      steps: {
        work: async () => {
          started++;
          await gate;
          return 'held';
        },
      },
    });
    const first = await app.runs.run(workflow.id, { background: true });
    const end = Date.now() + 15_000;
    while (started === 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(started).toBe(1);
    const second = app.runs.run(workflow.id); // waits behind the first: the only slot is taken
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    expect(await second).toMatchObject({ status: 'COMPLETED', result: 'held' });
    expect(await app.runs.wait(first.id)).toMatchObject({ status: 'COMPLETED' });
  });

  it('a Weft that is not a worker (the default, or worker: false) writes nothing to the workers table', async () => {
    const path = file();
    const { weft } = weftOn(path, { steps: { work: () => 'here' } });
    const { app, workflow } = await published(weft);
    expect(await app.runs.run(workflow.id)).toMatchObject({ status: 'COMPLETED', result: 'here' });
    expect(workerRows(path)).toEqual([]);
  });
});

const presenceWorker = fileURLToPath(new URL('./test-support/presence-worker.mjs', import.meta.url));

function spawnWorker(args: string[]): { child: ChildProcess; ready: Promise<void>; exit: Promise<unknown> } {
  const child = spawn(process.execPath, [presenceWorker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise((resolve) => child.on('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split('\n').includes('ready')) resolve();
    });
    void exit.then((code) => reject(new Error(`the worker exited (${code}) before it was ready:\n${err}`)));
  });
  return { child, ready, exit };
}

it('a worker process killed outright (SIGKILL) counts until its announcement runs out, then NO_WORKER', async () => {
  const path = file();
  new SqliteStore({ path }).close(); // created (and migrated) before the worker and the client open it
  const worker = spawnWorker([path, 'killed-worker', '1500']);
  const store = new SqliteStore({ path });
  const client = createWeft({ store, worker: false, noWorkerMs: 50, steps: refuse, onStoreError: () => {} });
  try {
    await worker.ready;
    worker.child.kill('SIGKILL');
    await worker.exit;
    // Killed: it never withdrew. Its row stands until its last announcement's `until`.
    const [row] = workerRows(path);
    expect(row).toMatchObject({ owner_id: 'killed-worker' });
    const { app, workflow } = await published(client);
    const error = await app.runs.run(workflow.id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_WORKER', retryable: true });
    // Not before the dead worker's announcement ran out (it counted as alive and busy until then), and
    // its row is gone now.
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(row!.until));
    expect(workerRows(path)).toEqual([]);
    const runId = (error as { details: { run_id: string } }).details.run_id;
    expect(await store.getLease(runId)).toMatchObject({ status: 'PENDING', owner_id: null });
  } finally {
    worker.child.kill('SIGKILL');
    await client.close();
    store.close();
  }
}, 60_000);

async function published(client: Weft) {
  const app = client.app('app_1');
  const workflow = await app.workflows.create({ name: 'w', draft });
  await app.versions.publish(workflow.id);
  return { app, workflow };
}
