/**
 * `shutdown(server, weft)` (`weft serve` on SIGTERM): on a MemoryStore the runs still in progress after
 * `graceMs` are cancelled; on a store another process can open they are suspended (`weft.suspend`) and
 * the next Weft on the store completes them. A spawned `weft serve` on SQLite: packages/cli/test/serve.test.ts.
 */
import { createWeft, MemoryStore, type StepContext, type WorkflowVersionDraft } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../src/keys.js';
import { createServer } from '../src/server.js';
import { shutdown } from '../src/shutdown.js';

const CHAIN = {
  steps: [
    { type: 'work', key: 'a', destinations: ['slow'] },
    { type: 'slow', key: 'slow', destinations: ['b'] },
    { type: 'work', key: 'b' },
  ],
} as unknown as WorkflowVersionDraft;

async function serving(store: MemoryStore) {
  const executed: string[] = [];
  let reached!: () => void;
  const atSlow = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const weft = createWeft({
    store,
    recover: false,
    steps: {
      work: (ctx: StepContext) => {
        executed.push(ctx.step.key);
        return ctx.step.key;
      },
      // Runs until aborted.
      slow: (ctx: StepContext) => {
        executed.push(ctx.step.key);
        reached();
        return new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      },
    },
  });
  const server = await createServer({ weft, docs: false });
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  const key = (await createApiKey(store, 'app_a', { name: 'tests' })).key;
  const workflow = await weft.app('app_a').workflows.create({ name: 'chain', draft: CHAIN });
  await weft.app('app_a').versions.publish(workflow.id);
  return { weft, server, url, key, workflowId: workflow.id, executed, atSlow };
}

describe('shutdown', () => {
  it('cancels the runs still in progress on a MemoryStore (nothing could resume them)', async () => {
    const store = new MemoryStore();
    const s = await serving(store);
    const run = await s.weft.app('app_a').runs.run(s.workflowId, { background: true });
    await s.atSlow;
    const report = await shutdown(s.server, s.weft, { graceMs: 10 });
    expect(report).toEqual({ ended: 0, cancelled: [run.id], suspended: [] });
    expect((await store.getRun(run.id))?.status).toBe('CANCELLED');
  });

  it('suspends them otherwise: an open request gets the run RUNNING, and the next Weft completes it', async () => {
    const store = new MemoryStore(); // shared by two Wefts: stands for a database both open
    const s = await serving(store);
    const answer = fetch(`${s.url}/apps/app_a/workflows/${s.workflowId}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    await s.atSlow;
    const report = await shutdown(s.server, s.weft, { graceMs: 10, suspendGraceMs: 10, suspend: true });
    const response = await answer;
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; status: string };
    expect(body.status).toBe('RUNNING');
    expect(report).toEqual({ ended: 0, cancelled: [], suspended: [body.id] });
    expect(await store.getLease(body.id)).toMatchObject({ status: 'RUNNING', owner_id: null });
    expect(s.executed).toEqual(['a', 'slow']);

    const resumed: string[] = [];
    const step = (ctx: StepContext) => {
      resumed.push(ctx.step.key);
      return `${ctx.step.key}!`;
    };
    const next = createWeft({ store, steps: { work: step, slow: step } });
    expect(await next.app('app_a').runs.wait(body.id)).toMatchObject({ status: 'COMPLETED', result: 'b!' });
    expect(resumed).toEqual(['slow', 'b']); // `slow` was abandoned: it runs again; `a` does not
    await next.close();
  });

  it('checks its options', async () => {
    const s = await serving(new MemoryStore());
    for (const [options, parameter] of [
      [{ graceMs: -1 }, 'graceMs'],
      [{ suspendGraceMs: 1.5 }, 'suspendGraceMs'],
      [{ suspend: 'yes' }, 'suspend'],
    ] as const) {
      const error = await shutdown(s.server, s.weft, options as never).then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      expect(error?.code).toBe('INVALID_ARGUMENT');
      expect(error?.message).toContain(parameter);
    }
    await shutdown(s.server, s.weft, { graceMs: 0 });
  });
});
