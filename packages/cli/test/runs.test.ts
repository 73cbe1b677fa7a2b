/** Run history: `weft run` records runs in a SQLite file; `weft runs list|show|replay|cancel|wait`. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRow } from '@weft/core/store';
import { sqliteStore } from '@weft/store-sqlite';
import { describe, expect, it } from 'vitest';
import { ndjson, start, tempDir, weft } from './helpers.js';

const twoSteps = {
  steps: [
    { type: 'code', key: 'a', code: 'input.n + 1', destinations: ['b'] },
    { type: 'code', key: 'b', code: 'a.output * 2' },
  ],
};

/** A run row as the registry writes it, for runs this test plants in a database. */
function plantedRun(id: string, extra: Partial<RunRow> = {}): RunRow {
  const now = new Date().toISOString();
  return {
    id,
    result: null,
    input: {},
    status: 'RUNNING',
    origin: 'WORKFLOW',
    error: null,
    started_at: now,
    ended_at: null,
    app_id: 'local',
    workflow_app_id: 'local',
    workflow_id: null,
    workflow_version_draft: twoSteps as never,
    workflow_version: null,
    collection_id: null,
    record_id: null,
    version: null,
    usage: { total: 0, calls: [], steps: {} },
    retention: null,
    retention_due_at: null,
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: now,
    replay_of: null,
    purged_at: null,
    ...extra,
  };
}

const runsOf = async (dir: string, db?: string) => {
  const r = await weft(['runs', 'list', '--json', ...(db === undefined ? [] : ['--db', db])], {
    cwd: dir,
    env: { WEFT_DB: undefined },
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).data as Array<Record<string, any>>;
};

describe('weft run records the run', () => {
  it('in ./.weft/weft.db by default; --store memory records nothing; --db and weft.json choose the file', async () => {
    const dir = tempDir({ 'wf.json': twoSteps });
    const env = { WEFT_DB: undefined };
    const r = await weft(['run', 'wf.json', '--input', '{"n": 1}', '-o', 'json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('4');
    expect(r.stderr).toMatch(/Recorded as run \S+ in \.weft\/weft\.db \(weft runs show \S+\)/);
    expect(existsSync(join(dir, '.weft', 'weft.db'))).toBe(true);
    const [run] = await runsOf(dir);
    expect(run).toMatchObject({ status: 'COMPLETED', result: 4, input: { n: 1 }, app_id: 'local' });
    expect(run!.output.b.output).toBe(4);

    const memory = await weft(['run', 'wf.json', '-i', '{"n": 2}', '--store', 'memory', '-o', 'json'], {
      cwd: dir,
      env,
    });
    expect(memory.code).toBe(0);
    expect(memory.stderr).not.toContain('Recorded as');
    expect(await runsOf(dir)).toHaveLength(1);

    expect(
      (await weft(['run', 'wf.json', '-i', '{"n": 2}', '--db', 'other.db'], { cwd: dir, env })).code,
    ).toBe(0);
    expect(await runsOf(dir, 'other.db')).toHaveLength(1);

    const configured = tempDir({ 'wf.json': twoSteps, 'weft.json': { db: 'history/runs.db' } });
    expect((await weft(['run', 'wf.json', '-i', '{"n": 2}'], { cwd: configured, env })).code).toBe(0);
    expect(existsSync(join(configured, 'history', 'runs.db'))).toBe(true);
    expect(await runsOf(configured)).toHaveLength(1);
  });

  it('never writes a --secret to the database file', async () => {
    const dir = tempDir({
      'wf.json': { steps: [{ type: 'code', key: 'greet', code: '"token " & $vars.token' }] },
    });
    const r = await weft(['run', 'wf.json', '--secret', 'token=s3cr3t-value', '-o', 'json'], {
      cwd: dir,
      env: { WEFT_DB: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[secret]');
    for (const file of ['weft.db', 'weft.db-wal']) {
      const path = join(dir, '.weft', file);
      if (existsSync(path)) expect(readFileSync(path).includes('s3cr3t-value')).toBe(false);
    }
  });

  it('refuses a version file whose number is recorded with other content (versions never change)', async () => {
    const version = { workflow_id: 'wf_v', version: 1, steps: [{ type: 'code', key: 'a', code: '1' }] };
    const dir = tempDir({ 'v.json': version });
    const env = { WEFT_DB: undefined };
    expect((await weft(['run', 'v.json'], { cwd: dir, env })).code).toBe(0);
    expect((await weft(['run', 'v.json'], { cwd: dir, env })).code).toBe(0);
    const changed = tempDir({ 'v.json': { ...version, steps: [{ type: 'code', key: 'a', code: '2' }] } });
    const r = await weft(['run', 'v.json', '--db', join(dir, '.weft', 'weft.db')], { cwd: changed, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /version 1 .* of workflow "wf_v" is already recorded .* published versions never change/,
    );
  });
});

describe('weft runs', () => {
  it('list, show, replay --from-step', async () => {
    const dir = tempDir({ 'wf.json': twoSteps });
    const env = { WEFT_DB: undefined };
    expect((await weft(['run', 'wf.json', '--input', '{"n": 1}'], { cwd: dir, env })).code).toBe(0);
    const [first] = await runsOf(dir);

    const list = await weft(['runs', 'list'], { cwd: dir, env });
    expect(list.code).toBe(0);
    const [header, row] = list.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['ID', 'WORKFLOW', 'STATUS', 'STARTED', 'DURATION', 'CREDITS']);
    expect(row).toContain(first!.id);
    expect(row).toContain('wf.json');
    expect(row).toMatch(/COMPLETED\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+0$/);

    const show = await weft(['runs', 'show', first!.id], { cwd: dir, env });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`run ${first!.id}`);
    expect(show.stdout).toMatch(/✔ a\s+code\s+completed/);
    expect(show.stdout).toMatch(/✔ b\s+code\s+completed/);
    expect(show.stdout).toMatch(/✔ COMPLETED in \S+/);
    expect(show.stdout).toMatch(/result:\n\s+4/);
    const asJson = await weft(['runs', 'show', first!.id, '-o', 'run'], { cwd: dir, env });
    expect(JSON.parse(asJson.stdout)).toMatchObject({ id: first!.id, status: 'COMPLETED', result: 4 });

    const replay = await weft(['runs', 'replay', first!.id, '--from-step', 'b', '-o', 'run'], {
      cwd: dir,
      env,
    });
    expect(replay.code, replay.stderr).toBe(0);
    const again = JSON.parse(replay.stdout);
    expect(again.result).toBe(4);
    const runs = await runsOf(dir);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ id: again.id, replay_of: first!.id, input: { n: 1 } });
    // The upstream step kept the original's record; b ran again.
    expect(runs[0]!.output.a.start).toBe(first!.output.a.start);
    expect(runs[0]!.output.b.start).not.toBe(first!.output.b.start);

    const filtered = await weft(['runs', 'list', '--status', 'failed', '--json'], { cwd: dir, env });
    expect(JSON.parse(filtered.stdout).data).toEqual([]);
  });

  it('say clearly when there is no database, no such run, or a file that is not a run database', async () => {
    const dir = tempDir({});
    const env = { WEFT_DB: undefined };
    const none = await weft(['runs', 'list'], { cwd: dir, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('.weft/weft.db: no run database here');
    expect(existsSync(join(dir, '.weft'))).toBe(false);

    const path = join(dir, 'runs.db');
    sqliteStore({ path }).close();
    const missing = await weft(['runs', 'show', 'nope', '--db', path], { cwd: dir, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No run "nope" in the run database');

    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database '.repeat(200));
    const broken = await weft(['runs', 'list', '--db', junk], { cwd: dir, env });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/junk\.db: The SQLite store .* is not a \(healthy\) SQLite database/);
  });

  it('cancel from another process stops a running weft run; wait returns how it ended', async () => {
    const dir = tempDir({
      'slow.json': {
        steps: [
          {
            type: 'model',
            key: 'think',
            provider: {
              provider: 'openai',
              model: 'gpt-4o-mini',
              messages: [{ role: 'user', content: 'hi' }],
            },
            destinations: ['after'],
          },
          { type: 'code', key: 'after', code: 'think.output' },
        ],
      },
      'slow.fixtures.json': { latency_ms: 120_000 },
    });
    const env = { WEFT_DB: undefined };
    const running = start(['run', 'slow.json', '--json'], { cwd: dir, env });
    const started = JSON.parse(await running.waitForLine((l) => l.includes('"step.started"')));
    const id = started.run_id as string;
    // The run's row is committed with its first journal batch, at the end of the macrotask in which it
    // started: on a loaded machine an event line can be read before it is there.
    for (
      let i = 0;
      i < 20 && (await weft(['runs', 'show', id], { cwd: dir, env })).stderr.includes('No run');
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const waiting = start(['runs', 'wait', id], { cwd: dir, env });
    const cancel = await weft(['runs', 'cancel', id, '--reason', 'enough'], { cwd: dir, env });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain('CANCELLED');
    const ran = await running.done;
    expect(ran.code).toBe(1);
    const events = ndjson(ran.stdout);
    expect(events.at(-1)).toMatchObject({ event: 'run.cancelled', run_id: id });
    const waited = await waiting.done;
    expect(waited.code).toBe(1);
    expect(waited.stdout).toContain('CANCELLED');
    const again = await weft(['runs', 'cancel', id], { cwd: dir, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has already ended (CANCELLED)');
  });

  it('a run whose process died (no live lease) is shown as such, and wait fails at once instead of hanging', async () => {
    const dir = tempDir({});
    const path = join(dir, 'runs.db');
    const store = sqliteStore({ path });
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await store.insertRun(plantedRun('orphan'), { owner_id: 'dead-process', lease_until: past });
    await store.insertRun(plantedRun('busy'), { owner_id: 'live-process', lease_until: future });
    store.close();
    const env = { WEFT_DB: path };
    const list = await weft(['runs', 'list'], { cwd: dir, env });
    expect(list.stdout).toMatch(/orphan\s+RUNNING \(no live owner\)/);
    expect(list.stdout).toMatch(/busy\s+RUNNING\s/);

    const orphan = await weft(['runs', 'wait', 'orphan'], { cwd: dir, env });
    expect(orphan.code).toBe(1);
    expect(orphan.stderr).toContain('no process holds its lease');

    const busy = await weft(['runs', 'wait', 'busy', '--timeout', '0.5'], { cwd: dir, env });
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain('still RUNNING after 0.5s');

    const show = await weft(['runs', 'show', 'orphan'], { cwd: dir, env });
    expect(show.stdout).toContain('no process holds its lease');
  });
});

describe('weft runs resume', () => {
  it('resumes a run nobody holds from its journal; refuses a run a live process holds or one that ended', async () => {
    const dir = tempDir({});
    const path = join(dir, 'runs.db');
    const store = sqliteStore({ path });
    const past = new Date(Date.now() - 60_000).toISOString();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await store.insertRun(plantedRun('orphan', { input: { n: 1 } }), {
      owner_id: 'dead-process',
      lease_until: past,
    });
    await store.insertRun(plantedRun('busy', { input: { n: 1 } }), {
      owner_id: 'live-process',
      lease_until: future,
    });
    store.close();
    const env = { WEFT_DB: path };

    const resumed = await weft(['runs', 'resume', 'orphan', '-o', 'json'], { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toBe(4);
    const shown = await weft(['runs', 'show', 'orphan', '-o', 'run'], { cwd: dir, env });
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: 'orphan', status: 'COMPLETED', result: 4 });

    const busy = await weft(['runs', 'resume', 'busy'], { cwd: dir, env });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('its lease is held by a live process');
    expect(busy.stderr).toContain('weft runs wait busy');

    const ended = await weft(['runs', 'resume', 'orphan'], { cwd: dir, env });
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('has already ended (COMPLETED)');

    const missing = await weft(['runs', 'resume', 'nope'], { cwd: dir, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No run "nope"');

    const badLease = await weft(['runs', 'resume', 'busy'], {
      cwd: dir,
      env: { ...env, WEFT_LEASE_MS: '5' },
    });
    expect(badLease.code).toBe(2);
    expect(badLease.stderr).toContain('WEFT_LEASE_MS=5');
  });

  it('a weft run killed mid-run is resumed by weft runs resume: its completed steps are not run again', async () => {
    const dir = tempDir({
      'slow.json': {
        steps: [
          { type: 'code', key: 'first', code: '"one"', destinations: ['think'] },
          {
            type: 'model',
            key: 'think',
            provider: {
              provider: 'openai',
              model: 'gpt-4o-mini',
              messages: [{ role: 'user', content: 'hi' }],
            },
            destinations: ['after'],
          },
          { type: 'code', key: 'after', code: 'first.output & "+" & $string(think.output.message)' },
        ],
      },
      'slow.fixtures.json': { latency_ms: 120_000 },
    });
    const env = { WEFT_DB: undefined, WEFT_LEASE_MS: '1000' };
    const running = start(['run', 'slow.json', '--json'], { cwd: dir, env });
    const started = JSON.parse(
      await running.waitForLine((l) => l.includes('"step.started"') && l.includes('"think"')),
    );
    const id = started.run_id as string;
    // `first` is in the store once its journal batch is committed (the macrotask after it settled).
    let before: Record<string, any> | null = null;
    for (let i = 0; i < 50; i++) {
      const shown = await weft(['runs', 'show', id, '-o', 'run'], { cwd: dir, env });
      if (shown.code !== 2) {
        const run = JSON.parse(shown.stdout);
        if (run.output?.first?.status === 'COMPLETED') {
          before = run;
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(before, 'the first step was recorded as COMPLETED').not.toBeNull();
    running.child.kill('SIGKILL');
    await running.done;
    // The provider is fixed meanwhile (no more latency): resume uses the workflow file's providers now.
    writeFileSync(join(dir, 'slow.fixtures.json'), JSON.stringify({ latency_ms: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the killed process's lease ends

    const resumed = await weft(['runs', 'resume', id, '--json'], { cwd: dir, env });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const events = ndjson(resumed.stdout);
    // The step that was running runs again (its step.started is in the journal already); `first` does not.
    const keys = events.map((e) => e.step_key);
    expect(keys).not.toContain('first');
    expect(events.filter((e) => e.event === 'step.completed').map((e) => e.step_key)).toEqual([
      'think',
      'after',
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'run.completed', run_id: id });
    const after = JSON.parse((await weft(['runs', 'show', id, '-o', 'run'], { cwd: dir, env })).stdout);
    expect(after.status).toBe('COMPLETED');
    expect(after.output.first).toMatchObject({
      status: 'COMPLETED',
      output: 'one',
      start: before!.output.first.start,
      end: before!.output.first.end,
    });
    expect(String(after.result)).toMatch(/^one\+/);
  });
});
