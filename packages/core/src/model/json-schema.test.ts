/**
 * The published JSON Schema: plain JSON, self-contained, and in agreement with the validator's shape checks
 * (checked with a small draft-07 evaluator of the keywords the schema uses).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../test-support/fc.js';
import { validateVersion } from '../validate/index.js';
import { fuzzedDocument, generated, OPTIONS } from '../validate/test-support/documents.js';
import { getWorkflowJsonSchema, WORKFLOW_JSON_SCHEMA_ID, workflowJsonSchema } from './json-schema.js';
import { BUILTIN_STEP_TYPES } from './schema.js';

type Schema = Record<string, unknown>;

const KNOWN_KEYWORDS = new Set([
  '$schema',
  '$id',
  '$ref',
  'title',
  'description',
  'examples',
  'definitions',
  'type',
  'properties',
  'required',
  'patternProperties',
  'additionalProperties',
  'items',
  'anyOf',
  'allOf',
  'if',
  'then',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A draft-07 evaluator of the keywords above (the test fails if the schema uses any other). */
function valid(schema: Schema, value: unknown, root: Schema = schema): boolean {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/definitions/', '');
    return valid((root.definitions as Record<string, Schema>)[name]!, value, root);
  }
  if (schema.type !== undefined) {
    const ok = (() => {
      switch (schema.type) {
        case 'string':
          return typeof value === 'string';
        case 'number':
          return typeof value === 'number' && Number.isFinite(value);
        case 'integer':
          return Number.isInteger(value);
        case 'boolean':
          return typeof value === 'boolean';
        case 'null':
          return value === null;
        case 'array':
          return Array.isArray(value);
        case 'object':
          return isObject(value);
        default:
          throw new Error(`type ${String(schema.type)}`);
      }
    })();
    if (!ok) return false;
  }
  if ('const' in schema && value !== schema.const) return false;
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) return false;
    if (typeof schema.maximum === 'number' && value > schema.maximum) return false;
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) return false;
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) return false;
  }
  if (typeof value === 'string' && typeof schema.minLength === 'number' && value.length < schema.minLength) {
    return false;
  }
  if (
    Array.isArray(value) &&
    isObject(schema.items) &&
    !value.every((v) => valid(schema.items as Schema, v, root))
  ) {
    return false;
  }
  if (isObject(value)) {
    for (const name of (schema.required as string[] | undefined) ?? [])
      if (!Object.hasOwn(value, name)) return false;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>);
    for (const [name, v] of Object.entries(value)) {
      let matched = false;
      if (Object.hasOwn(properties, name)) {
        matched = true;
        if (!valid(properties[name]!, v, root)) return false;
      }
      for (const [pattern, s] of patterns) {
        if (new RegExp(pattern, 'u').test(name)) {
          matched = true;
          if (!valid(s, v, root)) return false;
        }
      }
      if (!matched && isObject(schema.additionalProperties) && !valid(schema.additionalProperties, v, root)) {
        return false;
      }
    }
  }
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s: Schema) => valid(s, value, root))) return false;
  if (Array.isArray(schema.allOf) && !schema.allOf.every((s: Schema) => valid(s, value, root))) return false;
  if (isObject(schema.if) && valid(schema.if, value, root) && isObject(schema.then)) {
    if (!valid(schema.then, value, root)) return false;
  }
  return true;
}

function* nodes(value: unknown): Generator<Record<string, unknown>> {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v);
    else if (isObject(v)) {
      yield v;
      stack.push(...Object.values(v));
    }
  }
}

const schema = workflowJsonSchema as Schema;
const SHAPE_CODES = new Set(['MISSING_FIELD', 'INVALID_TYPE', 'INVALID_VALUE', 'UNSUPPORTED_LANGUAGE']);

describe('workflowJsonSchema', () => {
  it('is a draft-07 document with an $id, a title and definitions', () => {
    expect(schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: WORKFLOW_JSON_SCHEMA_ID,
      title: expect.any(String),
      allOf: [{ $ref: '#/definitions/WorkflowVersion' }],
    });
    const names = Object.keys(schema.definitions as object).sort();
    expect(names).toEqual(
      [
        ...BUILTIN_STEP_TYPES.map((t) => `Step_${t}`),
        'Step_custom',
        'Step',
        'WorkflowVersion',
        'WorkflowVersionDraft',
      ].sort(),
    );
  });

  it('is plain JSON: no symbol keys, no nested $id, every $ref resolves, only known keywords', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    const definitions = schema.definitions as Record<string, unknown>;
    for (const node of nodes(definitions)) {
      expect(Object.getOwnPropertySymbols(node)).toEqual([]);
      expect(node.$id).toBeUndefined();
      if (typeof node.$ref === 'string') {
        expect(node.$ref).toMatch(/^#\/definitions\//);
        expect(definitions[node.$ref.slice('#/definitions/'.length)]).toBeDefined();
      }
    }
    const check = (s: unknown): void => {
      if (!isObject(s)) return;
      for (const [k, v] of Object.entries(s)) {
        expect(KNOWN_KEYWORDS.has(k), k).toBe(true);
        if (k === 'properties' || k === 'patternProperties' || k === 'definitions') {
          for (const child of Object.values(v as object)) check(child);
        } else if (k === 'items' || k === 'additionalProperties' || k === 'if' || k === 'then') check(v);
        else if (k === 'anyOf' || k === 'allOf') for (const child of v as unknown[]) check(child);
      }
    };
    check(schema);
  });

  it('is frozen; getWorkflowJsonSchema() returns a fresh mutable copy', () => {
    expect(Object.isFrozen(schema)).toBe(true);
    const copy = getWorkflowJsonSchema();
    expect(copy).toEqual(schema);
    copy.title = 'changed';
    expect(schema.title).not.toBe('changed');
  });

  it('a step is checked against the schema of its type; other types get the common fields', () => {
    const doc = (step: Schema) => ({ steps: [step] });
    expect(valid(schema, doc({ type: 'code', key: 'c', code: '1' }))).toBe(true);
    expect(valid(schema, doc({ type: 'code', key: 'c' }))).toBe(false);
    expect(valid(schema, doc({ type: 'task', key: 't', anything: 1 }))).toBe(true);
    expect(valid(schema, doc({ type: 'task', key: 't', destinations: 'x' }))).toBe(false);
    expect(valid(schema, doc({ type: 'branch', key: 'b', conditions: { 'a\nb': 5 } }))).toBe(false);
    expect(valid(schema, { steps: [], editor: { anything: true } })).toBe(true);
  });

  it('property: generated valid documents satisfy the schema', () => {
    fc.assert(
      fc.property(generated, ({ doc }) => {
        expect(valid(schema, doc)).toBe(true);
      }),
      { numRuns: fcRuns(100) },
    );
  });

  it('property: the schema rejects a JSON document exactly when the validator reports a shape problem', () => {
    fc.assert(
      fc.property(fuzzedDocument(fc.jsonValue({ maxDepth: 2 })), (doc) => {
        const shape = validateVersion(doc, OPTIONS).problems.some((p) => SHAPE_CODES.has(p.code));
        expect(valid(schema, doc)).toBe(!shape);
      }),
      { numRuns: fcRuns(300) },
    );
  });
});
