export type { ErrorCode, ErrorRecord, Problem, Severity, WeftErrorOptions } from './errors.js';
export {
  CancelledError,
  ERROR_CODES,
  ensureWeftError,
  invalidArgument,
  isWeftError,
  ValidationError,
  WeftError,
} from './errors.js';
export * from './expressions/index.js';
export * from './model/index.js';
export type * from './providers/provider.js';
