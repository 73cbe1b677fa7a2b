export { copy, deepFreeze } from './copy.js';
export type { CursorPosition } from './cursor.js';
export {
  DEFAULT_PAGE_LIMIT,
  decodeCursor,
  encodeCursor,
  MAX_PAGE_LIMIT,
  pageLimit,
  versionSortKey,
} from './cursor.js';
export { MemoryStore } from './memory.js';
export { PURGED_MESSAGE, purgeRunRow, purgeStepRecord } from './purge.js';
export type { IndexPageOptions } from './sorted-index.js';
export { SortedIndex } from './sorted-index.js';
export type { RunCondition, WeftStore } from './store.js';
export type {
  AppVariable,
  DiscoverableWorkflow,
  DiscoverQuery,
  ExpectationResult,
  ExpectationStatus,
  Page,
  PageQuery,
  PublishedVersion,
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
  Workflow,
  WorkflowPatch,
  WorkflowQuery,
  WorkflowTest,
} from './types.js';
export { TEST_STATUSES } from './types.js';
