/**
 * A tool's arguments as a JSON Schema for the model, from an input definition (the platform's
 * `InputDefinitionSchema`: field name → field). Without a definition a tool takes an open object. The
 * schema says what the model should send; what it does send is checked against the definition itself
 * (input/fields.ts), the same rules as a run input.
 */
import { MAX_FIELD_DEPTH } from '../input/fields.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An open object: any arguments. */
export const OPEN_OBJECT_SCHEMA: Readonly<Json> = Object.freeze({ type: 'object', properties: {} });

/** The JSON Schema of an input definition (an object of fields), or the open object without one. */
export function inputJsonSchema(definition: Record<string, unknown> | undefined): Json {
  if (definition === undefined) return { type: 'object', properties: {} };
  return objectSchema(definition, true, 0);
}

function objectSchema(fields: Json, additional: boolean, depth: number): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    if (!isObject(field) || typeof field.type !== 'string' || field.type === 'content') continue;
    properties[name] = fieldSchema(field, depth);
    const optional = field.optional === true || field.default !== undefined;
    if (!optional) required.push(name);
  }
  const schema: Json = { type: 'object', properties };
  if (required.length > 0) schema.required = required;
  if (!additional) schema.additionalProperties = false;
  return schema;
}

function fieldSchema(field: Json, depth: number): Json {
  const one = baseSchema(field, depth);
  const description = [field.description, field.desc, field.name].find(
    (d): d is string => typeof d === 'string' && d !== '',
  );
  if (description !== undefined) one.description = description;
  if (field.default !== undefined && field.array !== true) one.default = field.default;
  if (field.array === true) {
    const array: Json = { type: 'array', items: one };
    if (description !== undefined) array.description = description;
    if (Array.isArray(field.default)) array.default = field.default;
    return array;
  }
  return one;
}

function baseSchema(field: Json, depth: number): Json {
  switch (field.type) {
    case 'string':
      return field.validation === 'url' ? { type: 'string', format: 'uri' } : { type: 'string' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'time':
      return { type: 'string', format: 'time' };
    case 'select': {
      const values = (Array.isArray(field.options) ? field.options : []).map((o) =>
        isObject(o) && 'value' in o ? o.value : o,
      );
      const scalars = values.filter((v) => typeof v === 'string' || typeof v === 'number');
      if (field.additional_options === true || scalars.length === 0) {
        return scalars.length === 0 ? { type: 'string' } : { type: 'string', examples: scalars };
      }
      return { enum: scalars };
    }
    case 'object':
      if (isObject(field.fields) && depth + 1 < MAX_FIELD_DEPTH) {
        return objectSchema(field.fields, field.additional_fields !== false, depth + 1);
      }
      return { type: 'object' };
    case 'file':
      return { type: 'string', description: 'A file: a URL, a data URL or a file id.' };
    case 'connection':
      return { type: 'string', description: 'A connection id.' };
    default:
      return {};
  }
}
