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
export type { FrozenWorkflowReads } from './frozen-reads.js';
export { hasFrozenWorkflowReads, MAX_FROZEN_WORKFLOWS } from './frozen-reads.js';
export type {
  AppendOutcome,
  ClaimedRun,
  ClaimRequest,
  ClaimResult,
  ClaimsWithRows,
  JournalAppend,
  JournalBatch,
  JournalEntry,
  JournalQuery,
  JournalStore,
  LeaseGrant,
  RunLease,
} from './journal.js';
export {
  checkAppend,
  checkAppends,
  checkBatch,
  checkClaim,
  checkGroupAppend,
  checkLeaseGrant,
  checkOwnerId,
  checkRecoverableLimit,
  checkTime,
  decideClaim,
  entryData,
  hasClaimsWithRows,
  insertedLease,
  isLiveStatus,
  journalRange,
  LIVE_RUN_STATUSES,
  leaseLost,
  loadedEntry,
  MAX_GROUP_APPENDS,
  MAX_JOURNAL_PAGE,
  refused,
  runNotFoundInStore,
} from './journal.js';
export type { MemoryStoreOptions } from './memory.js';
export { DEFAULT_MAX_PURGED_RUNS, MemoryStore } from './memory.js';
export type { NoticeListener, NoticeTopic, StoreNotice, StoreNotices } from './notices.js';
export {
  checkNoticeRunId,
  checkTopic,
  hasNotices,
  MAX_NOTICE_RUN_ID,
  NOTICE_TOPICS,
  NoticeHub,
} from './notices.js';
export type { StorePresence } from './presence.js';
export { checkAnnounce, hasPresence } from './presence.js';
export { PURGED_MESSAGE, purgeRunRow, purgeStepRecord } from './purge.js';
export type { IndexPageOptions } from './sorted-index.js';
export { SortedIndex } from './sorted-index.js';
export type { RunCondition, WeftStore } from './store.js';
export { storedJson } from './stored-json.js';
export type {
  ApiKeyRecord,
  AppVariable,
  DiscoverableWorkflow,
  DiscoverQuery,
  ExpectationPatch,
  ExpectationQuery,
  ExpectationResult,
  ExpectationStatus,
  Page,
  PageQuery,
  PublishedVersion,
  RunCountQuery,
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
  WorkflowExpectation,
  WorkflowPatch,
  WorkflowQuery,
  WorkflowTest,
} from './types.js';
export { TEST_STATUSES } from './types.js';
