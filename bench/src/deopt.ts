/**
 * The stable-optimisation check (issue 16, item 4; docs/performance.md, "Stable optimisation"): does a
 * 1,000-step run after a full GC make V8 throw away optimised code of the engine?
 *
 *   node bench/dist/deopt.js [plain|obs|tpl] [--runs N] [--steps N]
 *
 * It runs itself again under `node --expose-gc --trace-deopt` (through `stdbuf -o0`, so that V8's traces
 * and the markers come out in order): 30 warm-up runs (async handlers, as W1),
 * then N times a full GC and one measured run, each between markers. Every deoptimisation V8 reports from
 * the first GC on is listed with the function, its reason, and whether it belongs to @weft/core; the exit
 * code is 1 when one does.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine } from '@weft/core';
import { chain, conditionalChain, templatedChain } from './documents.js';

const MARK = '=== weft-deopt';

async function child(variant: string, runs: number, n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const engine = createEngine({
    steps: {
      noop: async () => 1,
      inc: async (ctx: { config: Record<string, unknown> }) => (ctx.config.input as number) + 1,
    },
  });
  const doc =
    variant === 'tpl'
      ? templatedChain(n, 'inc')
      : variant === 'obs'
        ? conditionalChain(n, 'noop')
        : chain(n, 'noop');
  const input = variant === 'tpl' ? { start: 0 } : { go: true };
  const listener = () => {};
  const once = async () => {
    const handle = engine.start(doc, { input });
    if (variant === 'obs')
      for (const e of ['step.started', 'step.completed'] as const) handle.on(e, listener);
    const run = await handle.done;
    if (run.status !== 'COMPLETED') throw new Error(`run ${run.status}`);
  };
  // Fewer warm-up runs for a long chain (W7a: `--steps 10000`): each is ten times the work.
  for (let i = 0; i < (n > 1_000 ? 6 : 30); i++) await once();
  for (let k = 0; k < runs; k++) {
    console.log(`${MARK} gc ${k}`);
    gc();
    await once();
  }
  console.log(`${MARK} end`);
}

interface Deopt {
  at: string;
  fn: string;
  reason: string;
  core: boolean;
}

/** The engine's own functions (the scheduler, runner, compiled paths) as V8 names them. */
const CORE_NAMES =
  /^(#\w+|decide\w*|settle\w*|start\w*|complete\w*|fail\w*|cancel\w*|queue\w*|attempt\w*|run\w*|maybeEnd|isCurrent|unitIndex|afterConditional|configNow|renderNow|configShell|writeAt|ExecutionContext|<instance_members_initializer>|step|field|lastField)$/;

function parse(trace: string): Deopt[] {
  const out: Deopt[] = [];
  let at = '';
  let started = false;
  for (const raw of trace.split('\n')) {
    const line = raw.replace(/0x[0-9a-f]+/g, '');
    if (line.startsWith(MARK)) {
      started = true;
      at = line.slice(MARK.length + 1);
      continue;
    }
    if (!started) continue;
    const dependent = /marking dependent code .*<SharedFunctionInfo ?([^>]*)>\).* reason: (.*)]/.exec(line);
    const bailout = /bailout \(kind: ([^,]*), reason: ([^)]*)\).* deoptimizing +<JSFunction ([^ ]*)/.exec(
      line,
    );
    if (dependent !== null) {
      const fn = dependent[1]!.trim() || '(anonymous)';
      out.push({ at, fn, reason: dependent[2]!, core: CORE_NAMES.test(fn) });
    } else if (bailout !== null) {
      const fn = bailout[3]!;
      out.push({ at, fn, reason: `${bailout[1]}: ${bailout[2]}`, core: CORE_NAMES.test(fn) });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt < 0 ? 5 : Number(args[runsAt + 1]);
  const stepsAt = args.indexOf('--steps');
  const steps = stepsAt < 0 ? 1_000 : Number(args[stepsAt + 1]);
  if (!Number.isInteger(steps) || steps < 2 || steps > 100_000) throw new Error('--steps: 2 to 100,000.');
  const variant = args.find((a) => ['plain', 'obs', 'tpl'].includes(a)) ?? 'plain';
  if (args.includes('--child')) return child(variant, runs, steps);
  const self = fileURLToPath(import.meta.url);
  // V8 prints its traces through C stdio, which a pipe buffers: without `stdbuf -o0` they would come out
  // after the markers they belong before, and be blamed on the wrong run.
  const argv = [
    process.execPath,
    '--expose-gc',
    '--trace-deopt',
    self,
    variant,
    '--runs',
    String(runs),
    '--steps',
    String(steps),
    '--child',
  ];
  const unbuffered = spawnSync('stdbuf', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!unbuffered) console.warn('stdbuf not found: V8 traces may be attributed to the wrong run.');
  const [command, ...rest] = unbuffered ? ['stdbuf', '-o0', '-e0', ...argv] : argv;
  const result = spawnSync(command!, rest, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`the child exited with ${result.status}`);
  }
  const deopts = parse(result.stdout);
  const warmups = steps > 1_000 ? 6 : 30;
  console.log(
    `${variant}: ${runs} runs of ${steps.toLocaleString('en-US')} steps, each after a full GC (after ${warmups} warm-up runs)`,
  );
  for (const d of deopts) console.log(`  ${d.core ? 'ENGINE' : 'other '} ${d.at}: ${d.fn} — ${d.reason}`);
  const core = deopts.filter((d) => d.core);
  console.log(
    core.length === 0
      ? `no deoptimisation in the engine (${deopts.length} elsewhere)`
      : `${core.length} deoptimisation(s) in the engine`,
  );
  if (core.length > 0) process.exitCode = 1;
}

await main();
