/**
 * The first pass of validation: an iterative walk that copies the input into plain JSON data, so that
 * every later check works on a finite, acyclic tree of plain objects and arrays and never touches the
 * caller's value again (no getter runs twice, nothing is mutated).
 *
 * On the way it reports what is not JSON data (NOT_JSON: functions, symbols, BigInts, Proxies, binary
 * data, boxed primitives, cyclic references, properties whose getter throws — each replaced by null in the
 * copy) and what exceeds a hard bound (LIMIT: containers nested deeper than `maxDepth`, replaced by null;
 * more than `maxValues` values, which stops validation). Properties whose value is `undefined` are left
 * out, as JSON.stringify does. Values are visited in document order (depth first), and nothing here is
 * recursive.
 */
import { types } from 'node:util';
import { toPointer } from '../model/template-fields.js';
import { VALIDATION_LIMITS } from './codes.js';
import { type ProblemList, safeMessage } from './problems.js';

export interface SnapshotResult {
  /** The plain copy. Incomplete when `aborted`. */
  value: unknown;
  /** True when the document has more than `maxValues` values: nothing further should be checked. */
  aborted: boolean;
  /** Pointers of the values that were replaced (NOT_JSON, LIMIT): later checks stay quiet about them. */
  poisoned: Set<string>;
}

export interface SnapshotLimits {
  maxDepth: number;
  maxValues: number;
}

type Container = Record<string, unknown> | unknown[];

/** `container[key] = value`, also for the key "__proto__" (an own property, as JSON.parse makes it). */
function set(container: Container, key: string | number, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (container as Record<string | number, unknown>)[key] = value;
  }
}

/**
 * The walk keeps one frame per open container, indexed by its depth (at most `maxDepth + 1` of them): the
 * container, its copy, its keys and the next one to visit. The frames are the path, so a value's JSON
 * pointer is built only when a problem is reported, and its ancestors (for the cycle check) are the
 * containers of the frames below it. Nothing is allocated per value but the copy itself (and an object's
 * `Object.keys`): a 100,000-step document has ~600,000 values (issue 11, item 4).
 *
 * `freeze`: each copied container is frozen once all its values are copied (the compiler keeps the copy).
 */
export function snapshot(
  input: unknown,
  problems: ProblemList,
  limits: SnapshotLimits = VALIDATION_LIMITS,
  freeze = false,
): SnapshotResult {
  const poisoned = new Set<string>();
  const holder: unknown[] = [undefined];
  const frames = Math.max(1, Math.min(limits.maxDepth, 1_000_000) + 1);
  /** Frame d: the container at depth d, its copy, its keys (null: an array), the next index, its length. */
  const sources = new Array<object>(frames);
  const copies = new Array<Container>(frames);
  const keysOf = new Array<string[] | null>(frames);
  const next = new Int32Array(frames);
  const lengths = new Int32Array(frames);
  /** The key of the container of frame d in the container of frame d - 1 (d >= 1). */
  const segments = new Array<string | number>(frames);
  let top = -1;
  let count = 0;
  let depthProblem: { message: string } | undefined;
  let deeperElsewhere = 0;

  /** The pointer of the value at `key` of the container of frame `parent` (-1: the root itself). */
  const pointer = (parent: number, key: string | number): string => {
    if (parent < 0) return '';
    const path: Array<string | number> = [];
    for (let d = 1; d <= parent; d++) path.push(segments[d]!);
    path.push(key);
    return toPointer(path);
  };

  const notJson = (parent: number, key: string | number, target: Container, what: string) => {
    const path = pointer(parent, key);
    poisoned.add(path);
    set(target, key, null);
    problems.add({
      code: 'NOT_JSON',
      path,
      message:
        `The value at ${path === '' ? 'the document root' : path} is ${what}; a workflow document must be ` +
        'JSON data (objects, arrays, strings, numbers, booleans, null). Replace it with JSON data or remove it.',
    });
  };

  const abort = (path: string) => {
    problems.add({
      code: 'LIMIT',
      path,
      message:
        `The document has more than ${limits.maxValues.toLocaleString('en-US')} values (objects, arrays, ` +
        'strings, numbers…), the most Weft validates; validation stopped here. Make the document smaller, ' +
        'e.g. by moving large data into run input or variables, or by splitting it into sub-workflows.',
    });
    return { value: holder[0], aborted: true, poisoned };
  };

  // The root is the value at key 0 of `holder`, read without a getter; then each value in document order.
  let parent = -1;
  let key: string | number = 0;
  let target: Container = holder;
  let value: unknown = input;
  /** The value could not be read (its getter threw): already reported. */
  let unreadable = false;
  /** Copies `value` (at `key` of `target`, in the container of frame `parent`); a container opens a frame. */
  const visit = (): SnapshotResult | undefined => {
    switch (typeof value) {
      case 'undefined':
        if (Array.isArray(target)) target[key as number] = undefined;
        return undefined;
      case 'string':
      case 'number':
      case 'boolean':
        set(target, key, value);
        return undefined;
      case 'bigint':
        notJson(parent, key, target, 'a BigInt');
        return undefined;
      case 'symbol':
        notJson(parent, key, target, 'a symbol');
        return undefined;
      case 'function':
        notJson(parent, key, target, 'a function');
        return undefined;
    }
    if (value === null) {
      set(target, key, null);
      return undefined;
    }
    const object = value as object;
    if (types.isProxy(object)) {
      notJson(parent, key, target, 'a Proxy');
      return undefined;
    }
    let cyclic = false;
    for (let d = 0; d <= parent; d++) {
      if (sources[d] === object) {
        cyclic = true;
        break;
      }
    }
    if (cyclic) {
      notJson(parent, key, target, 'a reference to one of its own ancestors (a cycle)');
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
      if (ArrayBuffer.isView(object) || types.isAnyArrayBuffer(object)) {
        notJson(parent, key, target, 'binary data');
        return undefined;
      }
      if (types.isBoxedPrimitive(object)) {
        notJson(parent, key, target, 'a boxed primitive (e.g. new String())');
        return undefined;
      }
    }
    const depth = parent + 1;
    if (depth >= limits.maxDepth) {
      const path = pointer(parent, key);
      poisoned.add(path);
      set(target, key, null);
      if (depthProblem === undefined) {
        depthProblem = problems.add({
          code: 'LIMIT',
          path,
          message:
            `The value at ${path} is nested more than ${limits.maxDepth} levels deep, the most Weft ` +
            'examines; it was not checked. Flatten the data (or pass it as run input).',
        }) ?? { message: '' };
      } else {
        deeperElsewhere++;
      }
      return undefined;
    }
    let keys: string[] | null = null;
    let length: number;
    if (Array.isArray(object)) {
      length = object.length;
      if (length > limits.maxValues - count) return abort(pointer(parent, key));
    } else {
      try {
        keys = Object.keys(object);
      } catch (error) {
        notJson(parent, key, target, `an object whose keys cannot be listed (${safeMessage(error)})`);
        return undefined;
      }
      length = keys.length;
      if (length > limits.maxValues - count) return abort(pointer(parent, key));
    }
    const copy: Container = keys === null ? new Array<unknown>(length) : {};
    set(target, key, copy);
    sources[depth] = object;
    copies[depth] = copy;
    keysOf[depth] = keys;
    next[depth] = 0;
    lengths[depth] = length;
    segments[depth] = key;
    top = depth;
    return undefined;
  };

  if (++count > limits.maxValues) return abort('');
  for (;;) {
    if (!unreadable) {
      const aborted = visit();
      if (aborted !== undefined) return aborted;
    }
    // The next value: the next key of the innermost container that has one left.
    while (top >= 0 && next[top]! >= lengths[top]!) {
      if (freeze) Object.freeze(copies[top]);
      sources[top] = undefined as unknown as object; // not an ancestor any more
      top--;
    }
    if (top < 0) break;
    parent = top;
    const index = next[top]!++;
    const keys = keysOf[top]!;
    key = keys === null ? index : keys[index]!;
    target = copies[top]!;
    if (++count > limits.maxValues) return abort(pointer(parent, key));
    unreadable = false;
    try {
      value = (sources[top] as Record<string | number, unknown>)[key];
    } catch (error) {
      notJson(parent, key, target, `a property whose getter throws (${safeMessage(error)})`);
      unreadable = true;
    }
  }
  if (depthProblem !== undefined && deeperElsewhere > 0) {
    depthProblem.message += ` ${deeperElsewhere} more value${deeperElsewhere === 1 ? ' is' : 's are'} nested too deep elsewhere.`;
  }
  return { value: holder[0], aborted: false, poisoned };
}
