/**
 * `weft worker --db postgres://…` and `weft run --db postgres://…`: the run is enqueued by `weft run`
 * (in process, a client only) and executed by a spawned worker process (the real binary), which stops on
 * SIGTERM. Needs the suite's throwaway PostgreSQL server (../store-postgres/src/test-support/global-setup.ts);
 * skipped loudly without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPool, postgresUrl as server } from '../../store-postgres/src/test-support/db.js';
import { start, tempDir, weft } from './helpers.js';

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

  it('weft worker refuses a SQLite file (a worker shares a PostgreSQL database)', async () => {
    const result = await weft(['worker', '--db', 'local.db'], { cwd: tempDir({}) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PostgreSQL');
  });
});
