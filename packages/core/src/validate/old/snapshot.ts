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
import { VALIDATION_LIMITS } from './codes.js';
import { type ProblemList, safeMessage } from './problems.js';
import { toPointer } from './template-fields.js';

interface PathNode {
  readonly parent: PathNode | null;
  readonly key: string | number;
}

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

/** Copy `source[key]` into `target[key]`. `node` is the path of `source` (null: the root holder). */
interface Task {
  source: object;
  key: string | number;
  target: Container;
  node: PathNode | null;
  depth: number;
}

const EXIT = Symbol('exit');
type Exit = { [EXIT]: object };

/** `container[key] = value`, also for the key "__proto__" (an own property, as JSON.parse makes it). */
function set(container: Container, key: string | number, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (container as Record<string | number, unknown>)[key] = value;
  }
}

function pointerOf(node: PathNode | null): string {
  const segments: Array<string | number> = [];
  for (let n = node; n !== null; n = n.parent) segments.push(n.key);
  segments.reverse();
  return toPointer(segments);
}

export function snapshot(
  input: unknown,
  problems: ProblemList,
  limits: SnapshotLimits = VALIDATION_LIMITS,
): SnapshotResult {
  const poisoned = new Set<string>();
  const ancestors = new Set<object>();
  const holder: unknown[] = [];
  const stack: Array<Task | Exit> = [{ source: [input], key: 0, target: holder, node: null, depth: 0 }];
  let count = 0;
  let depthProblem: { message: string } | undefined;
  let deeperElsewhere = 0;

  /** The path of `task`'s value: the root for the holder's only element. */
  const nodeOf = (task: Task): PathNode | null =>
    task.target === holder ? null : { parent: task.node, key: task.key };

  const notJson = (task: Task, what: string) => {
    const path = pointerOf(nodeOf(task));
    poisoned.add(path);
    set(task.target, task.key, null);
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

  while (stack.length > 0) {
    const task = stack.pop()!;
    if (EXIT in task) {
      ancestors.delete(task[EXIT]);
      continue;
    }
    if (++count > limits.maxValues) return abort(pointerOf(nodeOf(task)));
    let value: unknown;
    try {
      value = (task.source as Record<string | number, unknown>)[task.key];
    } catch (error) {
      notJson(task, `a property whose getter throws (${safeMessage(error)})`);
      continue;
    }
    switch (typeof value) {
      case 'undefined':
        if (Array.isArray(task.target)) task.target[task.key as number] = undefined;
        continue;
      case 'string':
      case 'number':
      case 'boolean':
        set(task.target, task.key, value);
        continue;
      case 'bigint':
        notJson(task, 'a BigInt');
        continue;
      case 'symbol':
        notJson(task, 'a symbol');
        continue;
      case 'function':
        notJson(task, 'a function');
        continue;
    }
    if (value === null) {
      set(task.target, task.key, null);
      continue;
    }
    const object = value as object;
    if (types.isProxy(object)) {
      notJson(task, 'a Proxy');
      continue;
    }
    if (ancestors.has(object)) {
      notJson(task, 'a reference to one of its own ancestors (a cycle)');
      continue;
    }
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
      if (ArrayBuffer.isView(object) || types.isAnyArrayBuffer(object)) {
        notJson(task, 'binary data');
        continue;
      }
      if (types.isBoxedPrimitive(object)) {
        notJson(task, 'a boxed primitive (e.g. new String())');
        continue;
      }
    }
    const node = nodeOf(task);
    if (task.depth >= limits.maxDepth) {
      const path = pointerOf(node);
      poisoned.add(path);
      set(task.target, task.key, null);
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
      continue;
    }
    let keys: Array<string | number>;
    const isArray = Array.isArray(object);
    if (isArray) {
      const length = object.length;
      if (length > limits.maxValues - count) return abort(pointerOf(node));
      keys = new Array<number>(length);
      for (let i = 0; i < length; i++) keys[i] = i;
    } else {
      try {
        keys = Object.keys(object);
      } catch (error) {
        notJson(task, `an object whose keys cannot be listed (${safeMessage(error)})`);
        continue;
      }
      if (keys.length > limits.maxValues - count) return abort(pointerOf(node));
    }
    const copy: Container = isArray ? new Array<unknown>(keys.length) : {};
    set(task.target, task.key, copy);
    ancestors.add(object);
    stack.push({ [EXIT]: object });
    const depth = task.depth + 1;
    for (let i = keys.length - 1; i >= 0; i--)
      stack.push({ source: object, key: keys[i]!, target: copy, node, depth });
  }
  if (depthProblem !== undefined && deeperElsewhere > 0) {
    depthProblem.message += ` ${deeperElsewhere} more value${deeperElsewhere === 1 ? ' is' : 's are'} nested too deep elsewhere.`;
  }
  return { value: holder[0], aborted: false, poisoned };
}
