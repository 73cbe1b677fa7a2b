/** The safety net: a bug inside the validator becomes an INTERNAL problem, never an exception. */
import { describe, expect, it, vi } from 'vitest';
import { validateVersion } from './index.js';

vi.mock('./graph.js', () => ({
  findCycles: () => {
    throw new Error('a bug');
  },
  unreachable: () => [],
}));

describe('INTERNAL', () => {
  it('is reported (with what was found before it), not thrown', () => {
    const result = validateVersion({ steps: [{ type: 'input', key: 'in', destinations: ['nope'] }] });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([
      ['DANGLING_DESTINATION', '/steps/0/destinations/0'],
      ['INTERNAL', ''],
    ]);
    expect(result.problems[1]!.message).toContain('a bug');
  });
});
