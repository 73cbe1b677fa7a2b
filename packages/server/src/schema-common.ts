/**
 * Schema pieces every route shares, in TypeBox: one source for request validation, the OpenAPI
 * document (`GET /openapi.json`) and, in tests, the check of every response (`checkResponses`).
 */
import { type TSchema, Type } from '@sinclair/typebox';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A string enum as a plain `{ type: "string", enum }` (reads better in OpenAPI than anyOf/const). */
export function StringEnum<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({
    type: 'string',
    enum: [...values],
    ...(description === undefined ? {} : { description }),
  });
}

/** Any JSON object; its own fields are kept as they are. */
export const AnyObject = Type.Object({}, { additionalProperties: true });

export const Timestamp = Type.String({ description: 'ISO 8601 date-time (UTC).' });

/** The error body of every non-2xx answer. */
export const ErrorItemSchema = Type.Object(
  {
    validation: Type.String({ description: 'What failed: a JSON Schema keyword, or a Weft problem code.' }),
    code: Type.String({ description: 'Weft error code of the problem.' }),
    message: Type.String(),
    path: Type.Array(Type.String(), { description: 'Where: e.g. ["body", "input", "name"].' }),
  },
  { additionalProperties: false },
);

export const ErrorBodySchema = Type.Object(
  {
    status: Type.Integer({ description: 'The HTTP status, repeated.' }),
    message: Type.String({ description: 'What was wrong and how to fix it.' }),
    code: Type.String({ description: 'Weft error code (docs/errors.md).' }),
    errors: Type.Optional(Type.Array(ErrorItemSchema)),
  },
  { additionalProperties: false, $id: 'ErrorBody' },
);

export const PageQuery = {
  page: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: 'Page number (1-based).' }),
  ),
  take: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1–100).' }),
  ),
};

export const AppParams = Type.Object({
  app_id: Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'The app; `c` stands for the app of the API key (what the platform’s SDK sends).',
  }),
});

export const WorkflowParams = Type.Object({
  ...AppParams.properties,
  workflow_id: Type.String({ minLength: 1, maxLength: 200 }),
});

export const RetentionSchema = Type.Object(
  {
    max_age_in_seconds: Type.Number({
      description: 'Seconds after the run ends that its data is kept; -1 keeps it forever.',
    }),
    preserve_on_failure: Type.Boolean(),
  },
  { additionalProperties: false },
);

const RetentionObjectInput = Type.Object(
  { max_age_in_seconds: Type.Number(), preserve_on_failure: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/** A retention as a request gives it: a number of seconds or an object (no null). */
export const RetentionValue = Type.Union([
  Type.Number({ description: 'max_age_in_seconds' }),
  RetentionObjectInput,
]);

export const RetentionInput = Type.Union(
  [Type.Number({ description: 'max_age_in_seconds' }), RetentionObjectInput, Type.Null()],
  { description: 'A number of seconds, or { max_age_in_seconds, preserve_on_failure }.' },
);

/** A workflow document (draft or version): validated by the engine when run or published, not here. */
export const DocumentSchema = Type.Object(
  {
    key: Type.Optional(Nullable(Type.String())),
    input: Type.Optional(AnyObject),
    input_default: Type.Optional(Nullable(AnyObject)),
    input_options: Type.Optional(Nullable(AnyObject)),
    steps: Type.Array(AnyObject),
  },
  {
    additionalProperties: true,
    description: 'A workflow document; its full JSON Schema is `weft schema` (docs/document-model.md).',
  },
);

/** A document as answered: these four fields are always there (null when the document has none). */
const answeredDocumentFields = {
  key: Nullable(Type.String()),
  input: AnyObject,
  input_default: Nullable(AnyObject),
  input_options: Nullable(AnyObject),
  steps: Type.Array(AnyObject),
};

export const WireDocumentSchema = Type.Object(answeredDocumentFields, { additionalProperties: true });

export const VersionSchema = Type.Object(
  {
    ...answeredDocumentFields,
    id: Type.String(),
    app_id: Type.String(),
    workflow_id: Type.String(),
    description: Nullable(Type.String()),
    version: Type.Integer(),
    rollback_version: Nullable(Type.Integer()),
    notes: Nullable(Type.String()),
    created_by: Nullable(AnyObject),
    created_at: Timestamp,
  },
  { additionalProperties: true },
);
