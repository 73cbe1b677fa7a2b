/**
 * Issue 18's test: three worker processes (compiled dist/) share one PostgreSQL schema; a client enqueues
 * RUNS runs of a chain of four `work` steps and a code step; workers are SIGKILLed at random moments and
 * restarted after a random delay. At the end every run is COMPLETED with the right result, no run was
 * executed by two live processes at once (an advisory lock per run, held by the executing process's own
 * connection: see test-support/kill-worker.mjs), and no step whose completion was in the database ran
 * again afterwards.
 *
 * RUNS is 300 by default (the README's test command); WEFT_PG_KILL_RUNS=1000 runs the issue's 1,000.
 * Seeded (WEFT_KILL_SEED): the kill moments reproduce, the OS scheduling does not.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWeft } from '@weft/core';
import type { RunRow } from '@weft/core/store';
import { afterAll, expect, it } from 'vitest';
import type { PostgresStore } from './postgres-store.js';
import { describeWithPostgres, dropSchema, postgresUrl, testStore } from './test-support/db.js';

const script = fileURLToPath(new URL('./test-support/kill-worker.mjs', import.meta.url));
const SEED = Number(process.env.WEFT_KILL_SEED ?? 20_261_218);
const RUNS = Number(process.env.WEFT_PG_KILL_RUNS ?? 300);
const WORKERS = 3;
const WORK_STEPS = ['w1', 'w2', 'w3', 'w4'];
const APP = 'pg-kill';

const dir = mkdtempSync(join(tmpdir(), 'weft-pg-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  /** Ready and not killed. */
  up: boolean;
  exit: Promise<void>;
  stderr: () => string;
}

function spawnWorker(schema: string, side: string, name: string): Child {
  const child = spawn(process.execPath, [script, postgresUrl!, schema, side, name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve();
    });
    void exit.then(() => reject(new Error(`worker ${name} exited before it was ready:\n${err}`)));
  });
  const handle: Child = { process: child, ready, exit, up: false, stderr: () => err };
  ready.then(
    () => {
      handle.up = true;
    },
    () => undefined,
  );
  return handle;
}

async function allRuns(store: PostgresStore): Promise<RunRow[]> {
  const runs: RunRow[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const result = await store.listRuns({ app_id: APP, limit: 100, ...(cursor ? { cursor } : {}) });
    runs.push(...result.data);
    if (result.next_cursor === null) break;
    cursor = result.next_cursor;
  }
  return runs;
}

describeWithPostgres('PostgreSQL workers', () => {
  it(`${WORKERS} worker processes, ${RUNS} runs, random SIGKILLs and restarts: every run completes once (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const store = testStore();
    const side = join(dir, `${store.schema}.log`);
    writeFileSync(side, '');
    const children = new Map<string, Child>();
    const client = createWeft({ store, worker: false, onStoreError: () => undefined });
    /** `run/step` → the time (ms) of the first snapshot that saw the step COMPLETED in the database. */
    const completedAt = new Map<string, number>();
    const kills: string[] = [];
    let stopped = false;
    try {
      const app = client.app(APP);
      const steps: object[] = WORK_STEPS.map((key, i) => ({
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
      // The client validates documents without executing: `work` is a known step type here.
      const workflow = await app.workflows.create({ name: 'kill', draft: { steps } as never });
      for (let i = 0; i < WORKERS; i++) children.set(`w${i}`, spawnWorker(store.schema, side, `w${i}`));
      await Promise.all([...children.values()].map((c) => c.ready));
      for (let n = 0; n < RUNS; n += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, RUNS - n) }, (_, i) =>
            app.runs.run(workflow.id, { version: 'draft', input: { n: n + i }, background: true }),
          ),
        );
      }

      // Bounded by progress, not by the clock alone: a stuck run shows as no run ending for STALL_MS
      // (a lost run would never end), while a machine that is merely slow keeps ending runs. The outer
      // bound keeps the test finite whatever happens.
      const STALL_MS = 60_000;
      const deadline = Date.now() + (RUNS > 500 ? 600_000 : 300_000);
      let lastLive = Number.POSITIVE_INFINITY;
      let lastProgress = Date.now();
      for (;;) {
        const live = await store.countRuns({ app_id: APP, status: ['PENDING', 'RUNNING'] });
        if (live === 0) break;
        if (live < lastLive) {
          lastLive = live;
          lastProgress = Date.now();
        }
        if (Date.now() > deadline || Date.now() - lastProgress > STALL_MS) {
          throw new Error(
            `${live} runs still live (none ended for ${Date.now() - lastProgress} ms); kills: ${kills.join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100 + random() * 300));
        // Snapshot: what is COMPLETED now is done for good — no execution may start after the read.
        const runs = await allRuns(store);
        const records = await store.getStepResults(runs.map((r) => r.id));
        const snapshot = Date.now();
        for (const [runId, stepRecords] of records) {
          for (const key of WORK_STEPS) {
            const id = `${runId}/${key}`;
            if (stepRecords[key]?.status === 'COMPLETED' && !completedAt.has(id))
              completedAt.set(id, snapshot);
          }
        }
        // Kill one running worker at random; it restarts after a random delay, meanwhile the next kill
        // may take another (never all three down for long: a worker down is not killed again).
        const up = [...children].filter(([, c]) => c.up);
        if (up.length < 2) continue;
        const [name, victim] = up[Math.floor(random() * up.length)]!;
        victim.up = false;
        victim.process.kill('SIGKILL');
        kills.push(name);
        const restartIn = 100 + random() * 400;
        void victim.exit.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, restartIn));
          if (stopped) return;
          children.set(name, spawnWorker(store.schema, side, name));
        });
      }

      const runs = await allRuns(store);
      expect(runs).toHaveLength(RUNS);
      const inputs = new Set<number>();
      for (const run of runs) {
        expect(run.status, `run ${run.id}: ${JSON.stringify(run.error)}`).toBe('COMPLETED');
        const n = (run.input as { n: number }).n;
        inputs.add(n);
        expect(run.result).toBe(n * 10 + WORK_STEPS.length);
        expect(await store.getLease(run.id)).toMatchObject({ owner_id: null });
      }
      expect(inputs.size).toBe(RUNS);

      const lines = readFileSync(side, 'utf8').split('\n');
      expect(
        lines.filter((line) => line.startsWith('OVERLAP ')),
        'runs executed by two processes at once',
      ).toEqual([]);
      const executions = new Map<string, Array<{ at: number; key: string; attempt: number }>>();
      for (const line of lines) {
        const [, , at, runId, step, attempt, key] = line.split(' ');
        if (key === undefined) continue;
        const id = `${runId}/${step}`;
        let list = executions.get(id);
        if (list === undefined) {
          list = [];
          executions.set(id, list);
        }
        list.push({ at: Number(at), key, attempt: Number(attempt) });
      }
      let again = 0;
      for (const run of runs) {
        for (const step of WORK_STEPS) {
          const id = `${run.id}/${step}`;
          const list = executions.get(id) ?? [];
          expect(list.length, `${id} never executed`).toBeGreaterThanOrEqual(1);
          expect(new Set(list.map((e) => e.key)).size).toBe(1);
          const done = completedAt.get(id);
          if (done !== undefined) {
            expect(
              list.filter((e) => e.at > done),
              `${id} was COMPLETED in the database at ${done}, then ran again`,
            ).toEqual([]);
          }
          if (list.length > 1) again++;
        }
      }
      expect(kills.length, 'no worker was killed').toBeGreaterThan(0);
      // Reported, not asserted: whether a kill interrupted a step depends on the OS scheduling.
      console.log(`pg kill test: ${RUNS} runs, kills ${kills.join(' ')}, ${again} steps ran more than once`);
    } finally {
      stopped = true;
      await new Promise((resolve) => setTimeout(resolve, 600)); // restarts already scheduled
      for (const child of children.values()) {
        child.process.kill('SIGKILL');
        await child.exit;
      }
      await client.close();
      await store.close();
      await dropSchema(store.schema).catch(() => undefined);
    }
  }, 700_000);
});
