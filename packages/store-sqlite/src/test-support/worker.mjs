/**
 * A second (third, …) process on the same database file, for the multi-process tests:
 *
 *   node worker.mjs <db> <owner> claim <runs> <go-file>
 *     waits for <go-file>, then tries to claim runs r0…r<runs-1>; appends one entry to each run it won;
 *     prints one JSON line { owner, claimed: [...] }.
 *   node worker.mjs <db> <owner> append <run>
 *     appends batches (3 entries, one step record, a usage patch) to <run> until killed; prints each
 *     committed seq.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
// Plain JavaScript on the built package (dist/ is built before the tests run): a child process needs no loader.
import { SqliteStore } from '../../dist/index.js';

const [path, owner, mode, arg, goFile] = process.argv.slice(2);
const store = new SqliteStore({ path, busyTimeoutMs: 10_000 });
const iso = (ms) => new Date(ms).toISOString();

if (mode === 'claim') {
  process.stdout.write('ready\n');
  const deadline = Date.now() + 30_000;
  while (!existsSync(goFile) && Date.now() < deadline) await sleep(5);
  const claimed = [];
  for (let i = 0; i < Number(arg); i++) {
    const id = `r${i}`;
    const now = Date.now();
    const result = await store.claimRun(id, {
      owner_id: owner,
      lease_until: iso(now + 60_000),
      now: iso(now),
    });
    if (!result.claimed) continue;
    claimed.push(id);
    await store.appendJournal(id, {
      owner_id: owner,
      now: iso(Date.now()),
      entries: [{ seq: result.lease.journal_seq + 1, type: 'claimed', at: iso(Date.now()), owner }],
    });
  }
  process.stdout.write(`${JSON.stringify({ owner, claimed })}\n`);
} else if (mode === 'append') {
  let seq = (await store.getLease(arg)).journal_seq;
  // Batches number on from where a killed predecessor stopped: batch b holds seqs 3b+1…3b+3.
  for (let batch = seq / 3; batch < 1_000_000; batch++) {
    const at = iso(Date.now());
    const entries = [1, 2, 3].map((i) => ({ seq: seq + i, type: 'step.settled', at, batch }));
    await store.appendJournal(arg, {
      owner_id: owner,
      now: at,
      entries,
      steps: {
        [`s${batch}`]: {
          status: 'COMPLETED',
          type: 'code',
          key: `s${batch}`,
          output: batch,
          logs: [],
          calls: [],
          start: at,
          end: at,
          error: null,
          attempts: 1,
        },
      },
      run: { usage: { total: batch + 1, calls: [], steps: {} } },
    });
    seq += 3;
    process.stdout.write(`${seq}\n`);
  }
}
store.close();
