/**
 * Whether a document object is, as JSON, exactly the document a plan was compiled from, without
 * serialising it: the plan cache (plan-cache.ts) keeps each plan's validated copy as a flat token list
 * (`jsonTokens`) and walks a new object against it (`matchesTokens`), reading each of its values once and
 * allocating nothing. `JSON.stringify` builds the whole text (and the map lookup then hashes and compares
 * it): for a 1,000-step document parsed per request, ~250 µs after a GC against ~60 µs for the walk
 * (docs/performance.md, "Per-run cost").
 *
 * Sound, not complete: true only when `JSON.stringify(value)` equals the text of the tokens' document —
 * the same keys in the same order, the same strings, numbers, booleans and nulls. Anything the walk does
 * not model as JSON does (an `undefined` value, a `toJSON`, an object that is neither a plain object nor
 * an array, an array hole, a getter that throws) answers false, and the cache falls back to the JSON
 * text.
 *
 * The walk is bounded by the tokens (a finite list): every value read is either the next token's or a
 * mismatch, so a cyclic or huge object costs no more than the known document, and the recursion is no
 * deeper than it.
 */

/** Markers in a token list: an object's start and end, an array's start (followed by its length). */
const OBJECT = Symbol('object');
const END = Symbol('end');
const ARRAY = Symbol('array');

export type JsonTokens = readonly unknown[];

/**
 * The token list of plain JSON data (a validated copy: plain objects and arrays, no cycles): an object is
 * OBJECT, then each key and its value's tokens, then END; an array is ARRAY, its length, then each
 * element's tokens; a primitive is itself.
 */
export function jsonTokens(data: unknown): JsonTokens {
  const out: unknown[] = [];
  const push = (value: unknown): void => {
    if (Array.isArray(value)) {
      out.push(ARRAY, value.length);
      for (let i = 0; i < value.length; i++) push(value[i]);
    } else if (value !== null && typeof value === 'object') {
      out.push(OBJECT);
      const keys = Object.keys(value);
      for (let k = 0; k < keys.length; k++) {
        out.push(keys[k]);
        push((value as Record<string, unknown>)[keys[k]!]);
      }
      out.push(END);
    } else out.push(value);
  };
  push(data);
  return out;
}

/** The walk's position in a token list. */
interface Cursor {
  readonly tokens: JsonTokens;
  at: number;
}

/** Whether `value` serialises to the same JSON as the document of `tokens`. */
export function matchesTokens(value: unknown, tokens: JsonTokens): boolean {
  const cursor: Cursor = { tokens, at: 0 };
  try {
    return matches(value, cursor) && cursor.at === tokens.length;
  } catch {
    return false; // a getter threw, or a Proxy trap: the text path reports it
  }
}

function matches(value: unknown, cursor: Cursor): boolean {
  const tokens = cursor.tokens;
  const token = tokens[cursor.at++];
  if (token === OBJECT) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    // for…in: the own enumerable string keys in Object.keys order (the prototype is checked above; an
    // enumerable key added to Object.prototype would come last and not match), without a key array.
    for (const key in value) {
      if (tokens[cursor.at++] !== key) return false;
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || !matches(member, cursor)) return false;
    }
    return tokens[cursor.at++] === END && !('toJSON' in value);
  }
  if (token === ARRAY) {
    if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) return false;
    const length = tokens[cursor.at++] as number;
    if (value.length !== length) return false;
    for (let i = 0; i < length; i++) {
      const element: unknown = value[i];
      if (element === undefined || !matches(element, cursor)) return false;
    }
    return true;
  }
  // A primitive: equal values serialise alike (0 and -0 both as 0; NaN never equals, so it falls back).
  return value === token && token !== END;
}
