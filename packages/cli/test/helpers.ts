/**
 * Running the CLI in tests.
 *
 * - `runCli(argv, options)` — the default: `main(argv, io)` in this process with captured stdout/stderr,
 *   the given environment and stdin, in the given working directory (the repository root by default).
 *   A command takes milliseconds instead of a Node start-up. Use it for every command, flag, output and
 *   exit code.
 *   `weft` is the same function (the name tests used when every command spawned a process).
 * - `spawnWeft(argv, options)` / `start(argv, options)` — the real binary (`node bin/weft.js`, compiled
 *   dist/) in a child process. Only for what needs a process of its own: signals, process exit, the
 *   binary itself. dist/ is built by `pnpm build` (the root `vitest run` builds it first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Io } from '../src/commands/run.js';
import { main } from '../src/main.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../bin/weft.js', import.meta.url));

export interface WeftResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface WeftOptions {
  /** The working directory (default: the repository root, so `examples/…` paths work). */
  cwd?: string;
  /** Added to (or, with undefined, removed from) the clean environment of cleanEnv(). */
  env?: Record<string, string | undefined>;
  /** What the command reads on stdin (`--input @-`); default: nothing. */
  stdin?: string;
}

/** Environment variables that would change what weft does: removed so tests see the defaults. */
const AMBIENT = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'OPENAI_BASE_URL',
  'ANTHROPIC_BASE_URL',
  'WEFT_PROVIDER',
  'FORCE_COLOR',
  'WEFT_DEBUG',
];

/** The run database of this test file's `weft run`s: a temporary file, never the repository's .weft/. */
export const TEST_DB = join(mkdtempSync(join(tmpdir(), 'weft-cli-db-')), 'weft.db');

/** The environment of a weft under test: no API keys, no colours, the test run database, plus `extra`. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', WEFT_DB: TEST_DB };
  for (const key of AMBIENT) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A captured output stream: not a terminal, so progress is plain lines and nothing is coloured. */
class Capture extends Writable {
  text = '';
  readonly isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

// Commands resolve paths against process.cwd(): one in-process command at a time, so that a test's
// working directory never leaks into another's.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `weft <argv>` in process through `main(argv, io)`; resolves with its exit code and output. */
export function runCli(argv: readonly string[], options: WeftOptions = {}): Promise<WeftResult> {
  const run = async (): Promise<WeftResult> => {
    const stdout = new Capture();
    const stderr = new Capture();
    const io: Io = {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
      stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
      env: cleanEnv(options.env),
    };
    // commander reads option defaults (`--provider` ← WEFT_PROVIDER) from process.env itself.
    const keys = [...AMBIENT, ...Object.keys(options.env ?? {})];
    const saved = new Map(keys.map((key) => [key, process.env[key]]));
    for (const key of keys) {
      if (io.env[key] === undefined) delete process.env[key];
      else process.env[key] = io.env[key];
    }
    const previous = process.cwd();
    process.chdir(options.cwd ?? ROOT);
    try {
      const code = await main(argv, io);
      return { code, signal: null, stdout: stdout.text, stderr: stderr.text };
    } finally {
      process.chdir(previous);
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

export interface Running {
  child: ChildProcess;
  /** Resolves once a stdout line satisfies `test` (rejects if the process ends first). */
  waitForLine(test: (line: string) => boolean): Promise<string>;
  done: Promise<WeftResult>;
}

/** Starts the real binary (`node bin/weft.js <argv>`) in a child process. */
export function start(args: readonly string[], options: WeftOptions = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  const done = new Promise<WeftResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    done,
    waitForLine(test) {
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        done.then(
          () =>
            reject(new Error(`weft ended before the expected line.\nstdout:\n${stdout}\nstderr:\n${stderr}`)),
          reject,
        );
      });
    },
  };
}

/** `runCli`: in process. */
export const weft = runCli;

/** The real binary in a child process, to the end. */
export function spawnWeft(args: readonly string[], options: WeftOptions = {}): Promise<WeftResult> {
  return start(args, options).done;
}

/** A temporary folder with the given files (objects are written as JSON). */
export function tempDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cli-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(
      join(dir, name),
      typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`,
    );
  }
  return dir;
}

/** Every stdout line parsed as JSON (NDJSON). */
export function ndjson(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}
