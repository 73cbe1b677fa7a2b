/**
 * @weft/core — the public API: what an app that embeds Weft uses (docs/api.md lists it, and
 * api/core.api.md is its checked-in report). Three tiers:
 * - here, the root: the engine, the in-process Workflows API, the document, run, event and error types,
 *   the validator, and the extension points (providers, step handlers, services);
 * - `@weft/core/store` (src/store/index.ts): what a store implementation needs (the `WeftStore` contract,
 *   its record and query types, cursor and purge helpers, the memory store);
 * - everything else is internal: not exported, free to change.
 * Add a name here only when an embedding app needs it (and say so in docs/api.md); the order is biome's
 * (by module path).
 */

export type { Plan } from './compile/plan.js';
export type { ErrorCode, ErrorRecord, Problem, Severity, WeftErrorOptions } from './errors.js';
export {
  CancelledError,
  ERROR_CODES,
  invalidArgument,
  isWeftError,
  ValidationError,
  WeftError,
} from './errors.js';
export type {
  EventBase,
  StepEventBase,
  WeftEvent,
  WeftEventMap,
  WeftEventName,
  WeftListener,
} from './events/events.js';
export type { ExpressionLanguage, ExpressionLimits, LimitKind } from './expressions/index.js';
export { EXPRESSION_LANGUAGES, LIMIT_KINDS } from './expressions/index.js';
export type {
  AppFile,
  FileStorage,
  FileStore,
  FileVisibility,
  MemoryFileStoreOptions,
  NewFile,
} from './files/index.js';
export { FILE_URL_SCHEME, MemoryFileStore } from './files/index.js';
export type { InputCheckOptions, InputFieldSite } from './input/index.js';
export {
  INPUT_PROBLEM_CODES,
  inputProblems,
  MAX_INPUT_FILE_BYTES,
  MAX_INPUT_FILES_BYTES,
} from './input/index.js';
export { BUILTIN_STEP_TYPES } from './model/index.js';
export { getWorkflowJsonSchema, WORKFLOW_JSON_SCHEMA_ID, workflowJsonSchema } from './model/json-schema.js';
export type * from './model/types.js';
export type { AutoModelPolicy, ModelChoice, ModelNeeds } from './providers/auto-model.js';
export { defaultAutoModel } from './providers/auto-model.js';
export type { CatalogueEntry } from './providers/catalogue.js';
export type * from './providers/provider.js';
export type {
  AppClient,
  CreateExpectationInput,
  CreateTestInput,
  CreateWorkflowInput,
  DiscoverApi,
  ExpectationListQuery,
  ExpectationsApi,
  ListRunsQuery,
  ListWorkflowsQuery,
  PublishedVersionRef,
  PublishInput,
  RecoverResult,
  ReplayInput,
  RunsApi,
  RunTestsInput,
  RunWorkflowInput,
  SuspendOptions,
  SuspendResult,
  SweepResult,
  TestExpectationInput,
  TestRunMode,
  TestRunReport,
  TestsApi,
  UpdateExpectationInput,
  UpdateTestInput,
  UpdateWorkflowInput,
  VariablesApi,
  VariableView,
  VersionRef,
  VersionsApi,
  Weft,
  WeftOptions,
  WorkflowsApi,
} from './registry/client.js';
export { TEST_RUN_MODES } from './registry/client.js';
export { downstreamKeys } from './registry/downstream.js';
export type { OwnerOptions } from './registry/owner.js';
export { createWeft } from './registry/weft.js';
export type { WorkerOptions } from './registry/worker-options.js';
export type { Engine } from './run/engine.js';
export { createEngine, DEFAULT_CONCURRENCY, DEFAULT_LIMITS } from './run/engine.js';
export type { CancelResult, RunHandle } from './run/handle.js';
export type {
  AutoFillRecord,
  CancelRequestedEntry,
  ChildStartedEntry,
  JournalEntry,
  JournalEntryBase,
  JournalEntryType,
  JournalFailedEntry,
  JournalSink,
  RunEndedEntry,
  RunMeta,
  RunResumedEntry,
  RunStartedEntry,
  StepEvaluatedEntry,
  StepLoggedEntry,
  StepSettledEntry,
  StepStartedEntry,
  TimerFiredEntry,
  UsageRecordedEntry,
} from './run/journal.js';
export { AUTO_FILL_USAGE_KEY, JOURNAL_ENTRY_TYPES, journalData, journalEntry } from './run/journal.js';
export type {
  Clock,
  ConcurrencyOptions,
  EngineLimits,
  EngineOptions,
  HttpOptions,
  HttpTarget,
  ResolvedWorkflow,
  ResumeOptions,
  StartOptions,
  WorkflowResolver,
} from './run/options.js';
export type {
  LogEntry,
  Retention,
  Run,
  RunOrigin,
  RunUsage,
  SkipReason,
  StepRecord,
  StepUsage,
  ToolInvocationRecord,
  UsageCall,
} from './run/types.js';
export { RUN_ORIGINS, SKIP_REASONS } from './run/types.js';
export type { Variable } from './run/variables.js';
export type { RunStatus, StepStatus } from './statuses.js';
export { RUN_STATUSES, STEP_STATUSES } from './statuses.js';
export type { FileData, FileExtractor, FileImageExtractor } from './steps/model-files.js';
export type { ModelOutput, ModelToolCallOutput, ModelToolResultOutput } from './steps/model-output.js';
export type {
  HandlerEventName,
  RunInfo,
  ServiceCallConfig,
  ServiceHandler,
  ServiceRegistry,
  StepContext,
  StepHandler,
  ToolDefinition,
  ToolRegistry,
} from './steps/types.js';
export type { WorkflowStepOutput } from './steps/workflow.js';
export type { MemoryStoreOptions } from './store/memory.js';
export { MemoryStore } from './store/memory.js';
export type { WeftStore } from './store/store.js';
export type {
  AppVariable,
  DiscoverableWorkflow,
  ExpectationResult,
  Page,
  PageQuery,
  PublishedVersion,
  RunRecord,
  TestExpectation,
  TestStatus,
  TestsStats,
  Workflow,
  WorkflowExpectation,
  WorkflowTest,
} from './store/types.js';
export { TEST_STATUSES } from './store/types.js';
export { mergePricing } from './usage/pricing.js';
export type { ProblemCode, ValidateOptions, ValidationResult } from './validate/index.js';
export {
  autoProblems,
  PROBLEM_CODES,
  PROBLEM_SEVERITY,
  VALIDATION_LIMITS,
  validateVersion,
} from './validate/index.js';
