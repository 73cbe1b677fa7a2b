/**
 * The JSON text a store writes for a value (a JSON column of a run row): `null` for `undefined`. A frozen
 * object's text is made once and kept by object: a pinned document (a published version, or the draft of
 * `getFrozenWorkflow`, frozen-reads.ts) is one deep-frozen object shared by every run of it, so it is
 * serialised once, not per run. Frozen means immutable: Weft deep-freezes what it freezes (the memory
 * store's `copy` shares frozen values for the same reason).
 */
const frozenJson = new WeakMap<object, string>();

export function storedJson(value: unknown): string | null {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object' || !Object.isFrozen(value)) return JSON.stringify(value);
  let text = frozenJson.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    frozenJson.set(value, text);
  }
  return text;
}
