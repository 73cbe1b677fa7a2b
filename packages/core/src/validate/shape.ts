/**
 * Shape checks: the document's own fields and each step against the TypeBox schema of its type (compiled
 * once, at module load), with TypeBox's errors turned into Weft problems:
 * - a missing required property → MISSING_FIELD (and nothing else at that path);
 * - a union of literals (an enum such as `method`) → INVALID_VALUE listing the allowed values;
 *   `language` (the document's, or a code step's) → UNSUPPORTED_LANGUAGE;
 * - any other union → the errors of the one member whose JSON type matches the value, or one
 *   INVALID_TYPE naming every member when none (or several) does;
 * - a wrong JSON type → INVALID_TYPE; a range, length or integer-range violation → INVALID_VALUE.
 * Unknown extra fields are allowed everywhere and never reported.
 */
import { Kind, type TSchema, Type } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { CustomStepSchema, draftFields, stepSchemas, versionMetadataFields } from '../model/schema.js';
import type { ProblemCode } from './codes.js';
import { describeGot, fieldName, pointerSegments, quote } from './problems.js';
import { closest } from './suggest.js';

/**
 * A copy of a schema in which every Record checks all its keys: TypeBox's `^(.*)$` skips keys containing a
 * line break, which would let `{"a\nb": 5}` through as a branch condition. The pattern becomes
 * `^[\s\S]*$` (TypeBox's compiled check of `additionalProperties` on a Record reads the wrong value, so
 * that is not an option). Schemas are small and not recursive, so recursion here is bounded.
 */
export function strictRecords<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(strictRecords) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(schema))
    out[key] = strictRecords((schema as Record<string | symbol, unknown>)[key]);
  const patterns = out.patternProperties as Record<string, unknown> | undefined;
  if (patterns !== undefined && Object.keys(patterns).length === 1 && Object.hasOwn(patterns, '^(.*)$')) {
    out.patternProperties = { '^[\\s\\S]*$': patterns['^(.*)$'] };
  }
  return out as T;
}

/** The document's own fields; steps are checked one by one against the schema of their type. */
const TopSchema = Type.Object({
  ...versionMetadataFields,
  ...draftFields,
  steps: Type.Array(Type.Unknown(), { description: 'The steps of the workflow.' }),
});

const compile = (schema: TSchema): TypeCheck<TSchema> => TypeCompiler.Compile(strictRecords(schema));

const topCheck = compile(TopSchema);
const customCheck = compile(CustomStepSchema);
const builtinChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(stepSchemas).map(([type, schema]) => [type, compile(schema as TSchema)]),
);

export interface ShapeIssue {
  code: Extract<ProblemCode, 'MISSING_FIELD' | 'INVALID_TYPE' | 'INVALID_VALUE' | 'UNSUPPORTED_LANGUAGE'>;
  /** JSON pointer relative to the checked value. */
  path: string;
  /** What is wrong and how to fix it, without the subject ("Step …"); built only when needed. */
  message: () => string;
}

/** Issues of the document's own fields (`steps` itself only as "an array"). */
export function topIssues(document: unknown): ShapeIssue[] {
  return issues(topCheck, document, true);
}

/** Issues of one step: the schema of its built-in type, else the common fields (host types, unknown types). */
export function stepIssues(step: unknown, type: unknown): ShapeIssue[] {
  const check = (typeof type === 'string' ? builtinChecks.get(type) : undefined) ?? customCheck;
  return issues(check, step, type === 'code');
}

/** The answer for a value without issues (shared: nearly every step has none). */
const NO_ISSUES: ShapeIssue[] = Object.freeze([]) as unknown as ShapeIssue[];

function issues(check: TypeCheck<TSchema>, value: unknown, isCode: boolean): ShapeIssue[] {
  if (check.Check(value)) return NO_ISSUES;
  const out: ShapeIssue[] = [];
  for (const error of check.Errors(value)) convert(error, out, isCode);
  // A missing field is reported once: drop the type errors TypeBox adds for the same (undefined) value.
  const missing = new Set(out.filter((i) => i.code === 'MISSING_FIELD').map((i) => i.path));
  const seen = new Set<string>();
  return out.filter((issue) => {
    if (issue.code !== 'MISSING_FIELD' && missing.has(issue.path)) return false;
    const id = `${issue.code} ${issue.path}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

type SchemaLike = TSchema & {
  anyOf?: SchemaLike[];
  items?: SchemaLike;
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  description?: string;
};

function kindOf(schema: SchemaLike): string {
  return String((schema as unknown as Record<symbol, unknown>)[Kind] ?? '');
}

function convert(error: ValueError, out: ShapeIssue[], isCode: boolean): void {
  const schema = error.schema as SchemaLike;
  const path = error.path;
  const field = (): string => `\`${fieldName(pointerSegments(path))}\``;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      out.push({
        code: 'MISSING_FIELD',
        path,
        message: () =>
          `the required field ${field()} is missing. Add it: ${expected(schema)}${about(schema)}.`,
      });
      return;
    case ValueErrorType.Union: {
      const literals = literalValues(schema);
      if (literals !== null) {
        out.push(enumIssue(path, field, error.value, literals, isCode));
        return;
      }
      const matching = (schema.anyOf ?? [])
        .map((variant, index) => ({ variant, index }))
        .filter(({ variant }) => matchesJsonType(variant, error.value));
      if (matching.length === 1) {
        const before = out.length;
        for (const inner of error.errors[matching[0]!.index] ?? []) convert(inner, out, isCode);
        if (out.length > before) return;
      }
      out.push(typeIssue(path, field, schema, error.value));
      return;
    }
    case ValueErrorType.Literal:
      out.push(enumIssue(path, field, error.value, [schema.const], isCode));
      return;
    case ValueErrorType.StringMinLength:
      out.push({
        code: 'INVALID_VALUE',
        path,
        message: () =>
          schema.minLength === 1
            ? `${field()} must not be empty. Give it a non-empty string${about(schema)}.`
            : `${field()} must be at least ${schema.minLength} characters long, but it is ${describeGot(error.value)}.`,
      });
      return;
    case ValueErrorType.StringMaxLength:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
      out.push({
        code: 'INVALID_VALUE',
        path,
        message: () =>
          `${field()} is ${describeGot(error.value)}, but it must be ${range(schema)}. Use a value in that range.`,
      });
      return;
    case ValueErrorType.Array:
    case ValueErrorType.Boolean:
    case ValueErrorType.Integer:
    case ValueErrorType.Null:
    case ValueErrorType.Number:
    case ValueErrorType.Object:
    case ValueErrorType.String:
      out.push(typeIssue(path, field, schema, error.value));
      return;
    default:
      out.push({
        code: 'INVALID_VALUE',
        path,
        message: () => `${field()} is not valid: ${error.message} (it is ${describeGot(error.value)}).`,
      });
  }
}

function typeIssue(path: string, field: () => string, schema: SchemaLike, value: unknown): ShapeIssue {
  return {
    code: 'INVALID_TYPE',
    path,
    message: () => {
      const want = expected(schema);
      return `${field()} must be ${want}, but it is ${describeGot(value)}. Change it to ${want}${about(schema)}.`;
    },
  };
}

function enumIssue(
  path: string,
  field: () => string,
  value: unknown,
  allowed: readonly unknown[],
  isCode: boolean,
): ShapeIssue {
  if (isCode && path === '/language') {
    return {
      code: 'UNSUPPORTED_LANGUAGE',
      path,
      message: () =>
        `\`language\` is ${describeGot(value)}, but Weft runs "jsonata" and "javascript" only. ` +
        'Set `language` to one of them (or remove it: the default is the engine\'s, "jsonata" unless set).',
    };
  }
  return {
    code: 'INVALID_VALUE',
    path,
    message: () => {
      const list = allowed.map((v) => JSON.stringify(v)).join(', ');
      const strings = allowed.filter((v): v is string => typeof v === 'string');
      const guess = typeof value === 'string' ? closest(value, strings) : undefined;
      return (
        `${field()} is ${describeGot(value)}, which is not allowed. ` +
        (guess === undefined ? '' : `Did you mean ${quote(guess)}? `) +
        (allowed.length === 1 ? `It must be ${list}.` : `Use one of ${list}.`)
      );
    },
  };
}

function literalValues(schema: SchemaLike): unknown[] | null {
  const variants = schema.anyOf;
  if (variants === undefined || variants.length === 0) return null;
  if (!variants.every((v) => kindOf(v) === 'Literal')) return null;
  return variants.map((v) => v.const);
}

/** Whether `value`'s JSON type is the type of `schema` (so that schema's errors are the relevant ones). */
function matchesJsonType(schema: SchemaLike, value: unknown): boolean {
  switch (kindOf(schema)) {
    case 'String':
      return typeof value === 'string';
    case 'Number':
    case 'Integer':
      return typeof value === 'number';
    case 'Boolean':
      return typeof value === 'boolean';
    case 'Null':
      return value === null;
    case 'Array':
      return Array.isArray(value);
    case 'Object':
    case 'Record':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'Literal':
      return typeof value === typeof schema.const;
    default:
      return false;
  }
}

/** "a string", "an array of strings", "a string or null", … */
export function expected(schema: SchemaLike): string {
  switch (kindOf(schema)) {
    case 'String':
      return (schema.minLength ?? 0) >= 1 ? 'a non-empty string' : 'a string';
    case 'Number':
      return 'a number';
    case 'Integer':
      return 'an integer';
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'null';
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Array':
      return schema.items === undefined ? 'an array' : `an array of ${plural(schema.items)}`;
    case 'Object':
    case 'Record':
      return 'an object';
    case 'Unknown':
    case 'Any':
      return 'any JSON value';
    case 'Union': {
      const literals = literalValues(schema);
      if (literals !== null) return `one of ${literals.map((v) => JSON.stringify(v)).join(', ')}`;
      const names = [...new Set((schema.anyOf ?? []).map(expected))];
      return names.join(' or ');
    }
    default:
      return 'a valid value';
  }
}

function plural(schema: SchemaLike): string {
  switch (kindOf(schema)) {
    case 'String':
      return 'strings';
    case 'Number':
      return 'numbers';
    case 'Integer':
      return 'integers';
    case 'Boolean':
      return 'booleans';
    case 'Object':
    case 'Record':
      return 'objects';
    case 'Union':
      return `values (each ${expected(schema)})`;
    default:
      return 'values';
  }
}

function range(schema: SchemaLike): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`at least ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`greater than ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`at most ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`less than ${schema.exclusiveMaximum}`);
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters long`);
  return parts.length === 0 ? 'in range' : parts.join(' and ');
}

/** " (JSONata expression; …)" from the schema's description, when it has one. */
function about(schema: SchemaLike): string {
  const d = schema.description;
  if (typeof d !== 'string' || d === '') return '';
  const text = d.replace(/\.$/, '');
  // "Keys of the steps…" → "keys of the steps…", but "JSONata expression…" stays as it is.
  return ` (${/^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text})`;
}
