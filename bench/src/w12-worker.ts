/**
 * W12's worker process: `node w12-worker.js <url> <schema> <concurrency> <synchronous_commit>`. Opens its
 * store (a pool whose connections count the round trips made on them; `synchronous_commit` set per
 * session, "on" or "off"), prints "ready", and on the stdin line "go" opens a worker Weft
 * (`worker: { concurrency }`) executing the W2 no-op chain runs the bench enqueued. On "stop" it prints
 * "trips <n> cpu <µs>" (every round trip of its pool, the listening connection's included; its own CPU
 * time, user + system, since "go") and exits.
 */
import { createInterface } from 'node:readline';
import { createWeft, type StepHandler, type Weft } from '@weft/core';
import { PostgresStore } from '@weft/store-postgres';
import pg from 'pg';

const [url, schema, concurrencyText, syncCommit] = process.argv.slice(2) as [string, string, string, string];
const pool = new pg.Pool({
  connectionString: url,
  max: 6,
  options: `-c synchronous_commit=${syncCommit === 'off' ? 'off' : 'on'}`,
});
pool.on('error', () => {});
let trips = 0;
pool.on('connect', (client) => {
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    trips++;
    return original(...args);
  }) as typeof client.query;
});
const store = new PostgresStore({ pool, schema });
await store.ready();
const noop: StepHandler = () => null;
let weft: Weft | null = null;
let cpu = process.cpuUsage();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'go') {
    trips = 0;
    cpu = process.cpuUsage();
    weft = createWeft({
      store,
      steps: { noop },
      worker: { concurrency: Number(concurrencyText), pollMs: 100 },
      onStoreError: (error) => process.stderr.write(`store error: ${error}\n`),
    });
  } else if (line === 'stop') {
    const used = process.cpuUsage(cpu);
    await weft?.close();
    process.stdout.write(`trips ${trips} cpu ${used.user + used.system}\n`);
    await store.close();
    await pool.end();
    process.exit(0);
  }
}
