/**
 * The CPU of a client-only `runs.run` by workflow id on PostgreSQL (W12's set-up: background runs of the
 * W2 chain's draft, 100 in flight), for two builds, alternated round by round on one server (not part of
 * the suite; run by hand after building both):
 *
 *   node packages/store-postgres/scripts/client-runs.mjs <rounds> <runs> <repository A> [repository B]
 *
 * Per round and repository: a child process opens that repository's `postgresStore` on a fresh schema and
 * a `createWeft({ worker: false })`, creates the workflow, starts 200 runs untimed (warm-up), then `runs`
 * timed. Prints per run: PostgreSQL's CPU (/proc: the server's processes, and apart the server processes
 * of the child's own connections — the whole server's also counts autovacuum, checkpoints and the WAL
 * writer, which come and go) and the child's CPU (user + system); then the medians, and the medians of
 * the per-round ratios to A. fsync on, synchronous_commit on.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repository = resolve(here, '../../..');
const WARM_UP = 200;

if (process.argv[2] === '--child') await child(...process.argv.slice(3));
else await parent(...process.argv.slice(2));

async function child(root, url, schema, runsText) {
  const load = (path) => import(pathToFileURL(resolve(root, path)).href);
  const { createWeft } = await load('packages/core/dist/index.js');
  const { postgresStore } = await load('packages/store-postgres/dist/index.js');
  // Its connections named after the schema: the parent finds their server processes by that name.
  const store = postgresStore({ connectionString: `${url}?application_name=${schema}`, schema });
  await store.ready();
  const weft = createWeft({ store, worker: false, steps: { noop: () => null } });
  const app = weft.app('client_runs');
  const steps = Array.from({ length: 10 }, (_, i) => ({
    type: 'noop',
    key: `s${i}`,
    destinations: i < 9 ? [`s${i + 1}`] : [],
  }));
  const workflow = await app.workflows.create({ name: 'w2', draft: { key: 'chain-noop-10', steps } });
  const enqueue = async (n) => {
    for (let i = 0; i < n; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, () =>
          app.runs.run(workflow.id, { version: 'draft', background: true }),
        ),
      );
    }
  };
  await enqueue(WARM_UP);
  const lines = createInterface({ input: process.stdin });
  console.log('ready');
  // One iterator for both waits (breaking out of a for-await would close the interface).
  const input = lines[Symbol.asyncIterator]();
  const until = async (word) => {
    for (let line = await input.next(); !line.done && line.value !== word; line = await input.next());
  };
  await until('go');
  const before = process.cpuUsage();
  await enqueue(Number(runsText));
  const used = process.cpuUsage(before);
  console.log(`cpu ${(used.user + used.system) / 1000}`);
  // Connections stay open until the parent has read their CPU ("stop", or stdin's end).
  await until('stop');
  lines.close();
  await weft.close();
  await store.close();
}

async function parent(roundsText = '6', runsText = '1000', ...roots) {
  if (roots.length === 0) {
    console.error('usage: node client-runs.mjs <rounds> <runs> <repository A> [repository B]');
    process.exit(2);
  }
  const { startTestPostgres } = await import(
    pathToFileURL(resolve(repository, 'scripts/test-postgres.mjs')).href
  );
  const { treeCpuMs } = await import(pathToFileURL(resolve(repository, 'bench/dist/w12.js')).href);
  const pg = createRequire(resolve(repository, 'packages/store-postgres/package.json'))('pg');
  const runs = Number(runsText);
  const server = await startTestPostgres({ fast: false });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const results = roots.map(() => []);
  try {
    for (let round = 0; round < Number(roundsText); round++) {
      const order = round % 2 === 0 ? roots.map((_, i) => i) : roots.map((_, i) => roots.length - 1 - i);
      for (const index of order) {
        const schema = `client_runs_${round}_${index}`;
        const proc = spawn(
          process.execPath,
          [
            fileURLToPath(import.meta.url),
            '--child',
            resolve(roots[index]),
            server.url,
            schema,
            String(runs),
          ],
          {
            stdio: ['pipe', 'pipe', 'inherit'],
          },
        );
        const out = createInterface({ input: proc.stdout });
        const lines = out[Symbol.asyncIterator]();
        const next = async () => (await lines.next()).value;
        if ((await next()) !== 'ready') throw new Error('the child did not start');
        const backendsOf = async () =>
          (
            await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [schema])
          ).rows.map((row) => row.pid);
        const pgBefore = treeCpuMs(server.pid);
        const backendsBefore = backendCpuMs(await backendsOf());
        proc.stdin.write('go\n');
        const reply = await next();
        // A connection opened meanwhile counts from 0; one closed meanwhile (the pool's idle timeout) is
        // lost with its CPU since the start: such a round is marked.
        const backendsAfter = backendCpuMs(await backendsOf());
        let lost = 0;
        let used = 0;
        for (const [pid, ms] of backendsAfter) used += ms - (backendsBefore.get(pid) ?? 0);
        for (const pid of backendsBefore.keys()) if (!backendsAfter.has(pid)) lost++;
        const backend = used / runs;
        const postgres = (treeCpuMs(server.pid) - pgBefore) / runs;
        const node = Number(/^cpu (\S+)$/.exec(reply ?? '')?.[1]) / runs;
        proc.stdin.end('stop\n');
        await new Promise((done) => proc.on('exit', done));
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        results[index].push({ postgres, backend, node });
        console.log(
          `${'ABC'[index]} round ${round + 1}: CPU ms/run postgres ${postgres.toFixed(4)} (the client's ${backendsAfter.size} connections ${backend.toFixed(4)}${lost > 0 ? `, ${lost} closed meanwhile: low` : ''}), client ${node.toFixed(4)}`,
        );
      }
    }
  } finally {
    await admin.end();
    await server.stop();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  results.forEach((list, index) => {
    console.log(
      `median ${'ABC'[index]}: CPU ms/run postgres ${median(list.map((x) => x.postgres)).toFixed(4)} (the client's connections ${median(list.map((x) => x.backend)).toFixed(4)}), client ${median(list.map((x) => x.node)).toFixed(4)} (${roots[index]})`,
    );
  });
  // Paired by round (each round runs every side once, in alternating order): less of the load's drift.
  for (let index = 1; index < results.length; index++) {
    const ratio = (key) => median(results[index].map((x, round) => x[key] / results[0][round][key]));
    console.log(
      `median paired ratio ${'ABC'[index]}/A: postgres ${ratio('postgres').toFixed(3)} (the client's connections ${ratio('backend').toFixed(3)}), client ${ratio('node').toFixed(3)}`,
    );
  }
}

/** CPU time (user + system, ms) so far of each of these processes that is still there (/proc; USER_HZ 100). */
function backendCpuMs(pids) {
  const out = new Map();
  for (const pid of pids) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone
    }
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    out.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return out;
}
