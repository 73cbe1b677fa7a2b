/**
 * What it costs a CPU-bound process to share the machine's cores with another one, Weft aside
 * (docs/performance.md, W12: two workers spend more CPU a run than one):
 *
 *   node bench/dist/corun-probe.js [pairs=5] [spin|w2]
 *
 * The same fixed work runs in a child process alone, then in two children at once, alternating `pairs`
 * times; each child reports its own CPU time (`process.cpuUsage`). `spin`: 400 million additions over a
 * 512 KiB array. `w2`: pair.js's W2 protocol on this checkout's @weft/core (12,000 runs of the 10-step
 * no-op chain on the memory store, in-process: the engine work a W12 worker does, without PostgreSQL). On two independent cores two at once cost each the same CPU as one
 * alone; on hyperthreads of one core, or on a host that shares its cores with other guests, they cost
 * more — and two W12 workers on such cores pay that on every run however little they contend in Weft.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const [pairsText = '5', workload = 'spin'] = process.argv.slice(2);
const SELF = fileURLToPath(import.meta.url);
const PAIR = fileURLToPath(new URL('./pair.js', import.meta.url));
const CORE = fileURLToPath(new URL('../../packages/core/dist/index.js', import.meta.url));

if (process.env.CORUN_CHILD === '1') {
  const iterations = 400_000_000;
  const start = process.cpuUsage();
  const data = new Float64Array(1 << 16);
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    sum += data[i & 0xffff]! + i * 1e-9;
    data[i & 0xffff] = sum;
  }
  const used = process.cpuUsage(start);
  // The sum is printed so that the loop cannot be dropped as dead code.
  console.log(`${(used.user + used.system) / 1000} ${sum > 0}`);
} else {
  const pairs = Number(pairsText);
  if (!Number.isInteger(pairs) || pairs < 1)
    throw new Error(`pairs must be a positive integer, got ${pairsText}`);
  if (workload !== 'spin' && workload !== 'w2')
    throw new Error(`workload must be spin or w2, got ${workload}`);
  const args = workload === 'spin' ? [SELF] : ['--expose-gc', PAIR, CORE, 'w2'];
  /** The child's CPU ms: spin prints it; pair.js w2 prints its 12,000 runs' rate, "per CPU-s N". */
  const cpuMs = (out: string) =>
    workload === 'spin' ? Number(out.split(' ')[0]) : 12_000_000 / Number(/per CPU-s (\d+)/.exec(out)?.[1]);
  const child = () =>
    new Promise<number>((resolve, reject) => {
      const process_ = spawn(process.execPath, args, {
        env: { ...process.env, CORUN_CHILD: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      process_.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      process_.on('error', reject);
      process_.on('exit', (code) =>
        code === 0 ? resolve(cpuMs(out)) : reject(new Error(`child exited ${code}`)),
      );
    });
  const ratios: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    const alone = await child();
    const together = await Promise.all([child(), child()]);
    const mean = (together[0]! + together[1]!) / 2;
    ratios.push(mean / alone);
    console.log(
      `pair ${pair + 1}: alone ${alone.toFixed(0)} ms CPU, two at once ${together.map((t) => t.toFixed(0)).join(' and ')} ms (×${(mean / alone).toFixed(3)}); load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `median: two at once cost each ×${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} the CPU of one alone`,
  );
}
