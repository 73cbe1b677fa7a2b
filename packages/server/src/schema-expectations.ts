/**
 * The expectation library on the wire (the platform's WorkflowExpectationSchema, Create… and Update…)
 * and its list query.
 */
import { Type } from '@sinclair/typebox';
import { Nullable, PageQuery, Timestamp, WorkflowParams } from './schema-common.js';

export const WireLibraryExpectationSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'At most 256 characters.' }),
    script: Type.String({ description: 'A boolean over the run, in the workflow’s language.' }),
    created_at: Nullable(Timestamp),
    updated_at: Nullable(Timestamp),
  },
  { additionalProperties: true },
);

export const ExpectationParams = Type.Object({
  ...WorkflowParams.properties,
  expectation_id: Type.String({ minLength: 1, maxLength: 200 }),
});

const Name = Type.String({ minLength: 1, maxLength: 256, description: 'At most 256 characters.' });
const Script = Type.String({
  minLength: 1,
  maxLength: 10_000,
  description:
    'A boolean over the finished run (`result`, `output`, `status`, `usage`, `error`, `input`, `step`), in the workflow’s language: JSONata, or a JavaScript function body.',
});

export const CreateExpectationBody = Type.Object(
  { name: Name, script: Script },
  { additionalProperties: false },
);

export const UpdateExpectationBody = Type.Object(
  { name: Type.Optional(Name), script: Type.Optional(Script) },
  { additionalProperties: false },
);

export const ListExpectationsQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 256, description: 'Case-insensitive text in the name.' })),
    next: Type.Optional(
      Type.String({ maxLength: 1000, description: 'Accepted (the platform’s token); `page` pages here.' }),
    ),
  },
  { additionalProperties: false },
);
