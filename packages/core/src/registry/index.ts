export { assertValidInput, INPUT_PROBLEM_CODES, inputDefinitions, inputProblems } from '../input/index.js';
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
} from './client.js';
export { TEST_RUN_MODES } from './client.js';
export { downstreamKeys } from './downstream.js';
export { KeyedMutex } from './mutex.js';
export type { OwnerOptions } from './owner.js';
export { createWeft } from './weft.js';
export type { WorkerOptions } from './worker-options.js';
