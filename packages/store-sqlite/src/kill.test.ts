/**
 * The kill -9 test of issue 12: a child process runs 200 concurrent runs whose steps take a random
 * 0–50 ms and record each execution in a side file; it is killed with SIGKILL at random moments, five
 * times, and restarted on the same database each time. At the end every run is COMPLETED with the right
 * result, none is lost or stuck, no step whose completion was in the database at a kill executed again,
 * and every step executed at least once. Seeded (WEFT_KILL_SEED, printed on failure): a failure
 * reproduces with the same seed (the kill moments and step durations; the OS scheduling is not).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRow } from '@weft/core/store';
import { afterAll, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const worker = fileURLToPath(new URL('./test-support/durable-worker.mjs', import.meta.url));
const SEED = Number(process.env.WEFT_KILL_SEED ?? 20_261_201);
const RUNS = 200;
const WORK_STEPS = ['w1', 'w2', 'w3', 'w4'];
const APP = 'kill-test';
const KILLS = 5;

const dir = mkdtempSync(join(tmpdir(), 'weft-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded PRNG (mulberry32). */
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

interface Worker {
  child: ChildProcess;
  /** Resolves with the line once the worker printed it. */
  line(text: string): Promise<void>;
  exit: Promise<number | null>;
  stderr: () => string;
}

function spawnWorker(args: string[]): Worker {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) if (out.split('\n').includes(w.text)) w.resolve();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    stderr: () => err,
    line: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.split('\n').includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exit.then((code) =>
          reject(new Error(`worker exited (${code}) before printing "${text}":\n${out}\n${err}`)),
        );
      }),
  };
}

async function allRuns(store: SqliteStore): Promise<RunRow[]> {
  const runs: RunRow[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await store.listRuns({ app_id: APP, limit: 100, ...(cursor ? { cursor } : {}) });
    runs.push(...result.data);
    if (result.next_cursor === null) break;
    cursor = result.next_cursor;
  }
  return runs;
}

it(`kill -9 five times, restart on the same database: every run completes, completed steps never run again (seed ${SEED})`, async () => {
  const random = prng(SEED);
  const db = join(dir, 'kill.db');
  const side = join(dir, 'executions.log');
  writeFileSync(side, '');
  /** `run/step` → the generation at whose kill the step's completion was in the database. */
  const completedAt = new Map<string, number>();
  const killedAt: number[] = [];

  for (let generation = 0; generation <= KILLS; generation++) {
    const w = spawnWorker([
      db,
      side,
      String(SEED),
      String(generation),
      generation === 0 ? 'start' : 'resume',
    ]);
    if (generation === KILLS) {
      // Catches a hang, not slowness: a loaded machine may take a while to finish 200 runs.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        w.exit,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), 150_000);
        }),
      ]);
      clearTimeout(timer);
      if (code === 'timeout') w.child.kill('SIGKILL');
      expect(code, `the last worker: ${w.stderr()}`).toBe(0);
      break;
    }
    // The first kill comes while the runs are in their first steps; later ones after the restarted
    // process has had time to take the runs back (their lease is 600 ms) and make some progress.
    await w.line(generation === 0 ? 'started' : 'ready');
    const delay = generation === 0 ? 20 + random() * 200 : 500 + random() * 600;
    await new Promise((resolve) => setTimeout(resolve, delay));
    w.child.kill('SIGKILL');
    await w.exit;
    killedAt.push(Math.round(delay));
    // What the database holds at this kill: these steps are done for good.
    const store = new SqliteStore({ path: db });
    try {
      const runs = await allRuns(store);
      const records = await store.getStepResults(runs.map((r) => r.id));
      for (const [runId, steps] of records) {
        for (const key of WORK_STEPS) {
          const id = `${runId}/${key}`;
          if (steps[key]?.status === 'COMPLETED' && !completedAt.has(id)) completedAt.set(id, generation);
        }
      }
    } finally {
      store.close();
    }
  }

  const store = new SqliteStore({ path: db });
  try {
    const runs = await allRuns(store);
    expect(runs).toHaveLength(RUNS);
    const results = new Map(runs.map((r) => [r.id, r]));
    const inputs = new Set<number>();
    for (const run of runs) {
      expect(run.status, `run ${run.id}: ${JSON.stringify(run.error)}`).toBe('COMPLETED');
      const n = (run.input as { n: number }).n;
      inputs.add(n);
      expect(run.result).toBe(n * 10 + WORK_STEPS.length);
      expect(await store.getLease(run.id)).toMatchObject({ owner_id: null });
    }
    expect(inputs.size).toBe(RUNS);

    const executions = new Map<string, Array<{ generation: number; attempt: number; key: string }>>();
    for (const line of readFileSync(side, 'utf8').split('\n')) {
      const [generation, runId, step, attempt, key] = line.split(' ');
      if (key === undefined) continue;
      const id = `${runId}/${step}`;
      let list = executions.get(id);
      if (list === undefined) {
        list = [];
        executions.set(id, list);
      }
      list.push({ generation: Number(generation), attempt: Number(attempt), key });
    }
    let again = 0;
    for (const runId of results.keys()) {
      for (const step of WORK_STEPS) {
        const id = `${runId}/${step}`;
        const list = executions.get(id) ?? [];
        expect(list.length, `${id} never executed`).toBeGreaterThanOrEqual(1);
        // The same idempotency key for every execution; attempts numbered on.
        expect(new Set(list.map((e) => e.key)).size).toBe(1);
        const attempts = list.map((e) => e.attempt);
        expect(attempts).toEqual([...attempts].sort((x, y) => x - y));
        const done = completedAt.get(id);
        if (done !== undefined) {
          const after = list.filter((e) => e.generation > done);
          expect(after, `${id} completed before kill ${done + 1}, then ran again`).toEqual([]);
        }
        if (list.length > 1) again++;
      }
    }
    // The kills did interrupt work (else the test proves nothing): some steps ran more than once.
    expect(again, `kills after ${killedAt.join(', ')} ms interrupted no step`).toBeGreaterThan(0);
  } finally {
    store.close();
  }
}, 240_000);
