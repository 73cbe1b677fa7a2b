/**
 * The published JSON Schema (draft-07) of the workflow document — a version or a draft — built from the
 * same TypeBox definitions as the TypeScript types and the validator (model/schema.ts). Editors use it for
 * completion and inline checks; `weft schema` prints it.
 *
 * Layout: the root refers to `#/definitions/WorkflowVersion` (every draft is also a valid version: the
 * version metadata fields are all optional). `#/definitions/Step` picks the schema of a step by its `type`
 * with `if`/`then`, the way the validator does; any other type gets the common fields only
 * (`Step_custom`). TypeBox's symbol keys and nested `$id`s are removed, so that every JSON Schema tool reads
 * it as one plain document. The schema checks shapes only: graph rules (unique keys, destinations that
 * exist, no cycles) and expression syntax are the validator's (docs/errors.md).
 */

import { deepFreeze } from '../freeze.js';
import { BUILTIN_STEP_TYPES, CustomStepSchema, DraftSchema, stepSchemas, VersionSchema } from './schema.js';

export const WORKFLOW_JSON_SCHEMA_ID = 'https://weft.dev/schemas/workflow-version.json';

type Json = Record<string, unknown>;

/**
 * A TypeBox schema as plain JSON: symbol keys dropped by the JSON round trip, nested `$id`s removed, and
 * every record's pattern also applied to keys it does not match (`^(.*)$` skips keys containing a line
 * break; the validator checks those too).
 */
function plain(schema: unknown): Json {
  const json = JSON.parse(JSON.stringify(schema), (key, value) =>
    key === '$id' ? undefined : value,
  ) as Json;
  const stack: unknown[] = [json];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (!Array.isArray(node)) {
      const o = node as Json;
      const patterns = o.patternProperties as Json | undefined;
      if (patterns !== undefined && o.additionalProperties === undefined) {
        const values = Object.values(patterns);
        if (values.length === 1) o.additionalProperties = structuredClone(values[0]);
      }
    }
    for (const child of Object.values(node)) stack.push(child);
  }
  return json;
}

function withStepRefs(schema: unknown): Json {
  const json = plain(schema);
  const properties = json.properties as Json;
  properties.steps = {
    ...(properties.steps as Json),
    items: { $ref: '#/definitions/Step' },
    description: 'The steps of the workflow, in editor order; `destinations` link them into a graph.',
  };
  return json;
}

function build(): Json {
  const definitions: Json = {};
  for (const [type, schema] of Object.entries(stepSchemas)) definitions[`Step_${type}`] = plain(schema);
  definitions.Step_custom = plain(CustomStepSchema);
  definitions.Step = {
    title: 'step',
    description:
      'A step. Its `type` selects the fields: a built-in type (note, input, branch, code, model, http_request, ' +
      'workflow, service, browser) or a type the host registered a handler for.',
    type: 'object',
    properties: {
      type: {
        type: 'string',
        minLength: 1,
        description: 'The step type: built in, or registered by the host with createEngine({ steps }).',
        examples: [...BUILTIN_STEP_TYPES],
      },
    },
    allOf: [
      { $ref: '#/definitions/Step_custom' },
      ...BUILTIN_STEP_TYPES.map((type) => ({
        if: { properties: { type: { const: type } }, required: ['type'] },
        then: { $ref: `#/definitions/Step_${type}` },
      })),
    ],
  };
  definitions.WorkflowVersionDraft = withStepRefs(DraftSchema);
  definitions.WorkflowVersion = withStepRefs(VersionSchema);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: WORKFLOW_JSON_SCHEMA_ID,
    title: 'Weft workflow version or draft',
    description:
      'A workflow version (or draft) of the Workflows API, as Weft runs it. Unknown fields are allowed and kept.',
    type: 'object',
    allOf: [{ $ref: '#/definitions/WorkflowVersion' }],
    definitions,
  };
}

/** The JSON Schema of the document model (frozen; `getWorkflowJsonSchema()` returns a mutable copy). */
export const workflowJsonSchema: Readonly<Record<string, unknown>> = deepFreeze(build());

/** A fresh, mutable copy of `workflowJsonSchema`. */
export function getWorkflowJsonSchema(): Record<string, unknown> {
  return structuredClone(workflowJsonSchema) as Record<string, unknown>;
}
