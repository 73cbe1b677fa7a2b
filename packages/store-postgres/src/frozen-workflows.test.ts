/** getFrozenWorkflow's cache on its own (no server): sharing by text, least recently read first, bounds. */
import { workflowFixture } from '@weft/testing/store-contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import { FrozenWorkflows } from './frozen-workflows.js';

const text = (id: string, name = 'w') => JSON.stringify(workflowFixture(id, 'a', 0, { name }));

describe('FrozenWorkflows', () => {
  it('one deep-frozen object per stored text; a changed text is parsed anew', () => {
    const cache = new FrozenWorkflows();
    const first = cache.stored('w', text('w'));
    expect(Object.isFrozen(first) && Object.isFrozen(first.draft)).toBe(true);
    expect(cache.stored('w', text('w'))).toBe(first);
    const entry = cache.candidate('w')!;
    expect(entry.body).toBe(text('w'));
    expect(cache.same('w', entry)).toBe(first);
    const changed = cache.stored('w', text('w', 'renamed'));
    expect(changed).not.toBe(first);
    expect(changed.name).toBe('renamed');
    expect(first.name).toBe('w');
    // A read that compared with the old entry while another replaced it gets what it compared with,
    // and does not put the old entry back.
    expect(cache.same('w', entry)).toBe(first);
    expect(cache.candidate('w')!.workflow).toBe(changed);
    cache.delete('w');
    expect(cache.candidate('w')).toBeUndefined();
    expect(cache.chars).toBe(0);
  });

  it('keeps at most maxEntries, dropping the least recently read', () => {
    const cache = new FrozenWorkflows(2);
    cache.stored('a', text('a'));
    cache.stored('b', text('b'));
    cache.same('a', cache.candidate('a')!);
    cache.stored('c', text('c'));
    expect(cache.ids()).toEqual(['a', 'c']);
  });

  it('keeps at most maxChars of text; a longer text alone is frozen but not kept', () => {
    const a = text('a');
    const cache = new FrozenWorkflows(100, a.length * 2);
    cache.stored('a', a);
    cache.stored('b', text('b'));
    cache.stored('c', text('c'));
    expect(cache.ids()).toEqual(['b', 'c']);
    expect(cache.chars).toBe(a.length * 2);
    const long = JSON.stringify(workflowFixture('d', 'a', 0, { name: 'x'.repeat(a.length * 2) }));
    const d = cache.stored('d', long);
    expect(Object.isFrozen(d)).toBe(true);
    expect(cache.ids()).toEqual(['b', 'c']);
  });

  it('property: entries and characters stay bounded and match a model of the last text stored per id', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('store' as const),
        id: fc.constantFrom('a', 'b', 'c', 'd'),
        name: fc.string({ maxLength: 40 }),
      }),
      fc.record({ kind: fc.constant('same' as const), id: fc.constantFrom('a', 'b', 'c', 'd') }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.constantFrom('a', 'b', 'c', 'd') }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 100, max: 600 }),
        fc.array(op, { maxLength: 40 }),
        (maxEntries, maxChars, ops) => {
          const cache = new FrozenWorkflows(maxEntries, maxChars);
          const stored = new Map<string, string>();
          for (const o of ops) {
            if (o.kind === 'store') {
              const body = text(o.id, o.name);
              const workflow = cache.stored(o.id, body);
              expect(workflow).toEqual(JSON.parse(body));
              expect(Object.isFrozen(workflow)).toBe(true);
              stored.set(o.id, body);
            } else if (o.kind === 'same') {
              const entry = cache.candidate(o.id);
              if (entry !== undefined) expect(cache.same(o.id, entry)).toBe(entry.workflow);
            } else {
              cache.delete(o.id);
              stored.delete(o.id);
            }
            expect(cache.size).toBeLessThanOrEqual(maxEntries);
            expect(cache.chars).toBeLessThanOrEqual(maxChars);
            let chars = 0;
            for (const id of cache.ids()) {
              const entry = cache.candidate(id)!;
              // Whatever is kept is the text last stored for its id, and the object parsed from it.
              expect(entry.body).toBe(stored.get(id));
              expect(entry.workflow).toEqual(JSON.parse(entry.body));
              chars += entry.body.length;
            }
            expect(cache.chars).toBe(chars);
          }
        },
      ),
      { numRuns: fcRuns(100) },
    );
  });
});
