/**
 * One of the worker processes the multi-process kill test (kill.test.ts) spawns and SIGKILLs: a Weft
 * on the test schema with `worker: { concurrency }` executing the runs the test enqueued.
 *
 *   node kill-worker.mjs <url> <schema> <side-file> <name>
 *
 * Every execution of a `work` step
 *   1. takes a session-level advisory lock on the run (pg_try_advisory_lock, on a connection of its own):
 *      PostgreSQL releases it when this process dies, so failing to take it means another LIVE process
 *      is executing the same run at this moment — the in-database guard. It then appends
 *      `OVERLAP <run id> <step key>` to the side file;
 *   2. appends `<name> <pid> <ms since epoch> <run id> <step key> <attempt> <idempotency key>`
 *      (one write: a SIGKILL loses a line whole or not at all);
 *   3. sleeps a random 0–50 ms and unlocks.
 * Prints "ready" once its Weft is open; runs until killed. Plain JavaScript on the built packages.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWeft } from '@weft/core';
import pg from 'pg';
import { PostgresStore } from '../../dist/index.js';

const [url, schema, sideFile, name] = process.argv.slice(2);

const guard = new pg.Client({ connectionString: url });
guard.on('error', () => undefined);
await guard.connect();

const store = new PostgresStore({ connectionString: url, schema, max: 6 });
const weft = createWeft({
  store,
  // A short lease: a killed worker's runs are taken over within a second.
  owner: { leaseMs: 800, heartbeatMs: 200 },
  worker: { concurrency: 10, pollMs: 200 },
  // The kills are what this tests. A restarted process evaluates its first expression on a cold sandbox
  // worker, whose start-up counts against the deadline (docs/semantics.md): on a loaded CI machine that
  // can pass 1 s, which would fail the step for a reason this test is not about.
  limits: { expression: { timeoutMs: 30_000 } },
  onStoreError: (error, context) => process.stderr.write(`store error (${context.operation}): ${error}\n`),
  steps: {
    work: async (ctx) => {
      const key = `weft-kill:${ctx.run.id}`;
      const { rows } = await guard.query('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [key]);
      if (rows[0].ok !== true) appendFileSync(sideFile, `OVERLAP ${ctx.run.id} ${ctx.step.key}\n`);
      appendFileSync(
        sideFile,
        `${name} ${process.pid} ${Date.now()} ${ctx.run.id} ${ctx.step.key} ${ctx.attempt} ${ctx.idempotency_key}\n`,
      );
      try {
        await sleep(Math.floor(Math.random() * 51));
      } finally {
        if (rows[0].ok === true) await guard.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
      return `${ctx.step.key}-ok`;
    },
  },
});
void weft;
process.stdout.write('ready\n');
// Alive until killed (the Weft's timers are unref'd).
setInterval(() => undefined, 60_000);
