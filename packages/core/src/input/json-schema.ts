/**
 * Input fields as a JSON Schema (draft 2020-12 subset that OpenAI's structured output and Anthropic's
 * tool input accept): what auto-fill asks a model to produce (run/auto-fill.ts). Types map as string →
 * string (`format: uri` with `validation: "url"`), number → number, boolean → boolean, date/datetime/time →
 * string with a format and a pattern-free description, select → `enum` of its option values (a string
 * with the options as examples when `additional_options`), file/connection → string, object → object
 * (its nested `fields`, to MAX_FIELD_DEPTH), `array: true` → an array of the type. A field's `name` and
 * `desc` become its description. The schema says what to send; the answer is checked against the
 * definitions themselves (fields.ts).
 */
import { type FieldDefinition, isFieldDefinition, isPlainObject, MAX_FIELD_DEPTH } from './fields.js';

type Json = Record<string, unknown>;

/** The object schema of `fields` (name → definition); `required` lists the non-optional ones. */
export function fieldsJsonSchema(fields: Readonly<Record<string, FieldDefinition>>): Json {
  return objectSchema(fields, false, 0);
}

function objectSchema(fields: Readonly<Record<string, unknown>>, additional: boolean, depth: number): Json {
  const properties: Json = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    if (!isFieldDefinition(field) || field.type === 'content') continue;
    properties[name] = fieldSchema(field, depth);
    if (field.optional !== true) required.push(name);
  }
  const schema: Json = { type: 'object', properties };
  if (required.length > 0) schema.required = required;
  if (!additional) schema.additionalProperties = false;
  return schema;
}

function fieldSchema(field: FieldDefinition, depth: number): Json {
  const one = baseSchema(field, depth);
  const description = [field.name, field.desc, field.description]
    .filter((d): d is string => typeof d === 'string' && d !== '')
    .join(': ');
  if (field.array === true) {
    const array: Json = { type: 'array', items: one };
    if (description !== '') array.description = description;
    return array;
  }
  if (description !== '') one.description = description;
  return one;
}

function baseSchema(field: FieldDefinition, depth: number): Json {
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
        isPlainObject(o) && 'value' in o ? o.value : o,
      );
      const scalars = values.filter(
        (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
      );
      if (field.additional_options === true || scalars.length === 0) {
        return scalars.length === 0 ? { type: 'string' } : { type: 'string', examples: scalars };
      }
      return { enum: scalars };
    }
    case 'object':
      if (isPlainObject(field.fields) && depth + 1 < MAX_FIELD_DEPTH) {
        return objectSchema(field.fields, field.additional_fields !== false, depth + 1);
      }
      return { type: 'object' };
    case 'file':
      return { type: 'string', description: 'A URL, data URI or file id.' };
    case 'connection':
      return { type: 'string', description: 'A connection id.' };
    default:
      return {};
  }
}
