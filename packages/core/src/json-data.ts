/**
 * JSON is data: a key is only ever an own property. `JSON.parse('{"__proto__": {...}}')` makes an own
 * property named "__proto__", but `copy[key] = value` with that key calls Object.prototype's setter and
 * replaces the copy's prototype instead — the field vanishes from the JSON and its members show through
 * as inherited properties (`run.input.isAdmin === true`). Every copy of caller data goes through
 * `setOwn`, and `checkedCopy` turns any caller value into plain JSON data or a coded error.
 */
import { ERROR_CODES, WeftError } from './errors.js';

/** `target[key] = value` as an own, enumerable data property, for every key ("__proto__" included). */
export function setOwn(target: object, key: string | number, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (target as Record<string | number, unknown>)[key] = value;
  }
}

/** `object[key]` when it is an own property; never an inherited one (`input.constructor`, `__proto__`). */
export function getOwn(object: unknown, key: string): unknown {
  if (object === null || typeof object !== 'object') return undefined;
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

export interface DataLimits {
  /** Containers nested deeper than this are refused (the root is depth 0). */
  maxDepth: number;
  /** Values (objects, arrays, primitives) in all. */
  maxValues: number;
}

/**
 * Bounds on caller data (run inputs, variables, replay records): deep enough for any real payload, shallow
 * enough that recursive consumers (JSON.stringify, JSONata) never overflow the stack.
 */
export const DATA_LIMITS: DataLimits = { maxDepth: 256, maxValues: 2_000_000 };

/**
 * A plain-JSON copy of `value` (objects with own properties only, arrays, strings, booleans, finite
 * numbers, null; `undefined` properties are dropped as JSON.stringify drops them), or a WeftError naming
 * where the first thing that is not JSON data is: INVALID_ARGUMENT for a function, symbol, BigInt,
 * non-finite number, class instance (Date, Map…) or cycle; LIMIT_EXCEEDED past `limits`. Iterative:
 * depth never costs stack. Never throws anything but a WeftError (a throwing getter or Proxy included).
 */
export function checkedCopy(
  value: unknown,
  parameter: string,
  limits: DataLimits = DATA_LIMITS,
  keep?: LeafCopier,
): unknown {
  try {
    return copyData(value, parameter, limits, keep);
  } catch (error) {
    if (error instanceof WeftError) throw error;
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`${parameter}\` to be JSON data, but reading it threw (${messageOf(error)}).`,
      { details: { parameter } },
    );
  }
}

/**
 * Called with each object below the root before it is refused or walked: its copy, kept as one value (it
 * counts as one, and is not descended into), or `undefined` to treat it as JSON data. The run input keeps
 * binary data this way until its document says which of it is a file (input/files.ts).
 */
export type LeafCopier = (value: object) => unknown;

interface Frame {
  source: object;
  target: Record<string | number, unknown> | unknown[];
  keys: Array<string | number>;
  next: number;
  depth: number;
  path: string;
}

function copyData(value: unknown, parameter: string, limits: DataLimits, keep?: LeafCopier): unknown {
  const leaf = primitive(value, parameter);
  if (leaf !== NOT_PRIMITIVE) return leaf;
  let values = 1;
  const onPath = new Set<object>();
  const open = (source: object, depth: number, path: string): Frame => {
    if (depth > limits.maxDepth) {
      throw new WeftError(
        ERROR_CODES.LIMIT_EXCEEDED,
        `\`${path}\` is nested more than ${limits.maxDepth} levels deep; flatten the data.`,
        { details: { parameter, path, limit: 'maxDepth', max: limits.maxDepth } },
      );
    }
    if (onPath.has(source)) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `\`${path}\` refers back to one of its own parents (a cycle): JSON data cannot be cyclic.`,
        { details: { parameter, path } },
      );
    }
    plainContainer(source, path, parameter);
    onPath.add(source);
    const isArray = Array.isArray(source);
    const keys: Array<string | number> = isArray ? [] : Object.keys(source);
    if (isArray) for (let i = 0; i < source.length; i++) keys.push(i);
    values += keys.length;
    if (values > limits.maxValues) {
      throw new WeftError(
        ERROR_CODES.LIMIT_EXCEEDED,
        `\`${parameter}\` holds more than ${limits.maxValues.toLocaleString('en-US')} values; send less data.`,
        { details: { parameter, limit: 'maxValues', max: limits.maxValues } },
      );
    }
    return { source, target: isArray ? new Array(keys.length) : {}, keys, next: 0, depth, path };
  };
  const root = open(value as object, 1, parameter);
  const stack: Frame[] = [root];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.keys.length) {
      stack.pop();
      onPath.delete(frame.source);
      continue;
    }
    const key = frame.keys[frame.next++]!;
    const child = (frame.source as Record<string | number, unknown>)[key];
    const path = typeof key === 'number' ? `${frame.path}[${key}]` : `${frame.path}.${key}`;
    const copied = primitive(child, parameter, path);
    if (copied !== NOT_PRIMITIVE) {
      // `{ a: undefined }` is `{}` in JSON; `[undefined]` is `[null]`.
      if (copied === undefined) {
        if (Array.isArray(frame.target)) frame.target[key as number] = null;
        continue;
      }
      setOwn(frame.target, key, copied);
      continue;
    }
    const kept = keep?.(child as object);
    if (kept !== undefined) {
      setOwn(frame.target, key, kept);
      continue;
    }
    const next = open(child as object, frame.depth + 1, path);
    setOwn(frame.target, key, next.target);
    stack.push(next);
  }
  return root.target;
}

const NOT_PRIMITIVE: unique symbol = Symbol('not-primitive');

function primitive(value: unknown, parameter: string, path = parameter): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw notData(parameter, path, `the number ${value} (JSON numbers are finite)`);
    case 'object':
      return value === null ? null : NOT_PRIMITIVE;
    case 'bigint':
      throw notData(parameter, path, 'a BigInt (send it as a string or a number)');
    default:
      throw notData(parameter, path, `a ${typeof value}`);
  }
}

function plainContainer(value: object, path: string, parameter: string): void {
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw notData(parameter, path, 'an array subclass');
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    throw notData(
      parameter,
      path,
      `${typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a custom prototype'} (only plain objects and arrays are JSON data)`,
    );
  }
}

function notData(parameter: string, path: string, what: string): WeftError {
  return new WeftError(
    ERROR_CODES.INVALID_ARGUMENT,
    `Expected \`${parameter}\` to be JSON data, but \`${path}\` is ${what}.`,
    { details: { parameter, path } },
  );
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'an unprintable value';
  }
}
