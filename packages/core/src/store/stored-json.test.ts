import { describe, expect, it } from 'vitest';
import { deepFreeze } from './copy.js';
import { storedJson } from './stored-json.js';

describe('storedJson', () => {
  it('is JSON.stringify, with null for undefined', () => {
    expect(storedJson(undefined)).toBeNull();
    expect(storedJson(null)).toBe('null');
    expect(storedJson('a"b')).toBe('"a\\"b"');
    expect(storedJson({ b: [1, { c: 2 }], a: 'x' })).toBe('{"b":[1,{"c":2}],"a":"x"}');
  });

  it("serialises a frozen object once; a mutable one's text follows its changes", () => {
    const frozen = deepFreeze({ steps: [{ key: 'a' }] });
    const first = storedJson(frozen);
    expect(storedJson(frozen)).toBe(first);
    expect(storedJson(deepFreeze({ steps: [{ key: 'a' }] }))).toBe(first);
    const mutable: { steps: Array<{ key: string }> } = { steps: [{ key: 'a' }] };
    expect(storedJson(mutable)).toBe(first);
    mutable.steps.push({ key: 'b' });
    expect(storedJson(mutable)).toBe('{"steps":[{"key":"a"},{"key":"b"}]}');
  });
});
