/**
 * The real binary in a child process: only what needs a process of its own — the compiled entry point,
 * exit codes as the shell sees them, stdin, and signals. Everything else runs in process (runCli).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ndjson, spawnWeft, start, tempDir } from './helpers.js';

const TRIAGE = 'examples/support-triage/workflow.json';

describe('bin/weft.js', () => {
  it('runs the compiled CLI: exit 0 on a completed run, with the summary on stdout', async () => {
    const r = await spawnWeft(['run', TRIAGE, '-o', 'json']);
    expect(r.stderr).toContain('Dry run');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ queue: 'billing', escalated: true });
  });

  it('exits 1 on a failed run and 2 on bad input, as the shell sees it', async () => {
    const dir = tempDir({ 'fail.json': { steps: [{ type: 'code', key: 'boom', code: '$error("no")' }] } });
    expect((await spawnWeft(['run', join(dir, 'fail.json')])).code).toBe(1);
    const bad = await spawnWeft(['run', 'examples/nope/workflow.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no such workflow');
  });

  it('reads --input @- from its stdin, and prints its version', async () => {
    const r = await spawnWeft(['run', TRIAGE, '--input', '@-', '-o', 'json'], {
      stdin: '{"ticket_id": "T-77"}',
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).ticket_id).toBe('T-77');
    const version = await spawnWeft(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('Ctrl-C', () => {
  it('cancels the run cleanly on SIGINT: status CANCELLED, exit 1, the run still printed', async () => {
    const dir = tempDir({ 'slow.json': { latency_ms: 20_000 } });
    const running = start(['run', TRIAGE, '--fixtures', join(dir, 'slow.json'), '--json']);
    await running.waitForLine(
      (line) => line.includes('"event":"step.started"') && line.includes('"classify"'),
    );
    running.child.kill('SIGINT');
    const r = await running.done;
    expect(r.code).toBe(1);
    const events = ndjson(r.stdout);
    const last = events.at(-1)!;
    expect(last.event).toBe('run.cancelled');
    expect(last.run.status).toBe('CANCELLED');
    expect(last.run.output.classify.status).toBe('CANCELLED');
    expect(events.some((e) => e.event === 'step.cancelled' && e.step_key === 'classify')).toBe(true);
    expect(r.stderr).toContain('Cancelling');
    expect(r.stderr).toContain('CANCELLED');
  });

  it('prints the cancelled run in the human output too', async () => {
    const dir = tempDir({ 'slow.json': { latency_ms: 20_000 } });
    const running = start(['run', TRIAGE, '--fixtures', join(dir, 'slow.json')]);
    // progress goes to stderr: wait for the model step to start there
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (running.child.exitCode !== null) reject(new Error('ended early'));
      }, 50);
      let seen = '';
      running.child.stderr!.on('data', (chunk: string) => {
        seen += String(chunk);
        if (seen.includes('classify (model) started')) {
          clearInterval(timer);
          resolve();
        }
      });
    });
    running.child.kill('SIGINT');
    const r = await running.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('CANCELLED');
    expect(r.stderr).toContain('⊘ classify cancelled');
  });
});
