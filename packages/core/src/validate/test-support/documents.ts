/** fast-check arbitraries of workflow documents, shared by the validator's and the JSON Schema's tests. */
import fc from 'fast-check';
import {
  BUILTIN_STEP_TYPES,
  DISPLAY_MODES,
  HTTP_METHODS,
  INPUT_FIELD_TYPES,
  MESSAGE_ROLES,
  RESPONSE_FORMATS,
  stepCommonFields,
  stepTypeFields,
} from '../../model/schema.js';

export type Obj = Record<string, unknown>;
/** The host type the generated documents use. */
export const OPTIONS = { stepTypes: ['task'] };

export const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
export const expression = fc.constantFrom(
  'true',
  'input.n > 1',
  '$count(steps) >= 0',
  'input.items',
  '{"a": {"b": 1}}',
  '$exists(vars.x) and 1 = 1',
  '$map([1, 2], function($v) { $v * 2 })',
);
/** Strings that are not templates (no "{{"), or valid templates. */
export const text = fc.oneof(
  fc.string({ maxLength: 12 }).filter((s) => !s.includes('{{')),
  fc.constantFrom(
    'Hello {{ input.name }}',
    '{{ input.n + 1 }}',
    'a {{ 1 }} b {{ "x" }}',
    '{{ {"a": {"b": 1}} }}',
  ),
);
/** JSON data without templates (the JSON round trip turns a generated -0 into 0). */
export const plainJson = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => !JSON.stringify(v).includes('{{'));
export const extra = fc.dictionary(
  fc.string({ maxLength: 6 }).map((s) => `x_${s}`),
  plainJson,
  { maxKeys: 3 },
);
const opt = { requiredKeys: [] as [] };

export const common = fc.record(
  {
    display: fc.constantFrom(...DISPLAY_MODES),
    conditional: fc.oneof(expression, fc.constant(null), fc.constant('')),
    loop: fc.oneof(expression, fc.constant(null)),
    throw_on_error: fc.boolean(),
    position: fc.array(fc.integer(), { maxLength: 2 }),
    size: fc.array(fc.integer(), { maxLength: 2 }),
    auto: fc.oneof(
      fc.constant(null),
      fc.record(
        { provider: fc.string(), model: fc.string(), temperature: fc.integer({ min: 0, max: 2 }) },
        opt,
      ),
    ),
    retry: fc.record(
      {
        max_attempts: fc.integer({ min: 1, max: 100 }),
        interval_ms: fc.nat(),
        backoff_rate: fc.integer({ min: 1, max: 4 }),
        max_delay_ms: fc.nat(),
        jitter: fc.boolean(),
      },
      opt,
    ),
    timeout_ms: fc.integer({ min: 1, max: 1_000_000 }),
    max_concurrency: fc.integer({ min: 1, max: 10 }),
  },
  opt,
);

const literal = (s: string) => fc.constant(s);
const typeFields: Record<string, fc.Arbitrary<Obj>> = {
  note: fc.record({ note: fc.string() }, opt),
  input: fc.record(
    {
      input: fc.dictionary(
        key,
        fc.record(
          { type: fc.constantFrom(...INPUT_FIELD_TYPES), optional: fc.boolean(), description: fc.string() },
          { requiredKeys: ['type'] },
        ),
        { maxKeys: 3 },
      ),
    },
    opt,
  ),
  code: fc.record({ code: expression, language: literal('jsonata') }, { requiredKeys: ['code'] }),
  model: fc.record({
    provider: fc.record(
      {
        provider: fc.constantFrom('openai', 'anthropic'),
        model: fc.constantFrom('gpt-4o-mini', 'claude'),
        messages: fc.array(fc.record({ role: fc.constantFrom(...MESSAGE_ROLES), content: text }), {
          maxLength: 3,
        }),
        temperature: fc.integer({ min: 0, max: 2 }),
        response_format: fc.constantFrom(...RESPONSE_FORMATS),
        max_tokens: fc.integer({ min: 1, max: 4096 }),
      },
      { requiredKeys: ['messages'] },
    ),
  }),
  http_request: fc.record(
    {
      url: fc.constantFrom('https://example.com', 'https://example.com/{{ input.id }}'),
      method: fc.constantFrom(...HTTP_METHODS),
      headers: fc.dictionary(key, text, { maxKeys: 2 }),
      body: plainJson,
    },
    { requiredKeys: ['url'] },
  ),
  workflow: fc.record(
    {
      workflow_id: fc.constantFrom('wf_1', '{{ input.workflow }}'),
      workflow_version_id: fc.oneof(
        fc.string({ minLength: 1 }).filter((s) => !s.includes('{{')),
        fc.nat(),
      ),
      step_key: fc.oneof(fc.constant(null), key),
      input: plainJson,
    },
    { requiredKeys: ['workflow_id'] },
  ),
  service: fc.record({
    service: fc.record(
      {
        type: literal('slack'),
        action: literal('post_message'),
        input: plainJson,
        connection_id: fc.oneof(fc.constant(null), key),
      },
      { requiredKeys: ['type', 'action'] },
    ),
  }),
  browser: fc.record(
    {
      url: literal('https://example.com'),
      strip_html: fc.boolean(),
      // A selector would be an UNSUPPORTED_FIELD warning (the built-in browser does not wait for one).
      wait_for_selector: fc.constant(null),
    },
    { requiredKeys: ['url'] },
  ),
  branch: fc.record({
    names: fc.uniqueArray(key, { maxLength: 3 }),
    conditions: fc.array(expression, { minLength: 3, maxLength: 3 }),
    withElse: fc.boolean(),
  }),
  task: plainJson.map((payload) => ({ payload })),
};

interface Spec {
  type: string;
  fields: Obj;
  common: Obj;
  extra: Obj;
}
const spec: fc.Arbitrary<Spec> = fc
  .constantFrom(...BUILTIN_STEP_TYPES, 'task')
  .chain((type) => fc.record({ type: fc.constant(type), fields: typeFields[type]!, common, extra }));

export interface Generated {
  doc: Obj;
  keys: string[];
  /** Indices of the runnable (non-note) steps. */
  runnable: number[];
  /** For each runnable step but the first: the predecessor that makes it reachable. */
  pred: Map<number, number>;
}

/**
 * Valid documents: an input step first, then steps of every built-in type and the host type "task"; each
 * runnable step has a predecessor before it (so all are reachable), plus random forward edges (so the graph
 * is acyclic), with unknown extra fields at the top level and in steps.
 */
export const generated: fc.Arbitrary<Generated> = fc
  .record({
    first: common,
    specs: fc.array(spec, { maxLength: 9 }),
    keys: fc.uniqueArray(key, { minLength: 10, maxLength: 10 }),
    preds: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
    edges: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 12 }),
    top: extra,
  })
  .map(({ first, specs, keys, preds, edges, top }) => {
    const all: Spec[] = [{ type: 'input', fields: {}, common: first, extra: {} }, ...specs];
    const steps: Obj[] = all.map((s, i) => {
      const step: Obj = { type: s.type, key: keys[i]!, ...s.common, ...s.extra };
      if (s.type === 'branch') {
        const b = s.fields as { names: string[]; conditions: string[]; withElse: boolean };
        step.conditions = Object.fromEntries(
          b.names.map((name, k) => [name, { condition: b.conditions[k]!, destinations: [], order: k + 1 }]),
        );
        if (b.withElse) step.else = [];
      } else {
        Object.assign(step, s.fields);
      }
      if (s.type !== 'note') step.destinations = [];
      return step;
    });
    const runnable = steps.flatMap((s, i) => (s.type === 'note' ? [] : [i]));
    const add = (list: string[], target: string) => {
      if (!list.includes(target)) list.push(target);
    };
    const pred = new Map<number, number>();
    for (const [r, j] of runnable.entries()) {
      if (r === 0) continue;
      const p = runnable[preds[j]! % r]!;
      pred.set(j, p);
      add(steps[p]!.destinations as string[], keys[j]!);
    }
    for (const [a, b, c] of edges) {
      const i = runnable[a % runnable.length]!;
      const j = runnable[b % runnable.length]!;
      if (i >= j) continue;
      const from = steps[i]!;
      const conditions = from.conditions as Record<string, { destinations: string[] }> | undefined;
      const names = conditions === undefined ? [] : Object.keys(conditions);
      if (from.type === 'branch' && c % 3 === 1 && names.length > 0) {
        add(conditions![names[c % names.length]!]!.destinations, keys[j]!);
      } else if (from.type === 'branch' && c % 3 === 2 && Array.isArray(from.else)) {
        add(from.else as string[], keys[j]!);
      } else {
        add(from.destinations as string[], keys[j]!);
      }
    }
    return { doc: { ...top, key: 'generated', steps }, keys, runnable, pred };
  });

/** Every field name a step may have (common and type-specific), for fuzzing. */
export const STEP_FIELD_NAMES: string[] = [
  ...new Set([
    ...Object.keys(stepCommonFields),
    ...Object.values(stepTypeFields).flatMap((fields) => Object.keys(fields)),
  ]),
];

/** Any value fast-check can make, exotic ones included. */
export const anything = fc.anything({
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** Documents whose steps have known field names with values that are sometimes right, often wrong. */
export function fuzzedDocument(values: fc.Arbitrary<unknown>): fc.Arbitrary<{ steps: Obj[] }> {
  const value = fc.oneof(values, plainJson, expression, text, key, fc.array(key, { maxLength: 3 }));
  const step = fc.record({
    type: fc.oneof(fc.constantFrom(...BUILTIN_STEP_TYPES, 'task', 'other'), values),
    key: fc.oneof(key, values),
    rest: fc.dictionary(fc.constantFrom(...STEP_FIELD_NAMES), value, { maxKeys: 5 }),
  });
  return fc
    .array(step, { maxLength: 5 })
    .map((list) => ({ steps: list.map(({ type, key: k, rest }) => ({ ...rest, type, key: k })) }));
}
