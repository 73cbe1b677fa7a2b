/** Workflows and versions on the wire (the platform's WorkflowSchema), and their bodies and queries. */
import { Type } from '@sinclair/typebox';
import {
  AnyObject,
  DocumentSchema,
  Nullable,
  PageQuery,
  RetentionInput,
  RetentionSchema,
  Timestamp,
  VersionSchema,
  WorkflowParams,
} from './schema-common.js';

export const TestsStatsSchema = Type.Object(
  {
    total_count: Type.Integer(),
    running_count: Type.Integer(),
    cancelled_count: Type.Integer(),
    passing_count: Type.Integer(),
    failing_count: Type.Integer(),
    expectations_failing_count: Type.Integer(),
    expectations_passing_count: Type.Integer(),
  },
  { additionalProperties: false },
);

export const WireWorkflowSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    app: Type.Object({ id: Type.String(), name: Type.String(), verified: Type.Boolean() }),
    version: Nullable(VersionSchema),
    tags: Type.Array(AnyObject, { description: 'Always empty: Weft has no tags.' }),
    tests_stats: Nullable(TestsStatsSchema),
    template_id: Type.Null(),
    runs_count: Type.Integer({ description: 'Runs of this workflow by the calling app.' }),
    retention: Nullable(RetentionSchema),
    enabled: Type.Boolean({ description: 'False once archived.' }),
    deleted: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    key: Nullable(Type.String()),
    input: AnyObject,
    input_default: Nullable(AnyObject),
    input_options: Nullable(AnyObject),
    steps: Type.Array(AnyObject, {
      description: 'The draft’s steps (for another app’s discoverable workflow: the latest version’s).',
    }),
    app_id: Type.String({ description: 'Weft extension: the owner app.' }),
    discoverable: Type.Boolean(),
    archived_at: Nullable(Timestamp),
    latest_version: Nullable(Type.Integer()),
    draft: Type.Optional(DocumentSchema),
  },
  { additionalProperties: true },
);

const searchFields = {
  ...PageQuery,
  search: Type.Optional(
    Type.String({ maxLength: 200, description: 'Case-insensitive text in the name or description.' }),
  ),
  tags: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'Weft workflows have no tags: any tag lists nothing.',
    }),
  ),
};

export const ListWorkflowsQuery = Type.Object(
  {
    ...searchFields,
    include_archived: Type.Optional(Type.Boolean({ description: 'Weft extension: archived ones too.' })),
  },
  { additionalProperties: false },
);

export const DiscoverQuery = Type.Object(searchFields, { additionalProperties: false });

export const CreateWorkflowBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
    discoverable: Type.Optional(Type.Boolean()),
    retention: Type.Optional(RetentionInput),
    draft: Type.Optional(DocumentSchema),
    // No caller-chosen `id`: ids are global across apps, so a refused duplicate would tell another
    // app's workflow exists.
  },
  { additionalProperties: false },
);

export const UpdateWorkflowBody = Type.Object(
  {
    name: Type.Optional(CreateWorkflowBody.properties.name),
    description: CreateWorkflowBody.properties.description,
    discoverable: CreateWorkflowBody.properties.discoverable,
    retention: CreateWorkflowBody.properties.retention,
  },
  { additionalProperties: false },
);

export const PublishBody = Type.Object(
  {
    notes: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
    created_by: Type.Optional(
      Nullable(
        Type.Object(
          { id: Type.String({ maxLength: 200 }), name: Type.Optional(Type.String({ maxLength: 200 })) },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export const RollbackBody = Type.Object(
  { version: Type.Integer({ minimum: 1 }), ...PublishBody.properties },
  { additionalProperties: false },
);

export const VersionParams = Type.Object({
  ...WorkflowParams.properties,
  version_id_or_version_number: Type.String({ minLength: 1, maxLength: 200 }),
});

export const PageOnlyQuery = Type.Object(PageQuery, { additionalProperties: false });
