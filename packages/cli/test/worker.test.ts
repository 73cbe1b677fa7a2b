/**
 * `weft worker --db postgres://…` and `weft run --db postgres://…`: the run is enqueued by `weft run`
 * (in process, a client only) and executed by a spawned worker process (the real binary), which stops on
 * SIGTERM. Needs the suite's throwaway PostgreSQL server (../store-postgres/src/test-support/global-setup.ts);
 * skipped loudly without it.
 */
import { join } from 'node:path';
import { postgresStore } from '@weft/store-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPool, postgresUrl as server } from '../../store-postgres/src/test-support/db.js';
import { spawnWeft, start, tempDir, weft } from './helpers.js';

const TRIAGE = 'examples/support-triage/workflow.json';

// A database of this file's own on the shared server: the CLI has no schema option (its store uses the
// default schema, `weft`), and the store's documentation examples, running meanwhile in another worker,
// use and drop that schema in the server's default database.
const database = `cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let url: string | null = null;
beforeAll(async () => {
  if (server === null) return;
  await adminPool().query(`CREATE DATABASE "${database}"`);
  const own = new URL(server);
  own.pathname = `/${database}`;
  url = own.href;
});
afterAll(async () => {
  if (url !== null) await adminPool().query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
});

describe.skipIf(server === null)('weft worker / weft run on PostgreSQL', () => {
  it('weft run --db postgres://… enqueues and waits; a weft worker process executes the run', async () => {
    const cwd = tempDir({
      'hello.json': { steps: [{ type: 'code', key: 'greet', code: '"Hello, " & input.name' }] },
    });
    const worker = start(['worker', '--db', url!, '--concurrency', '2', '--grace', '500'], { cwd });
    try {
      const ready = await worker.waitForLine((l) => l.startsWith('Weft worker '));
      expect(ready).toContain('up to 2 runs at once');
      expect(ready).not.toContain('weft_test_password');
      const result = await weft(['run', 'hello.json', '--db', url!, '-i', '{"name":"Ada"}', '-o', 'result'], {
        cwd,
      });
      expect(result.stderr).not.toContain('error');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Hello, Ada');
      // The run is in the shared database, executed by the worker (a client only never executes).
      const runs = await weft(['runs', 'list', '--db', url!, '--json'], { cwd });
      expect(runs.code).toBe(0);
    } finally {
      worker.child.kill('SIGTERM');
    }
    const done = await worker.done;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain('Stopped');
  });

  it("Ctrl-C on weft run --db postgres://… cancels the run on the worker, recorded with the reason 'Cancelled by Ctrl-C.'", async () => {
    // The worker's model step waits 20 s (scripted): only the cancel ends the run in time.
    const fixtures = join(tempDir({ 'slow.json': { latency_ms: 20_000 } }), 'slow.json');
    const worker = start(['worker', '--db', url!, '--fixtures', fixtures, '--grace', '500'], {
      cwd: tempDir({}),
    });
    const store = postgresStore({ connectionString: url! });
    try {
      await worker.waitForLine((l) => l.startsWith('Weft worker '));
      const known = new Set((await store.listRuns({ app_id: 'local', limit: 100 })).data.map((r) => r.id));
      const client = start(['run', TRIAGE, '--db', url!, '--json']);
      // Once the worker has begun the run (the model step is waiting on its fixture):
      let runId: string | undefined;
      const deadline = Date.now() + 30_000;
      while (runId === undefined) {
        if (Date.now() > deadline || client.child.exitCode !== null) throw new Error('the run never began');
        const running = (await store.listRuns({ app_id: 'local', status: 'RUNNING', limit: 100 })).data;
        runId = running.find((r) => !known.has(r.id))?.id;
        if (runId === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      client.child.kill('SIGINT');
      const r = await client.done;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Cancelling');
      expect(r.stderr).toContain('CANCELLED');
      // Cancelled where it executed — by the worker, which journaled the cancel — with the CLI's reason.
      const run = await store.getRun(runId);
      expect(run).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'Cancelled by Ctrl-C.' },
      });
      const journal = await store.loadJournal(runId);
      expect(journal.find((e) => e.type === 'cancel.requested')).toMatchObject({
        reason: 'Cancelled by Ctrl-C.',
      });
      expect(journal.at(-1)).toMatchObject({ type: 'run.ended', status: 'CANCELLED' });
    } finally {
      worker.child.kill('SIGTERM');
      await store.close();
    }
    expect((await worker.done).code).toBe(0);
  });

  it('weft run --db postgres://… with no worker exits 1 with NO_WORKER (the run stays PENDING), and does not hang', async () => {
    const store = postgresStore({ connectionString: url! });
    try {
      // A lease of 1 s: the client gives up after 1 s with no worker alive (noWorkerMs = the lease).
      // A process of its own: a timer left running after the error would keep it from exiting.
      const r = await spawnWeft(['run', TRIAGE, '--db', url!], { env: { WEFT_LEASE_MS: '1000' } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('NO_WORKER: no worker claimed run');
      expect(r.stderr).not.toContain('internal error');
      const runId = /claimed run (\S+) in/.exec(r.stderr)?.[1];
      expect(runId).toBeDefined();
      expect(await store.getRun(runId!)).toMatchObject({ status: 'PENDING' });
      // Not left behind for a worker that starts later, in this test's database: cancelled here.
      const cancelled = await weft(['runs', 'cancel', runId!, '--db', url!, '--reason', 'test over']);
      expect(cancelled.code).toBe(0);
      expect(await store.getRun(runId!)).toMatchObject({
        status: 'CANCELLED',
        error: { code: 'CANCELLED', message: 'test over' },
      });
    } finally {
      await store.close();
    }
  });

  it('weft worker refuses a SQLite file (a worker shares a PostgreSQL database)', async () => {
    const result = await weft(['worker', '--db', 'local.db'], { cwd: tempDir({}) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PostgreSQL');
  });
});
