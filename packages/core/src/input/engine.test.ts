/** engine.start / engine.run check the run input exactly as the registry does: INVALID_INPUT, no run. */
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors.js';
import { createEngine } from '../run/engine.js';

const doc = {
  steps: [
    {
      type: 'input',
      key: 'in',
      input: { name: { type: 'string' }, age: { type: 'number' } },
      destinations: ['out'],
    },
    { type: 'code', key: 'out', code: 'input.name & " is " & $string(input.age)' },
  ],
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('engine input checking', () => {
  it('start throws INVALID_INPUT listing every problem, and no run is created', () => {
    const engine = createEngine();
    const events: string[] = [];
    engine.on('run.started', () => events.push('started'));
    const error = thrown(() => engine.start(doc, { input: { age: 'ten' } }));
    expect(isWeftError(error) && error.code).toBe('INVALID_INPUT');
    const problems = (error as { details: { problems: Array<{ path: string }> } }).details.problems;
    expect(problems.map((p) => p.path)).toEqual(['/name', '/age']);
    expect(engine.active.size).toBe(0);
    expect(events).toEqual([]);
  });

  it('run rejects with the same error (docs/api.md: a Promise-returning function never throws); a fitting input runs', async () => {
    const engine = createEngine();
    await expect(engine.run(doc, { input: { name: 'Ada' } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const run = await engine.run(doc, { input: { name: 'Ada', age: 36 } });
    expect(run.result).toBe('Ada is 36');
  });

  it('input_default counts, and check_input: false skips the check (replays)', async () => {
    const engine = createEngine();
    const withDefaults = { ...doc, input_default: { name: 'Ada', age: 1 } };
    expect((await engine.run(withDefaults, {})).status).toBe('COMPLETED');
    const run = await engine.run(doc, { input: { age: 'ten' }, check_input: false });
    expect(run.status).toBe('COMPLETED');
  });
});
