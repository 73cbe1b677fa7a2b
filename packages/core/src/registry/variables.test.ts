/** Per-app variables: set, list (secrets hidden), delete; runs see them as $vars, secrets redacted. */
import { describe, expect, it } from 'vitest';
import { code, codeOf, draft, setup } from './test-support/fixtures.js';

describe('variables', () => {
  it('listing never returns secret values', async () => {
    const { a, b } = setup();
    await a.variables.set('greeting', 'hello');
    const secret = await a.variables.set('api_key', 'sk-123', { secret: true });
    expect(secret).not.toHaveProperty('value');
    const list = await a.variables.list();
    expect(list.map((v) => [v.key, v.secret, v.value])).toEqual([
      ['api_key', true, undefined],
      ['greeting', false, 'hello'],
    ]);
    expect(JSON.stringify(list)).not.toContain('sk-123');
    expect(await b.variables.list()).toEqual([]);
    await a.variables.delete('greeting');
    expect((await a.variables.list()).map((v) => v.key)).toEqual(['api_key']);
    expect(await codeOf(a.variables.delete('greeting'))).toBe('NOT_FOUND');
    expect(await codeOf(a.variables.set('1bad', 1))).toBe('INVALID_ARGUMENT');
  });

  it('runs see the variables of the workflow’s app as $vars; secret values are redacted from the run', async () => {
    const { a, b } = setup();
    await a.variables.set('greeting', 'hello');
    await a.variables.set('token', 'tok-999', { secret: true });
    await b.variables.set('greeting', 'not yours');
    const w = await a.workflows.create({
      name: 'w',
      discoverable: true,
      draft: draft([code('c', '$vars.greeting & " " & $vars.token')]),
    });
    const run = await a.runs.run(w.id, { version: 'draft' });
    expect(run.result).toBe('hello [secret]');
    await a.versions.publish(w.id);
    expect((await b.discover.run(w.id)).result).toBe('hello [secret]');
  });
});
