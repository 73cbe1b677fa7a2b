/**
 * The CI smoke of the benchmark suite: runs `dist/main.js --quick` (every workload at a tiny size, once)
 * and asserts only that each workload ran and its correctness checks held — statuses, caps never
 * exceeded. Timings are never asserted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/main.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
let report: Report;
let output = '';

beforeAll(async () => {
  const file = join(dir, 'report.json');
  output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', main, '--quick', '--json', file],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    );
  });
  report = JSON.parse(readFileSync(file, 'utf8')) as Report;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench --quick', () => {
  it('prints the machine and the results table', () => {
    expect(output).toMatch(/Machine: .+ Node v\d+/);
    expect(output).toContain(
      '| | workload | Weft | Weft CPU time | baseline (plain JS) | ratio | target | met | warm (sync handler, no GC) |',
    );
    expect(report.quick).toBe(true);
    expect(report.machine.node).toBe(process.version);
  });

  it.each([
    'W1',
    'W1-fresh',
    'W1-obs',
    'W1-tpl',
    'W2',
    'W3',
    'W4',
    'W5',
    'W5b',
    'W5-js',
    'W5b-js',
    'W6',
    'W7a',
    'W7b',
    'W8a',
    'W8b',
    'W8a-js',
    'W8b-js',
    'W9',
    'W10',
    'W11',
    'W12',
    'W15',
    'S1a',
    'S1b',
    'S1c',
    'S1d',
    'S2a',
    'S2c',
    'S2d',
    'S2e',
    'W13',
    'W14',
  ])('%s ran with its baseline and its checks held', (id) => {
    const row = report.rows.find((r) => r.id === id);
    expect(row, `${id} is missing from the report`).toBeDefined();
    expect(row!.weft.n).toBeGreaterThan(0);
    expect(row!.baseline.n).toBeGreaterThan(0);
    expect(Number.isFinite(row!.weft.median)).toBe(true);
    expect(Number.isFinite(row!.baseline.median)).toBe(true);
    expect(Object.keys(row!.checks).length).toBeGreaterThan(0);
    for (const [check, ok] of Object.entries(row!.checks)) expect(ok, check).toBe(true);
  });
});
