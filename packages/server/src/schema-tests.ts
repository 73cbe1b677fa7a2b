/** The Tests resource on the wire (the platform's WorkflowTestSchema) and its bodies. */
import { Type } from '@sinclair/typebox';
import { AnyObject, Nullable, PageQuery, Timestamp, WorkflowParams } from './schema-common.js';
import { WireRunSchema } from './schema-runs.js';

export const WireExpectationSchema = Type.Object(
  {
    key: Type.String(),
    name: Type.String(),
    script: Type.String(),
    expectation_id: Type.Optional(
      Type.String({ description: 'The library expectation (`/tests/expectations`) whose script it runs.' }),
    ),
    status: Nullable(Type.String({ description: 'PASSED or FAILED after a run; null before.' })),
    output: Type.Optional(
      Type.Unknown({
        description:
          'What the script evaluated to at the last run (null if it failed, or past 1 KB of JSON).',
      }),
    ),
    message: Nullable(Type.String({ description: 'Weft extension: why it failed.' })),
    code: Type.Optional(
      Type.String({ description: 'Weft extension: the error code when the script could not be evaluated.' }),
    ),
  },
  { additionalProperties: true },
);

export const WireTestSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    status: Type.String({ description: 'DRAFT (never run), RUNNING, PASSED, FAILED or CANCELLED.' }),
    input: AnyObject,
    step_key: Nullable(Type.String()),
    expectations: Type.Array(WireExpectationSchema),
    expectations_passing_count: Type.Integer(),
    expectations_failing_count: Type.Integer(),
    workflow_id: Type.String(),
    run: Nullable(WireRunSchema),
    last_run_id: Nullable(Type.String()),
    last_run_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: true },
);

export const TestParams = Type.Object({
  ...WorkflowParams.properties,
  test_id: Type.String({ minLength: 1, maxLength: 200 }),
});

const ExpectationInput = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 256 }),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    script: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 10_000,
        description: 'A boolean over the run; required unless `expectation_id` is given.',
      }),
    ),
    expectation_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'A library expectation of the workflow (`/tests/expectations`): its script runs, and `script` is ignored.',
      }),
    ),
  },
  {
    additionalProperties: true,
    description: 'Other fields of the platform’s item (status, output…) are ignored.',
  },
);

export const CreateTestBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    input: Type.Optional(AnyObject),
    step_key: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    expectations: Type.Optional(Type.Array(ExpectationInput, { maxItems: 200 })),
  },
  { additionalProperties: false },
);

export const UpdateTestBody = Type.Object(
  {
    name: Type.Optional(CreateTestBody.properties.name),
    input: Type.Optional(AnyObject),
    step_key: CreateTestBody.properties.step_key,
    expectations: CreateTestBody.properties.expectations,
  },
  { additionalProperties: false },
);

export const RunTestsBody = Type.Object(
  {
    workflow_version_number: Type.Optional(Type.Integer({ minimum: 1 })),
    execute_failed_only: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const RunTestBody = Type.Object(
  {
    workflow_version_number: Type.Optional(Type.Integer({ minimum: 1 })),
    execute_async: Type.Optional(
      Type.Boolean({ description: 'Answer at once; the test runs in the background.' }),
    ),
    execute_expectations_only: Type.Optional(
      Type.Boolean({ description: 'Evaluate the expectations against the last run again, without running.' }),
    ),
  },
  { additionalProperties: false },
);

export const ListTestsQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 200, description: 'Case-insensitive text in the name.' })),
    status: Type.Optional(
      Type.String({
        maxLength: 20,
        description: 'ALL (default), DRAFT, RUNNING, PASSED, FAILED, CANCELLED.',
      }),
    ),
    verbose: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'Accepted; every field is always answered.',
      }),
    ),
  },
  { additionalProperties: false },
);
