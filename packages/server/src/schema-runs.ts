/** The run object on the wire (the seed's shape) and the bodies and queries of the run routes. */

import { Type } from '@sinclair/typebox';
import { RUN_ORIGINS, RUN_STATUSES, STEP_STATUSES } from '@weft/core';
import {
  AnyObject,
  Nullable,
  PageQuery,
  RetentionInput,
  RetentionSchema,
  RetentionValue,
  StringEnum,
  Timestamp,
  VersionSchema,
  WireDocumentSchema,
  WorkflowParams,
} from './schema-common.js';

export const WireStepSchema = Type.Object(
  {
    status: StringEnum(STEP_STATUSES),
    type: Type.String(),
    key: Type.String(),
    output: Type.Unknown({ description: 'The step’s output (null until it completes).' }),
    logs: Type.Array(Type.Unknown()),
    calls: Type.Array(Type.Unknown(), { description: 'Usage entries of the step (model calls, sub-runs).' }),
    start: Nullable(Type.Number({ description: 'When the step started: epoch milliseconds.' })),
    end: Nullable(Type.Number({ description: 'When the step ended: epoch milliseconds.' })),
    error: Nullable(Type.String({ description: 'The error message of a FAILED step.' })),
    error_code: Nullable(Type.String({ description: 'Weft extension: the error’s code (docs/errors.md).' })),
    attempts: Type.Integer(),
    skip_reason: Type.Optional(Type.String()),
    iterations: Type.Optional(AnyObject),
  },
  { additionalProperties: true },
);

const UsageSchema = Type.Object(
  {
    total: Type.Number(),
    calls: Type.Array(AnyObject),
    steps: Type.Record(Type.String(), AnyObject),
  },
  { additionalProperties: true },
);

export const WireRunSchema = Type.Object(
  {
    id: Type.String(),
    result: Type.Unknown(),
    input: AnyObject,
    output: Type.Record(Type.String(), WireStepSchema),
    status: StringEnum(RUN_STATUSES),
    origin: StringEnum(RUN_ORIGINS),
    error: Nullable(Type.String({ description: 'The error message of a FAILED (or CANCELLED) run.' })),
    error_code: Nullable(Type.String({ description: 'Weft extension: the error’s code (docs/errors.md).' })),
    started_at: Nullable(Timestamp),
    ended_at: Nullable(Timestamp),
    app_id: Type.String({ description: 'The app the run belongs to (the caller).' }),
    workflow_app_id: Type.String({ description: 'The app that owns the workflow.' }),
    workflow_id: Type.String(),
    workflow_version_draft: Nullable(WireDocumentSchema),
    workflow_version: Nullable(VersionSchema),
    collection_id: Nullable(Type.String()),
    record_id: Nullable(Type.String()),
    version: Nullable(Type.Integer()),
    usage: UsageSchema,
    retention: Nullable(RetentionSchema),
    retention_due_at: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
    replay_of: Nullable(Type.String({ description: 'Weft extension: the run this one replays.' })),
    purged_at: Nullable(Timestamp),
  },
  { additionalProperties: true },
);

export const RunParams = Type.Object({
  ...WorkflowParams.properties,
  run_id: Type.String({ minLength: 1, maxLength: 200 }),
});

const runOptions = {
  input: Type.Optional(AnyObject),
  stream: Type.Optional(
    Type.Boolean({
      description:
        'Answer text/event-stream: `run`, then `step` and `chunk` events, then the final `run`; closes when the run ends.',
    }),
  ),
  background: Type.Optional(
    Type.Boolean({ description: 'Answer at once with the RUNNING run (stream wins over it).' }),
  ),
  retention: Type.Optional(RetentionInput),
  workflow_version_id: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Integer({ minimum: 1 })], {
      description: '"latest" (default), "draft", a version number or a version id.',
    }),
  ),
  from_step_key: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  identifier: Type.Optional(
    Type.String({ maxLength: 200, description: 'Accepted for the platform’s SDK; unused (no WebSockets).' }),
  ),
};

export const CreateRunBody = Type.Object(
  {
    ...runOptions,
    collection_id: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    record_id: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);

export const CreateDiscoveryRunBody = Type.Object(runOptions, { additionalProperties: false });

export const ReplayBody = Type.Object(
  {
    stepKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'The platform’s name of from_step_key.' }),
    ),
    from_step_key: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    stream: runOptions.stream,
    background: runOptions.background,
    retention: runOptions.retention,
    identifier: runOptions.identifier,
  },
  { additionalProperties: false },
);

export const RetentionBody = Type.Object({ retention: RetentionValue }, { additionalProperties: false });

const ALL = 'ALL';

export const ListRunsQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(StringEnum([ALL, ...RUN_STATUSES, 'SKIPPED'] as const)),
    origin: Type.Optional(StringEnum([ALL, ...RUN_ORIGINS] as const)),
    created_after: Type.Optional(
      Type.String({ description: 'Weft extension: inclusive lower bound (ISO).' }),
    ),
    created_before: Type.Optional(
      Type.String({ description: 'Weft extension: exclusive upper bound (ISO).' }),
    ),
    verbose: Type.Optional(
      Type.Union([StringEnum(['all'] as const), Type.Array(StringEnum(['all'] as const))], {
        description: 'Accepted for the platform’s SDK: Weft always answers every field.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const VerboseQuery = Type.Object(
  { verbose: ListRunsQuery.properties.verbose },
  { additionalProperties: false },
);
