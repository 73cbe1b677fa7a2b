/** Spawning the real `weft` binary (node bin/weft.js) from the repository root. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../bin/weft.js', import.meta.url));

export interface WeftResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface WeftOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
}

/** The run database of this test file's `weft run`s: a temporary file, never the repository's .weft/. */
export const TEST_DB = join(mkdtempSync(join(tmpdir(), 'weft-cli-db-')), 'weft.db');

/** The environment of a spawned weft: no API keys, no colours, the test run database. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', WEFT_DB: TEST_DB };
  for (const key of [
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'OPENAI_BASE_URL',
    'ANTHROPIC_BASE_URL',
    'WEFT_PROVIDER',
    'FORCE_COLOR',
    'WEFT_DEBUG',
  ]) {
    delete env[key];
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface Running {
  child: ChildProcess;
  /** Resolves once a stdout line satisfies `test` (rejects if the process ends first). */
  waitForLine(test: (line: string) => boolean): Promise<string>;
  done: Promise<WeftResult>;
}

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

export function weft(args: readonly string[], options: WeftOptions = {}): Promise<WeftResult> {
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
