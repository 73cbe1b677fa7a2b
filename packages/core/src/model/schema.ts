/**
 * The workflow document model: the one source of truth. The TypeScript types (model/types.ts), the
 * validator's shape checks (validate/) and the published JSON Schema (`workflowJsonSchema`) are all
 * derived from these TypeBox definitions. Field names follow the Workflows API (snake_case).
 *
 * Every object schema allows additional properties: editors add their own fields and Weft keeps them
 * on round-trip. Fields marked "Weft extension" are not in the platform's reference.
 */
import { type TLiteral, type TSchema, Type } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const DISPLAY_MODES = ['expanded', 'collapsed', 'minimal'] as const;
export const INPUT_FIELD_TYPES = [
  'string',
  'number',
  'boolean',
  'object',
  'date',
  'datetime',
  'time',
  'select',
  'file',
  'content',
  'connection',
] as const;
/** `allowed_modes` of an input field: who may give its value (`auto`: a model; `manual`: the caller). */
export const INPUT_FIELD_MODES = ['all', 'auto', 'manual'] as const;
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export const RESPONSE_FORMATS = ['text', 'json'] as const;
/** `tools_mode` of a model step: may call tools (`auto`), must call one on the first turn, or no tools sent. */
export const TOOLS_MODES = ['auto', 'required', 'none'] as const;
/** The most model calls one `model` step may make (`max_iterations`): every loop is bounded. */
export const MAX_TOOL_ITERATIONS = 100;
/** The expression languages (docs/semantics.md, "JavaScript"). */
export const CODE_LANGUAGES = ['jsonata', 'javascript'] as const;

/** Built-in step types. Any other `type` needs a handler registered with `createEngine({ steps })`. */
export const BUILTIN_STEP_TYPES = [
  'note',
  'input',
  'branch',
  'code',
  'model',
  'http_request',
  'workflow',
  'service',
  'browser',
] as const;

const literalUnion = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)) as unknown as TLiteral<T[number]>[], { description });

export const AutoSchema = Type.Object(
  {
    provider: Type.Optional(Type.String({ description: 'Provider name, e.g. "openai".' })),
    model: Type.Optional(Type.String({ description: 'Model name, e.g. "gpt-4o-mini".' })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  },
  { description: 'Defaults for model calls made by this step (provider, model, temperature).' },
);

export const RetrySchema = Type.Object(
  {
    max_attempts: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: 'Attempts in all, the first included.' }),
    ),
    interval_ms: Type.Optional(Type.Number({ minimum: 0, description: 'Delay before the first retry.' })),
    backoff_rate: Type.Optional(
      Type.Number({ minimum: 1, description: 'Each further delay is multiplied by this.' }),
    ),
    max_delay_ms: Type.Optional(Type.Number({ minimum: 0, description: 'Upper bound on any one delay.' })),
    jitter: Type.Optional(
      Type.Boolean({ description: 'Randomise each delay uniformly in [delay/2, delay].' }),
    ),
  },
  { description: 'Weft extension: retry policy for a failing step attempt.' },
);

/** Fields every step has, whatever its type. */
export const stepCommonFields = {
  type: Type.String({ minLength: 1, description: 'The step type (note, input, branch, code, model, …).' }),
  key: Type.String({ minLength: 1, description: 'Unique key of the step within the version.' }),
  display: Type.Optional(literalUnion(DISPLAY_MODES, 'How the editor shows the step.')),
  conditional: Type.Optional(
    Nullable(
      Type.String({
        description:
          "In the version's language; the step runs only when it evaluates to true (JavaScript: a function body that returns it).",
      }),
    ),
  ),
  loop: Type.Optional(
    Nullable(
      Type.String({
        description:
          'JSONata: an array (collection form) or an expression using $index (item form). JavaScript: a function body returning element `index`, or null/undefined/false to end.',
      }),
    ),
  ),
  throw_on_error: Type.Optional(
    Type.Boolean({ description: 'Default true: a failure of this step fails the run.' }),
  ),
  input_connected: Type.Optional(
    Type.Boolean({ description: 'The step is an entry: it starts with the run.' }),
  ),
  destinations: Type.Optional(
    Type.Array(Type.String(), { description: 'Keys of the steps that follow this one.' }),
  ),
  position: Type.Optional(Type.Array(Type.Number())),
  size: Type.Optional(Type.Array(Type.Number())),
  auto: Type.Optional(Nullable(AutoSchema)),
  retry: Type.Optional(RetrySchema),
  timeout_ms: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, description: 'Weft extension: fail an attempt that runs longer.' }),
  ),
  max_concurrency: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Weft extension: loop iterations in flight at once.' }),
  ),
};

/**
 * An input field (the platform's `InputSchema`). Display fields (`name`, `desc`, `placeholder`, `display`,
 * `order`, `config`, `link`, `metadata`, `list`, …) are kept as they are. Nested `fields` of an `object`
 * field are checked by the validator (validate/platform.ts), not here: this schema is not recursive.
 */
export const InputFieldSchema = Type.Object({
  type: literalUnion(INPUT_FIELD_TYPES, 'The field type.'),
  optional: Type.Optional(Type.Boolean()),
  array: Type.Optional(Type.Boolean()),
  default: Type.Optional(Type.Unknown()),
  description: Type.Optional(Type.String()),
  options: Type.Optional(Type.Array(Type.Unknown(), { description: 'Choices of a select field.' })),
  additional_options: Type.Optional(
    Type.Boolean({ description: 'A select field also takes any string outside its options.' }),
  ),
  allowed_modes: Type.Optional(
    Type.Array(literalUnion(INPUT_FIELD_MODES, 'Who may give the value.'), {
      description: 'auto: a model may fill the value (so the caller need not); manual: the caller.',
    }),
  ),
  validation: Type.Optional(Type.Literal('url', { description: 'A string field must be an absolute URL.' })),
  fields: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: 'The nested fields of an object field.' }),
  ),
  additional_fields: Type.Optional(
    Type.Unknown({ description: 'false: an object field refuses keys its `fields` do not define.' }),
  ),
  content: Type.Optional(Type.String({ description: 'The Markdown of a display-only content field.' })),
});

/**
 * A content part: `{type: "text", text}`, `{type: "image", url}`, `{type: "file", url}` (the platform's),
 * `{type: "tool_result", id, name, output}` in a `tool` message; other types are passed to the provider as
 * they are.
 */
const MessagePartSchema = Type.Object({ type: Type.String({ minLength: 1 }) });

/** A tool call of an `assistant` message (the platform's `ModelToolCallSchema`). */
export const ToolCallSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  input: Type.Optional(Type.Unknown()),
});

export const MessageSchema = Type.Object({
  role: literalUnion(MESSAGE_ROLES, 'Who speaks.'),
  content: Type.Union([Type.String(), Type.Array(MessagePartSchema)]),
  tools: Type.Optional(
    Type.Array(ToolCallSchema, { description: 'An assistant message: the tools it called.' }),
  ),
  disable_variables: Type.Optional(Type.Boolean({ description: 'The message holds no templates.' })),
});

/** A tool given as an object: a step key, `external:NAME`, or the name of a tool registered on the engine. */
export const ToolObjectSchema = Type.Object({
  name: Type.String({
    minLength: 1,
    description: 'A step key of the version, or `external:NAME` (a tool registered on the engine).',
  }),
  description: Type.Optional(Type.String({ description: 'What the tool does, for the model.' })),
  input: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: "An input definition: the tool's arguments (its JSON Schema for the model).",
    }),
  ),
});

export const ModelConfigSchema = Type.Object({
  provider: Type.Optional(Type.String({ description: 'Provider name; falls back to auto.provider.' })),
  model: Type.Optional(Type.String({ description: 'Model name; falls back to auto.model.' })),
  messages: Type.Array(MessageSchema),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  response_format: Type.Optional(literalUnion(RESPONSE_FORMATS, 'text (default) or json.')),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  tools: Type.Optional(
    Type.Array(Type.Union([Type.String({ minLength: 1 }), ToolObjectSchema]), {
      description: 'Tools the model may call: step keys, `external:NAME`, or tool objects.',
    }),
  ),
  tools_mode: Type.Optional(
    literalUnion(
      TOOLS_MODES,
      'auto (default): the model may call tools; required: it must on its first turn; none: no tools are sent.',
    ),
  ),
  tools_parallel: Type.Optional(
    Type.Boolean({ description: 'Run the tool calls of one turn concurrently (default false: in order).' }),
  ),
  max_iterations: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_TOOL_ITERATIONS,
      description:
        'The most model calls the step makes (default 10); past it the step fails with MAX_ITERATIONS.',
    }),
  ),
});

export const BranchConditionSchema = Type.Object({
  condition: Type.String({ description: "A boolean, in the version's language." }),
  destinations: Type.Array(Type.String()),
  order: Type.Number(),
});

export const ServiceConfigSchema = Type.Object({
  type: Type.String({ minLength: 1, description: 'The service, e.g. "slack".' }),
  action: Type.String({ minLength: 1, description: 'The action, e.g. "post_message".' }),
  input: Type.Optional(Type.Unknown()),
  connection_id: Type.Optional(Nullable(Type.String())),
});

/** The fields specific to each built-in step type. */
export const stepTypeFields = {
  note: { note: Type.Optional(Type.String({ description: 'Markdown.' })) },
  input: {
    input: Type.Optional(Type.Record(Type.String(), InputFieldSchema)),
    webhook: Type.Optional(Type.Unknown()),
  },
  branch: {
    conditions: Type.Record(Type.String(), BranchConditionSchema),
    else: Type.Optional(Type.Array(Type.String())),
  },
  code: {
    code: Type.String({
      description: 'JSONata expression or JavaScript function body; its value is the step output',
    }),
    language: Type.Optional(
      literalUnion(
        CODE_LANGUAGES,
        "Weft extension: this step's `code` in another language than the version's.",
      ),
    ),
  },
  model: { provider: ModelConfigSchema },
  http_request: {
    url: Type.String({ minLength: 1 }),
    method: Type.Optional(literalUnion(HTTP_METHODS, 'Default GET.')),
    headers: Type.Optional(
      Type.Union([Type.Record(Type.String(), Type.String()), Type.String()], {
        description: 'An object of strings, or "Name: value" lines.',
      }),
    ),
    body: Type.Optional(Type.Unknown()),
  },
  workflow: {
    workflow_id: Type.String({ minLength: 1 }),
    workflow_version_id: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    step_key: Type.Optional(Nullable(Type.String())),
    input: Type.Optional(Type.Unknown()),
  },
  service: { service: ServiceConfigSchema },
  browser: {
    url: Type.String({ minLength: 1 }),
    strip_html: Type.Optional(Type.Boolean()),
    wait_for_selector: Type.Optional(Nullable(Type.String())),
  },
} as const;

export type BuiltinStepType = keyof typeof stepTypeFields;

// Written out per type (not through a generic helper) so that TypeBox's Static infers each field's type.
export const NoteStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('note'), ...stepTypeFields.note },
  { $id: 'Step_note', title: 'note step' },
);
export const InputStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('input'), ...stepTypeFields.input },
  { $id: 'Step_input', title: 'input step' },
);
export const BranchStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('branch'), ...stepTypeFields.branch },
  { $id: 'Step_branch', title: 'branch step' },
);
export const CodeStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('code'), ...stepTypeFields.code },
  { $id: 'Step_code', title: 'code step' },
);
export const ModelStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('model'), ...stepTypeFields.model },
  { $id: 'Step_model', title: 'model step' },
);
export const HttpRequestStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('http_request'), ...stepTypeFields.http_request },
  { $id: 'Step_http_request', title: 'http_request step' },
);
export const WorkflowStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('workflow'), ...stepTypeFields.workflow },
  { $id: 'Step_workflow', title: 'workflow step' },
);
export const ServiceStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('service'), ...stepTypeFields.service },
  { $id: 'Step_service', title: 'service step' },
);
export const BrowserStepSchema = Type.Object(
  { ...stepCommonFields, type: Type.Literal('browser'), ...stepTypeFields.browser },
  { $id: 'Step_browser', title: 'browser step' },
);
/** A step of a host-registered type: the common fields, anything else kept as is. */
export const CustomStepSchema = Type.Object(stepCommonFields, { $id: 'Step_custom', title: 'custom step' });

export const stepSchemas = {
  note: NoteStepSchema,
  input: InputStepSchema,
  branch: BranchStepSchema,
  code: CodeStepSchema,
  model: ModelStepSchema,
  http_request: HttpRequestStepSchema,
  workflow: WorkflowStepSchema,
  service: ServiceStepSchema,
  browser: BrowserStepSchema,
} as const;

export const StepSchema = Type.Union([...Object.values(stepSchemas), CustomStepSchema]);

export const InputOptionsSchema = Type.Object({
  display: Type.Optional(
    Type.Object({
      field: Type.Optional(Type.String()),
      container: Type.Optional(Type.String()),
      hidden: Type.Optional(Type.Boolean()),
    }),
  ),
});

/** Fields shared by a draft and a published version. */
export const draftFields = {
  key: Type.Optional(Type.String()),
  language: Type.Optional(
    literalUnion(
      CODE_LANGUAGES,
      "The language of every expression of the version (code, conditional, loop, branch conditions). Default: the engine's, jsonata unless set.",
    ),
  ),
  input: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: 'Workflow-level input definition.' }),
  ),
  input_default: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  input_options: Type.Optional(InputOptionsSchema),
  steps: Type.Array(StepSchema),
};

export const DraftSchema = Type.Object(draftFields, {
  $id: 'WorkflowVersionDraft',
  title: 'Workflow version draft',
});

export const CreatedBySchema = Type.Object({ id: Type.String(), name: Type.Optional(Type.String()) });

export const versionMetadataFields = {
  id: Type.Optional(Type.String()),
  app_id: Type.Optional(Type.String()),
  workflow_id: Type.Optional(Type.String()),
  description: Type.Optional(Nullable(Type.String())),
  version: Type.Optional(Type.Integer({ minimum: 0 })),
  rollback_version: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
  notes: Type.Optional(Nullable(Type.String())),
  created_by: Type.Optional(Nullable(CreatedBySchema)),
  created_at: Type.Optional(Type.String()),
};

export const VersionSchema = Type.Object(
  { ...versionMetadataFields, ...draftFields },
  { $id: 'WorkflowVersion', title: 'Workflow version' },
);
