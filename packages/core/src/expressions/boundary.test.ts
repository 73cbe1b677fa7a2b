import { afterEach, describe, expect, it } from 'vitest';
import { SandboxPool, startFailure, type WorkerRequest } from './boundary.js';
import { DEFAULT_EXPRESSION_LIMITS } from './jsonata.js';
import { decodeSandboxValue, functionText } from './sandbox-source.js';

const request = (source: string, timeoutMs: number): WorkerRequest => ({
  language: 'jsonata',
  source,
  inputJson: JSON.stringify({ document: { n: 2 }, bindings: {} }),
  limits: { ...DEFAULT_EXPRESSION_LIMITS, timeoutMs },
});

const pools: SandboxPool[] = [];
afterEach(async () => {
  // Each pool's workers are unref'ed when idle; terminate them so the file ends promptly.
  for (const pool of pools.splice(0)) await pool.close();
});

describe('the sandbox pool: a worker start-up is not charged to the expression', () => {
  it('a worker that takes longer to start than the deadline still evaluates a quick expression', async () => {
    // Start-up (600 ms) outlasts the deadline and its kill grace (400 + 25 ms); the deadline still leaves a
    // loaded machine time for the evaluation itself once the worker is ready (50 ms raced a busy CPU).
    const pool = new SandboxPool(1, DEFAULT_EXPRESSION_LIMITS.maxMemoryBytes, { startDelayMs: 600 });
    pools.push(pool);
    const reply = await pool.run(request('n * 10 + $count([1, 2])', 400), 400);
    expect(reply).toMatchObject({ ok: true, text: '22' });
  });

  it('JavaScript: a worker whose sandbox takes longer to load than the deadline still evaluates a quick body', async () => {
    // Regression: the worker counted as started once JSONata was ready, so loading QuickJS (WebAssembly:
    // seconds on a loaded CI machine) was charged to a 3 ms body, which then failed with a time limit.
    const pool = new SandboxPool(1, DEFAULT_EXPRESSION_LIMITS.maxMemoryBytes, { sandboxDelayMs: 600 });
    pools.push(pool);
    const reply = await pool.run(
      {
        language: 'javascript',
        text: functionText([], 'return 6 * 7;'),
        // The caps (log entries, log chars, result chars, undefined parameters, console), no parameters.
        argsJson: JSON.stringify([[100, 1000, 1000, [], 0]]),
        maxMemoryBytes: DEFAULT_EXPRESSION_LIMITS.maxMemoryBytes,
        timeoutMs: 400,
      },
      400,
    );
    if (!reply.ok) expect.fail(JSON.stringify(reply));
    expect(decodeSandboxValue(reply.text!)).toMatchObject({ kind: 'value', value: 42 });
  });

  it('the deadline still holds once the worker is ready', async () => {
    const pool = new SandboxPool(1, DEFAULT_EXPRESSION_LIMITS.maxMemoryBytes, { startDelayMs: 300 });
    pools.push(pool);
    // A catastrophic regex never reaches JSONata's own guards: the host's kill at the deadline ends it —
    // unless a loaded machine stalls the worker for the whole 50 ms before the regex starts, and JSONata's
    // own timeout (D1012, the same EXPRESSION_LIMIT "time" for the user) ends it first. Either way the
    // deadline held (under two busy loops, D1012 came once in three runs of the suite).
    const reply = await pool.run(request('$contains("' + 'a'.repeat(34) + '!", /^(a+)+$/)', 50), 50);
    const ended = reply.ok ? 'ok' : reply.error.kind === 'jsonata' ? reply.error.code : reply.error;
    expect(
      ended === 'D1012' || (typeof ended === 'object' && ended.kind === 'limit' && ended.limit === 'time'),
      JSON.stringify(reply),
    ).toBe(true);
  });

  it('a worker that never starts fails the evaluation after the start bound, with a clear message', async () => {
    const pool = new SandboxPool(1, DEFAULT_EXPRESSION_LIMITS.maxMemoryBytes, {
      startDelayMs: 5_000,
      startTimeoutMs: 200,
    });
    pools.push(pool);
    const reply = await pool.run(request('1', 50), 50);
    expect(reply).toMatchObject({ ok: false, error: { kind: 'start', timeoutMs: 200 } });
    expect(pool.workers).toBe(0);
  });

  it('the start bound is a retryable TIMEOUT that says the expression did not run', () => {
    const error = startFailure({ step_key: 'total', field: 'code' }, 'input.n * 10', 60_000);
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
      step_key: 'total',
      details: { field: 'code', limit_value: 60_000 },
    });
    expect(error.message).toContain('no sandbox worker was ready within 60000 ms');
  });
});
