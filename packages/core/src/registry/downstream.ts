/**
 * The steps downstream of a step (itself included): everything reachable through `destinations`,
 * branch condition destinations and `else`. Replay keeps every other step's original record.
 */
import type { VersionDocument } from '../model/types.js';

export function successorsOf(step: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const add = (keys: unknown) => {
    if (Array.isArray(keys)) for (const k of keys) if (typeof k === 'string') out.add(k);
  };
  add(step.destinations);
  if (step.type === 'branch') {
    const conditions = step.conditions;
    if (conditions !== null && typeof conditions === 'object') {
      for (const c of Object.values(conditions as Record<string, { destinations?: unknown }>))
        add(c?.destinations);
    }
    add(step.else);
  }
  return [...out];
}

export function downstreamKeys(document: Pick<VersionDocument, 'steps'>, from: string): Set<string> {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const step of document.steps) byKey.set(step.key, step as Record<string, unknown>);
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const step = byKey.get(stack.pop()!);
    if (step === undefined) continue;
    for (const next of successorsOf(step)) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}
