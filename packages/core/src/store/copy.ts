/**
 * Deep copy for the memory store, so that what callers hold never aliases what is stored. Plain objects
 * and arrays are copied (iteratively: deep values are safe); frozen values are immutable and shared;
 * anything else (Date, class instances) is kept by reference.
 */
import { deepFreeze } from '../freeze.js';
import { setOwn } from '../json-data.js';

export { deepFreeze };
export function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  const root: { v: unknown } = { v: undefined };
  const stack: Array<{ src: unknown; dst: Record<string | number, unknown>; key: string | number }> = [
    { src: value, dst: root as Record<string, unknown>, key: 'v' },
  ];
  while (stack.length > 0) {
    const { src, dst, key } = stack.pop()!;
    if (src === null || typeof src !== 'object' || Object.isFrozen(src)) {
      dst[key] = src;
    } else if (Array.isArray(src)) {
      const out: unknown[] = new Array(src.length);
      dst[key] = out;
      for (let i = 0; i < src.length; i++) stack.push({ src: src[i], dst: out as never, key: i });
    } else if (Object.getPrototypeOf(src) === Object.prototype || Object.getPrototypeOf(src) === null) {
      const out: Record<string, unknown> = {};
      dst[key] = out;
      // Keys are created in order now and filled as the stack unwinds, so key order is kept.
      for (const [k, v] of Object.entries(src)) {
        setOwn(out, k, undefined); // not `out[k] =`: a "__proto__" key would replace the prototype

        stack.push({ src: v, dst: out, key: k });
      }
    } else {
      dst[key] = src;
    }
  }
  return root.v as T;
}
