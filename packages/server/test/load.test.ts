/**
 * Load: 500 concurrent `POST …/runs` with `stream: true` (a code → model → code workflow on the scripted
 * provider). All complete, none is lost, every stream ends with the stored run, and the server lets go of
 * what they held (heap after a full GC back near the baseline, no connection left open).
 */
import { scriptedProvider } from '@weft/testing';
import { describe, expect, it } from 'vitest';
import { withModel } from './fixtures.js';
import { startServer } from './helpers.js';
import { openStream } from './sse-client.js';

const RUNS = 500;
const MB = 1024 * 1024;

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  collect();
  collect();
}

describe('load', () => {
  it(`${RUNS} concurrent streaming runs all complete; memory returns near its baseline`, async () => {
    const t = await startServer({
      weft: {
        providers: [
          scriptedProvider({ default: 'The quick brown fox jumps over the lazy dog', latencyMs: 20 }),
        ],
      },
      server: { checkResponses: false },
    });
    try {
      const wf = (await t.call('POST', '/apps/app_a/workflows', { body: { name: 'load', draft: withModel } }))
        .body.id;
      await t.call('POST', `/apps/c/workflows/${wf}/versions`, { body: {} });
      const url = `${t.url}/apps/c/workflows/${wf}/runs`;
      // Warm up (plans, JIT), then take the baseline.
      await (await openStream(url, t.keys.A, {})).events;
      gc();
      const baseline = process.memoryUsage();

      const started = performance.now();
      const streams = await Promise.all(Array.from({ length: RUNS }, () => openStream(url, t.keys.A, {})));
      const all = await Promise.all(streams.map((s) => s.events));
      const seconds = (performance.now() - started) / 1000;

      const finals = all.map((events) => events.at(-1)!);
      expect(finals.every((e) => e.event === 'run' && e.data.status === 'COMPLETED')).toBe(true);
      expect(new Set(finals.map((e) => e.data.id)).size).toBe(RUNS);
      for (const events of all) {
        expect(events[0]!.event).toBe('run');
        expect(events.filter((e) => e.event === 'step')).toHaveLength(6);
      }
      const listed = await t.call('GET', `/apps/c/workflows/${wf}/runs?take=1`);
      expect(listed.headers.get('pagination-count')).toBe(String(RUNS + 1));
      for (const final of finals.slice(0, 25)) {
        expect((await t.call('GET', `/apps/c/workflows/${wf}/runs/${final.data.id}`)).body).toEqual(
          final.data,
        );
      }
      expect(t.weft.engine.active.size).toBe(0);

      // Bounded polling, not one sample: on a loaded machine sockets and timers of the finished streams
      // may still be settling. Up to 2 s of idle turns, each followed by full GCs; what the server keeps
      // stays reachable for all of it.
      let after = process.memoryUsage();
      for (let turn = 0; turn < 40; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        gc();
        after = process.memoryUsage();
        if (after.heapUsed - baseline.heapUsed < 48 * MB) break;
      }
      const connections = await new Promise<number>((resolve, reject) =>
        t.server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
      console.log(
        `${RUNS} streaming runs in ${seconds.toFixed(2)} s; heap ${(baseline.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB, ` +
          `rss ${(baseline.rss / MB).toFixed(0)} → ${(after.rss / MB).toFixed(0)} MB, idle connections ${connections}`,
      );
      // What stays is the 500 stored runs of the memory store (a few KB each), not the streams.
      expect(after.heapUsed - baseline.heapUsed).toBeLessThan(48 * MB);
    } finally {
      // Resolves only once no request is in flight: every stream has ended (the open connections
      // logged above are the client's idle keep-alive sockets, closed here).
      await t.close();
    }
  });
});
