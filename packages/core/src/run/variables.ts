/**
 * Run variables (`$vars`) and secret redaction: secret values never appear in run records, events,
 * logs or errors — every occurrence inside a string is replaced by `[secret]`.
 */
import { isPlainObject, optionalBoolean } from '../arguments.js';
import { invalidArgument } from '../errors.js';
import { checkedCopy, setOwn } from '../json-data.js';

export interface Variable {
  key: string;
  value: unknown;
  secret?: boolean;
}

export const SECRET_PLACEHOLDER = '[secret]';

/**
 * Checks a list of variables given to `createEngine` or `engine.start` and returns a copy (values as plain
 * JSON data): `[{ key: non-empty string, value: JSON data, secret?: boolean }]`.
 */
export function checkVariables(list: unknown, parameter: string): Variable[] {
  if (!Array.isArray(list)) throw invalidArgument(parameter, 'an array of { key, value, secret? }', list);
  const out: Variable[] = [];
  // An indexed loop: map would keep the holes of a sparse array.
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    const at = `${parameter}[${i}]`;
    if (!isPlainObject(item)) throw invalidArgument(at, '{ key: string, value, secret?: boolean }', item);
    if (typeof item.key !== 'string' || item.key === '')
      throw invalidArgument(`${at}.key`, 'a non-empty string', item.key);
    optionalBoolean(item.secret, `${at}.secret`);
    const variable: Variable = { key: item.key, value: checkedCopy(item.value, `${at}.value`) };
    if (item.secret !== undefined) variable.secret = item.secret as boolean;
    out.push(variable);
  }
  return out;
}

export interface ResolvedVariables {
  values: Record<string, unknown>;
  /** Secret strings, longest first (so a secret containing another is replaced whole). */
  secrets: string[];
}

export function resolveVariables(...lists: Array<readonly Variable[] | undefined>): ResolvedVariables {
  const values: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  for (const list of lists) {
    for (const v of list ?? []) {
      setOwn(values, v.key, v.value);
      if (v.secret === true) secretKeys.add(v.key);
      else secretKeys.delete(v.key);
    }
  }
  const secrets = [...secretKeys]
    .map((k) => values[k])
    .filter((v) => v !== undefined && v !== null)
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length);
  return { values, secrets };
}

/** Returns `value` with every secret replaced; the input is not modified. Iterative: deep values are safe. */
export function redact<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const replace = (text: string): string => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(SECRET_PLACEHOLDER);
    return out;
  };
  if (typeof value === 'string') return replace(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const root: { v: unknown } = { v: undefined };
  const stack: Array<{ src: unknown; dst: Record<string | number, unknown>; key: string | number }> = [
    { src: value, dst: root as Record<string, unknown>, key: 'v' },
  ];
  while (stack.length > 0) {
    const { src, dst, key } = stack.pop()!;
    if (typeof src === 'string') dst[key] = replace(src);
    else if (src === null || typeof src !== 'object') dst[key] = src;
    else if (Array.isArray(src)) {
      const copy: unknown[] = new Array(src.length);
      dst[key] = copy;
      for (let i = 0; i < src.length; i++) stack.push({ src: src[i], dst: copy as never, key: i });
    } else if (src instanceof Error) {
      dst[key] = replace(src.message);
    } else {
      const copy: Record<string, unknown> = {};
      dst[key] = copy;
      // Keys are created in source order first: the stack fills the values in reverse.
      const entries = Object.entries(src).map(([k, v]) => [replace(k), v] as const);
      // setOwn: a "__proto__" key stays a key (an assignment would replace the copy's prototype).
      for (const [k] of entries) setOwn(copy, k, undefined);
      for (const [k, v] of entries) stack.push({ src: v, dst: copy, key: k });
    }
  }
  return root.v as T;
}
