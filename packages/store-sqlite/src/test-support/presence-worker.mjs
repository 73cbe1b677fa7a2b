/**
 * A worker process on a SQLite file, for presence.test.ts: it opens a Weft with `worker: {}` (which
 * announces itself in the file's `workers` table), prints "ready" once its announcement is in the file,
 * and idles until killed.
 *
 *   node presence-worker.mjs <db> <owner-id> <lease-ms>
 *
 * Plain JavaScript on the built packages: a child process needs no loader.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createWeft } from '@weft/core';
import { SqliteStore } from '../../dist/index.js';

const [path, ownerId, leaseMs] = process.argv.slice(2);
const store = new SqliteStore({ path, busyTimeoutMs: 10_000 });
createWeft({
  store,
  owner: { id: ownerId, leaseMs: Number(leaseMs) },
  worker: { concurrency: 1, pollMs: 50 },
  onStoreError: (error, context) => process.stderr.write(`store error (${context.operation}): ${error}\n`),
});
const deadline = Date.now() + 30_000;
while ((await store.countWorkers(new Date().toISOString())) === 0) {
  if (Date.now() > deadline) throw new Error('the worker never announced itself');
  await sleep(5);
}
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
