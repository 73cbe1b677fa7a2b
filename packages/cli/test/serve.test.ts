/**
 * `weft serve` and `weft keys`, as a user runs them. `serve` is spawned on purpose: what is tested is the
 * process — its signals, its output, its exit code; `keys` runs in process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { start, tempDir, weft } from './helpers.js';

const slow = {
  steps: [
    {
      type: 'model',
      key: 'think',
      provider: { provider: 'scripted', model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    },
  ],
};

function project() {
  return tempDir({
    'workflows/greeter.json': { steps: [{ type: 'code', key: 'greet', code: '"Hello, " & input.name' }] },
    'workflows/slow/workflow.json': slow,
    'workflows/broken.json': { steps: [{ type: 'code', key: 'a', code: '1', destinations: ['nowhere'] }] },
    'workflows/greeter.tests.json': [],
    'fixtures.json': { latency_ms: 60_000, default: 'done' },
  });
}

/** Each test its own database, in its project folder. */
const dbOf = (cwd: string) => ({ WEFT_DB: join(cwd, 'weft.db') });

async function listening(run: ReturnType<typeof start>) {
  const line = await run.waitForLine((l) => l.startsWith('Weft server listening on '));
  return line.slice('Weft server listening on '.length).trim();
}

describe('weft serve', () => {
  it('serves a folder, prints the URL and a first key, and stops on SIGTERM suspending what outlives --grace', async () => {
    const cwd = project();
    const env = dbOf(cwd);
    const args = [
      'serve',
      'workflows',
      '--port',
      '0',
      '--fixtures',
      'fixtures.json',
      '--grace',
      '200',
      '--suspend-grace',
      '100',
    ];
    const run = start(args, { cwd, env });
    // Both waiters at once: the two lines may arrive in one chunk.
    const [url, keyLine] = await Promise.all([
      listening(run),
      run.waitForLine((l) => l.startsWith('API key')),
    ]);
    const key = /weft_[A-Za-z0-9_-]{43}/.exec(keyLine)![0];
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    const list = await fetch(`${url}/apps/c/workflows`, { headers });
    expect(list.status).toBe(200);
    const workflows = (await list.json()) as Array<{ id: string; latest_version: number | null }>;
    // Custom ids are scoped to their app (issue 11): the folder's files are default:<file>, and the app names
    // them by the short form too.
    expect(workflows.map((w) => [w.id, w.latest_version]).sort()).toEqual([
      ['default:broken', null],
      ['default:greeter', 1],
      ['default:slow', 1],
    ]);
    const run1 = await fetch(`${url}/apps/default/workflows/greeter/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ input: { name: 'Ada' } }),
    });
    expect(((await run1.json()) as { result: string }).result).toBe('Hello, Ada');
    const background = await fetch(`${url}/apps/c/workflows/slow/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ background: true }),
    });
    const running = (await background.json()) as { id: string; status: string };
    expect(running.status).toBe('RUNNING');

    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('! broken');
    expect(result.stderr).toContain('not published (invalid)');
    expect(result.stderr).toContain(`0 cancelled, 1 suspended: ${running.id}`);
    expect(result.stderr).toMatch(/Store: .*weft\.db/);
    // Only the hash was written.
    expect(readFileSync(join(cwd, 'weft.db')).includes(key)).toBe(false);
    const listed = await weft(['keys', 'list', '--app', 'default', '--json'], { cwd, env });
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ app_id: 'default', name: 'weft serve' }),
    ]);
  });

  it('SIGTERM suspends a run in flight: its completed steps are kept, and the next serve completes it', async () => {
    const cwd = tempDir({
      'workflows/chain.json': {
        steps: [
          { type: 'code', key: 'first', code: '"first"', destinations: ['think'] },
          { ...slow.steps[0], destinations: ['last'] },
          { type: 'code', key: 'last', code: '"after " & first.output' },
        ],
      },
      'fixtures.json': { latency_ms: 60_000, default: 'done' },
    });
    const env = dbOf(cwd);
    const args = ['serve', 'workflows', '--port', '0', '--fixtures', 'fixtures.json'];
    const first = start([...args, '--grace', '50', '--suspend-grace', '50'], { cwd, env });
    const [url, keyLine] = await Promise.all([
      listening(first),
      first.waitForLine((l) => l.startsWith('API key')),
    ]);
    const key = /weft_[A-Za-z0-9_-]{43}/.exec(keyLine)![0];
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const started = await fetch(`${url}/apps/c/workflows/chain/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ background: true }),
    });
    const { id } = (await started.json()) as { id: string };
    type WireRun = { status: string; result: unknown; output: Record<string, { status: string }> };
    const read = async (base: string) =>
      (await (await fetch(`${base}/apps/c/workflows/chain/runs/${id}`, { headers })).json()) as WireRun;
    let before = await read(url);
    for (let i = 0; i < 500 && before.output.first?.status !== 'COMPLETED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      before = await read(url);
    }
    const firstStep = before.output.first;
    expect(firstStep?.status).toBe('COMPLETED');

    first.child.kill('SIGTERM'); // `think` waits 60 s for its reply: abandoned, it runs again on resume
    const stopped = await first.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain(`1 suspended: ${id}`);

    // The same store, replies without delay now: the restarted server resumes the run at once.
    writeFileSync(join(cwd, 'fixtures.json'), JSON.stringify({ latency_ms: 0, default: 'done' }));
    const second = start([...args, '--grace', '1000'], { cwd, env });
    const again = await listening(second);
    let after = await read(again);
    for (let i = 0; i < 500 && after.status !== 'COMPLETED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      after = await read(again);
    }
    expect(after).toMatchObject({ status: 'COMPLETED', result: 'after first' });
    // `first` completed before the stop: its record is the one written then (it did not run again).
    expect(after.output.first).toEqual(firstStep);
    second.child.kill('SIGTERM');
    const result = await second.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('0 suspended');
  });

  it('weft keys create prints a key once; serve accepts it, and keeps its runs and keys across a restart', async () => {
    const cwd = project();
    const env = dbOf(cwd);
    const created = await weft(['keys', 'create', '--app', 'shop', '--name', 'ci', '--json'], { cwd, env });
    expect(created.code).toBe(0);
    const { key, id, app_id } = JSON.parse(created.stdout) as { key: string; id: string; app_id: string };
    expect(app_id).toBe('shop');
    expect(readFileSync(join(cwd, 'weft.db')).includes(key)).toBe(false);
    const listed = await weft(['keys', 'list', '--app', 'shop', '--json'], { cwd, env });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, app_id: 'shop', name: 'ci' })]);

    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    let firstRun = '';
    for (let i = 0; i < 2; i++) {
      const run = start(['serve', 'workflows', '--app', 'shop', '--port', '0'], { cwd, env });
      const url = await listening(run);
      expect((await fetch(`${url}/apps/shop/workflows/greeter`, { headers })).status).toBe(200);
      expect((await fetch(`${url}/apps/default/workflows/greeter`, { headers })).status).toBe(404);
      if (i === 0) {
        const answer = await fetch(`${url}/apps/c/workflows/greeter/runs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ input: { name: 'Ada' } }),
        });
        firstRun = ((await answer.json()) as { id: string }).id;
      } else {
        // The store is the SQLite file: the run of the first start is still there.
        const again = await fetch(`${url}/apps/c/workflows/greeter/runs/${firstRun}`, { headers });
        expect(((await again.json()) as { result: string }).result).toBe('Hello, Ada');
      }
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain('API key (shown once');
    }
    expect((await weft(['keys', 'revoke', id], { cwd, env })).code).toBe(0);
    const after = await weft(['keys', 'list', '--app', 'shop', '--json'], { cwd, env });
    expect(JSON.parse(after.stdout)).toEqual([]);
  });

  it('refuses bad flags and folders with a clear message', async () => {
    const cwd = project();
    const env = dbOf(cwd);
    const badPort = await weft(['serve', 'workflows', '--port', 'x'], { cwd, env });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port');
    const missing = await weft(['serve', 'nowhere'], { cwd, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such folder');
    const badApp = await weft(['keys', 'create', '--app', 'c'], { cwd, env });
    expect(badApp.code).toBe(2);
    expect(badApp.stderr).toContain('appId');
    const unknown = await weft(['keys', 'revoke', 'key_nope'], { cwd, env });
    expect(unknown.code).toBe(2);
  });
});
