/**
 * `weft serve` and `weft keys`, as a user runs them: the real binary, a real port, SIGTERM. (Spawned on
 * purpose: what is tested is the process — its signals, its output, its exit code.)
 */
import { readFileSync } from 'node:fs';
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

async function listening(run: ReturnType<typeof start>) {
  const line = await run.waitForLine((l) => l.startsWith('Weft server listening on '));
  const url = line.slice('Weft server listening on '.length).trim();
  return url;
}

describe('weft serve', () => {
  it('serves a folder, prints the URL and a first key, and stops on SIGTERM cancelling what outlives --grace', async () => {
    const cwd = project();
    const run = start(
      ['serve', 'workflows', '--port', '0', '--fixtures', 'fixtures.json', '--grace', '200'],
      { cwd },
    );
    // Both waiters at once: the two lines may arrive in one chunk.
    const [url, keyLine] = await Promise.all([
      listening(run),
      run.waitForLine((l) => l.startsWith('API key')),
    ]);
    const key = /weft_[A-Za-z0-9_-]{43}/.exec(keyLine)![0];
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

    const list = await fetch(`${url}/apps/c/workflows`, { headers });
    expect(list.status).toBe(200);
    const ids = ((await list.json()) as Array<{ id: string; latest_version: number | null }>).map((w) => [
      w.id,
      w.latest_version,
    ]);
    expect(ids.sort()).toEqual([
      ['broken', null],
      ['greeter', 1],
      ['slow', 1],
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
    expect(result.stderr).toContain(`1 cancelled: ${running.id}`);
    expect(result.stderr).toMatch(/Store: memory/);
    // Only the hash was written.
    const file = readFileSync(join(cwd, '.weft', 'api-keys.json'), 'utf8');
    expect(file).not.toContain(key);
    expect(JSON.parse(file).keys).toHaveLength(1);
  });

  it('weft keys create prints a key once; serve accepts it, and keeps accepting it after a restart', async () => {
    const cwd = project();
    const created = await weft(['keys', 'create', '--app', 'shop', '--name', 'ci', '--json'], { cwd });
    expect(created.code).toBe(0);
    const { key, id, app_id } = JSON.parse(created.stdout) as { key: string; id: string; app_id: string };
    expect(app_id).toBe('shop');
    expect(readFileSync(join(cwd, '.weft', 'api-keys.json'), 'utf8')).not.toContain(key);
    const listed = await weft(['keys', 'list', '--json'], { cwd });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, app_id: 'shop', name: 'ci' })]);

    for (let i = 0; i < 2; i++) {
      const run = start(['serve', 'workflows', '--app', 'shop', '--port', '0'], { cwd });
      const url = await listening(run);
      const answer = await fetch(`${url}/apps/shop/workflows/greeter`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(answer.status).toBe(200);
      const other = await fetch(`${url}/apps/default/workflows/greeter`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(other.status).toBe(404);
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain('API key (shown once');
    }
  });

  it('refuses bad flags and folders with a clear message', async () => {
    const cwd = project();
    const badPort = await weft(['serve', 'workflows', '--port', 'x'], { cwd });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port');
    const missing = await weft(['serve', 'nowhere'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such folder');
    const badApp = await weft(['keys', 'create', '--app', 'c'], { cwd });
    expect(badApp.code).toBe(2);
    expect(badApp.stderr).toContain('appId');
  });
});
