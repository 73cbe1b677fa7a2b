// @weft/core — the public API. Values first, then types.
export { compile, PlanCache } from './compile/compile.js';
export type { CompiledBranch, CompiledConfig, Plan, PlanStep } from './compile/plan.js';
export type { ErrorCode, ErrorRecord, Problem, Severity, WeftErrorOptions } from './errors.js';
export {
  CancelledError,
  describeValue,
  ERROR_CODES,
  ensureWeftError,
  invalidArgument,
  isWeftError,
  ValidationError,
  WeftError,
} from './errors.js';
export type * from './events/index.js';
export { SafeEmitter } from './events/index.js';
export type {
  CompiledExpression,
  ExpressionBindings,
  ExpressionLimits,
  ExpressionSite,
} from './expressions/index.js';
export {
  compileExpression,
  compileTemplate,
  DEFAULT_EXPRESSION_LIMITS,
  parseExpression,
  scanTemplate,
} from './expressions/index.js';
export type { Lifecycle, RunStatus, StepStatus } from './lifecycle/lifecycle.js';
export {
  RUN_STATUSES,
  runLifecycle,
  runMachine,
  STEP_STATUSES,
  stepLifecycle,
  stepMachine,
} from './lifecycle/lifecycle.js';
export type * from './model/index.js';
export {
  BUILTIN_STEP_TYPES,
  DraftSchema,
  HTTP_METHODS,
  INPUT_FIELD_TYPES,
  StepSchema,
  stepSchemas,
  VersionSchema,
} from './model/index.js';
export { getWorkflowJsonSchema, WORKFLOW_JSON_SCHEMA_ID, workflowJsonSchema } from './model/json-schema.js';
export type * from './providers/provider.js';
export type {
  AppClient,
  CreateTestInput,
  CreateWorkflowInput,
  DiscoverApi,
  ListRunsQuery,
  ListWorkflowsQuery,
  PublishedVersionRef,
  PublishInput,
  ReplayInput,
  RunsApi,
  RunTestsInput,
  RunWorkflowInput,
  SweepResult,
  TestRunMode,
  TestRunReport,
  TestsApi,
  UpdateTestInput,
  UpdateWorkflowInput,
  VariablesApi,
  VariableView,
  VersionRef,
  VersionsApi,
  Weft,
  WeftOptions,
  WorkflowsApi,
} from './registry/index.js';
export {
  assertValidInput,
  createWeft,
  downstreamKeys,
  INPUT_PROBLEM_CODES,
  inputDefinitions,
  inputProblems,
  TEST_RUN_MODES,
} from './registry/index.js';
export type { Engine } from './run/engine.js';
export { createEngine, DEFAULT_CONCURRENCY, DEFAULT_LIMITS } from './run/engine.js';
export type { CancelResult, RunHandle } from './run/handle.js';
export type {
  Clock,
  ConcurrencyOptions,
  EngineLimits,
  EngineOptions,
  HttpOptions,
  HttpTarget,
  ResolvedWorkflow,
  StartOptions,
  WorkflowResolver,
} from './run/options.js';
export { computeRetentionDueAt, normalizeRetention } from './run/retention.js';
export type {
  LogEntry,
  Retention,
  Run,
  RunOrigin,
  RunUsage,
  SkipReason,
  StepRecord,
  StepUsage,
  UsageCall,
} from './run/types.js';
export { RUN_ORIGINS, SKIP_REASONS } from './run/types.js';
export type { Variable } from './run/variables.js';
export { redact, resolveVariables, SECRET_PLACEHOLDER } from './run/variables.js';
export type { HttpFetch, HttpFetchRequest, HttpFetchResult } from './steps/http-fetch.js';
export {
  createHttpFetch,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  isNonPublicAddress,
} from './steps/http-fetch.js';
export type {
  HandlerEventName,
  RunInfo,
  ServiceCallConfig,
  ServiceHandler,
  ServiceRegistry,
  StepContext,
  StepHandler,
} from './steps/types.js';
export type {
  AppVariable,
  DiscoverableWorkflow,
  DiscoverQuery,
  ExpectationResult,
  Page,
  PageQuery,
  PublishedVersion,
  RunCondition,
  RunPatch,
  RunQuery,
  RunRecord,
  RunRow,
  TestExpectation,
  TestPatch,
  TestQuery,
  TestStatus,
  TestsStats,
  VersionQuery,
  WeftStore,
  Workflow,
  WorkflowPatch,
  WorkflowQuery,
  WorkflowTest,
} from './store/index.js';
export {
  decodeCursor,
  encodeCursor,
  MemoryStore,
  PURGED_MESSAGE,
  purgeRunRow,
  purgeStepRecord,
  TEST_STATUSES,
} from './store/index.js';
export { mergePricing, priceCall, UsageLedger } from './usage/index.js';
export type { ProblemCode, ValidateOptions, ValidationResult } from './validate/index.js';
export { PROBLEM_CODES, PROBLEM_SEVERITY, VALIDATION_LIMITS, validateVersion } from './validate/index.js';
