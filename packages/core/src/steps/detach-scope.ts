/**
 * A code step whose expression is `$` (or `$$`) returns the run's scope object itself, which the run then
 * extends with that very step's view: the output would contain itself, and the run record could not be
 * serialised (`Converting circular structure to JSON`). The scope a step sees must be a plain, acyclic
 * value, so such an output gets a snapshot of the scope in place of every reference to the live object.
 * Only expressions that mention the bare context (`$` or `$$` not followed by a name) are walked, so other
 * code steps pay nothing.
 */
const BARE_CONTEXT = /\$(?![\w$])|\$\$(?!\w)/;

export function mayReturnScope(source: string): boolean {
  return BARE_CONTEXT.test(source);
}

/** `value` with every reference to `scope` replaced by a shallow snapshot of it (copying only what leads there). */
export function detachScope(value: unknown, scope: object): unknown {
  if (value === null || typeof value !== 'object') return value;
  const snapshot = { ...(scope as Record<string, unknown>) };
  const seen = new Map<object, unknown>();
  const visit = (v: unknown, depth: number): unknown => {
    if (v === scope) return snapshot;
    if (v === null || typeof v !== 'object' || Object.isFrozen(v) || depth > 256) return v;
    const known = seen.get(v);
    if (known !== undefined) return known;
    seen.set(v, v);
    let copy: unknown = v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const next = visit(v[i], depth + 1);
        if (next !== v[i]) {
          if (copy === v) copy = v.slice();
          (copy as unknown[])[i] = next;
        }
      }
    } else {
      for (const [k, child] of Object.entries(v)) {
        const next = visit(child, depth + 1);
        if (next !== child) {
          if (copy === v) copy = { ...(v as Record<string, unknown>) };
          (copy as Record<string, unknown>)[k] = next;
        }
      }
    }
    seen.set(v, copy);
    return copy;
  };
  return visit(value, 0);
}
