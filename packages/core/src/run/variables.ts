/**
 * Run variables (`$vars`) and secret redaction: secret values never appear in run records, events,
 * logs or errors — every occurrence, in every form redaction.ts lists, is replaced by `[secret]`.
 */
import { isPlainObject, optionalBoolean } from '../arguments.js';
import { invalidArgument } from '../errors.js';
import { checkedCopy, setOwn } from '../json-data.js';
import { MIN_ENCODED_SECRET, matcherFor, SECRET_PLACEHOLDER } from './redaction.js';

export interface Variable {
  key: string;
  value: unknown;
  secret?: boolean;
}

export { DeltaRedactor, SECRET_PLACEHOLDER } from './redaction.js';

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
  /**
   * The strings to redact, longest first: each secret string, the digits of a secret number, and for an
   * object or array its JSON text and every string (or number) leaf of at least MIN_ENCODED_SECRET
   * characters (`$vars.cred.token` leaks the leaf alone).
   */
  secrets: string[];
}

export function resolveVariables(...lists: Array<readonly Variable[] | undefined>): ResolvedVariables {
  const values: Record<string, unknown> = {};
  // Most runs have no variables at all: no sets, no sorting (W2: per-run cost).
  let any = false;
  for (let l = 0; l < lists.length; l++) if ((lists[l]?.length ?? 0) > 0) any = true;
  if (!any) return { values, secrets: [] };
  const secretKeys = new Set<string>();
  for (const list of lists) {
    for (const v of list ?? []) {
      setOwn(values, v.key, v.value);
      if (v.secret === true) secretKeys.add(v.key);
      else secretKeys.delete(v.key);
    }
  }
  const secrets = new Set<string>();
  for (const key of secretKeys) for (const text of secretStrings(values[key])) secrets.add(text);
  return { values, secrets: [...secrets].sort((a, b) => b.length - a.length) };
}

/** Both lists of secrets as one, longest first. */
export function mergeSecrets(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort((x, y) => y.length - x.length);
}

/** The strings a secret value can appear as (see ResolvedVariables.secrets). */
export function secretStrings(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (typeof value === 'number') return Number.isFinite(value) ? [String(value)] : [];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json !== undefined && json.length >= MIN_ENCODED_SECRET) out.push(json);
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string' || typeof v === 'number') {
      const text = String(v);
      if (text.length >= MIN_ENCODED_SECRET && (typeof v === 'string' || Number.isFinite(v))) out.push(text);
    } else if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v)) stack.push(child);
    }
  }
  return out;
}

/**
 * Returns `value` with every secret replaced (in strings, object keys and numbers — in every encoding
 * redaction.ts lists); the input is not modified. Iterative: deep values are safe.
 */
export function redact<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const matcher = matcherFor(secrets);
  const replace = matcher.text;
  const leaf = (v: unknown): unknown =>
    typeof v === 'string' ? replace(v) : typeof v === 'number' && matcher.number(v) ? SECRET_PLACEHOLDER : v;
  if (value === null || typeof value !== 'object') return leaf(value) as T;
  const root: { v: unknown } = { v: undefined };
  const stack: Array<{ src: unknown; dst: Record<string | number, unknown>; key: string | number }> = [
    { src: value, dst: root as Record<string, unknown>, key: 'v' },
  ];
  while (stack.length > 0) {
    const { src, dst, key } = stack.pop()!;
    if (src === null || typeof src !== 'object') dst[key] = leaf(src);
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
