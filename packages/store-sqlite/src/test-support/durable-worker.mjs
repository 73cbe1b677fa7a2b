/**
 * The process the kill -9 test (kill.test.ts) kills: a Weft on a SQLite file running `RUNS` runs of a
 * chain of `work` steps (each sleeps a seeded random 0–50 ms) ending with a code step.
 *
 *   node durable-worker.mjs <db> <side-file> <seed> <generation> start|resume
 *
 * `start` creates the workflow and starts every run (background), then prints "started"; `resume` opens
 * the Weft (which resumes the runs the killed process left, once their lease has ended) and prints
 * "ready". Either way it exits 0 once no run of the app is live in the store.
 *
 * Every execution of a `work` step appends one line `<generation> <run id> <step key> <attempt>
 * <idempotency key>` to the side file before it sleeps (one write: a SIGKILL loses a line whole or not
 * at all). Plain JavaScript on the built packages: a child process needs no loader.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createWeft } from '@weft/core';
import { SqliteStore } from '../../dist/index.js';

export const RUNS = 200;
export const WORK_STEPS = ['w1', 'w2', 'w3', 'w4'];
export const APP = 'kill-test';

const [path, sideFile, seedText, generation, mode] = process.argv.slice(2);
const seed = Number(seedText);

/** A seeded PRNG (mulberry32) per execution, so that a failure reproduces with the same seed. */
function random(text) {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 2654435761) >>> 0;
  h = (h + 0x6d2b79f5) >>> 0;
  let t = h;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const store = new SqliteStore({ path, busyTimeoutMs: 10_000 });
const weft = createWeft({
  store,
  // A short lease, so that a restarted process resumes its predecessor's runs within a second.
  owner: { leaseMs: 600, heartbeatMs: 150 },
  recover: { intervalMs: 100 },
  // The kills are what this tests. A restarted process evaluates its first expression on a cold sandbox
  // worker, whose start-up counts against the deadline (docs/semantics.md): on a loaded CI machine that
  // can pass 1 s, which would fail the step for a reason this test is not about.
  limits: { expression: { timeoutMs: 30_000 } },
  onStoreError: (error, context) => process.stderr.write(`store error (${context.operation}): ${error}\n`),
  steps: {
    work: async (ctx) => {
      appendFileSync(
        sideFile,
        `${generation} ${ctx.run.id} ${ctx.step.key} ${ctx.attempt} ${ctx.idempotency_key}\n`,
      );
      await sleep(Math.floor(random(`${ctx.run.id}/${ctx.step.key}/${ctx.attempt}`) * 51));
      return `${ctx.step.key}-ok`;
    },
  },
});
const app = weft.app(APP);

if (mode === 'start') {
  const steps = WORK_STEPS.map((key, i) => ({
    type: 'work',
    key,
    destinations: [WORK_STEPS[i + 1] ?? 'total'],
  }));
  steps.push({
    type: 'code',
    key: 'total',
    code: 'input.n * 10 + $count([w1.output, w2.output, w3.output, w4.output])',
    destinations: [],
  });
  const workflow = await app.workflows.create({ name: 'kill', draft: { steps } });
  await Promise.all(
    Array.from({ length: RUNS }, (_, n) =>
      app.runs.run(workflow.id, { version: 'draft', input: { n }, background: true }),
    ),
  );
  process.stdout.write('started\n');
} else {
  process.stdout.write('ready\n');
}

// Done once nothing of the app is live in the store (runs held by a dead owner are live too).
for (;;) {
  const live = await store.countRuns({ app_id: APP, status: ['PENDING', 'RUNNING'] });
  if (live === 0) break;
  await sleep(50);
}
await weft.close();
store.close();
process.stdout.write('done\n');
