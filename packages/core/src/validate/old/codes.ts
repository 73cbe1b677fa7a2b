/**
 * The stable codes of validation problems and the validator's hard bounds. Every code is documented,
 * with an example document, in docs/errors.md — adding a code means documenting it there.
 */
import type { Severity } from '../../errors.js';
import { MAX_EXPRESSION_LENGTH } from '../../expressions/jsonata.js';
import { MAX_TEMPLATE_DEPTH } from './template-fields.js';

export const PROBLEM_CODES = {
  /** The document is not a JSON object. */
  INVALID_DOCUMENT: 'INVALID_DOCUMENT',
  /** A value is not JSON data: a function, symbol, BigInt, Proxy, cyclic reference or a throwing getter. */
  NOT_JSON: 'NOT_JSON',
  /** A required field is missing. */
  MISSING_FIELD: 'MISSING_FIELD',
  /** A field has the wrong JSON type. */
  INVALID_TYPE: 'INVALID_TYPE',
  /** A field has the right type but a value that is not allowed (enum, range, empty string). */
  INVALID_VALUE: 'INVALID_VALUE',
  /** A step's `type` is neither built in nor registered by the host. */
  UNKNOWN_STEP_TYPE: 'UNKNOWN_STEP_TYPE',
  /** Two steps share a key. */
  DUPLICATE_STEP_KEY: 'DUPLICATE_STEP_KEY',
  /** A destination names no step. */
  DANGLING_DESTINATION: 'DANGLING_DESTINATION',
  /** A step lists itself as a destination. */
  SELF_LOOP: 'SELF_LOOP',
  /** Destinations form a cycle. */
  CYCLE: 'CYCLE',
  /** A JSONata expression or a `{{ }}` template does not parse. */
  EXPRESSION_SYNTAX: 'EXPRESSION_SYNTAX',
  /** A code step's `language` is not "jsonata". */
  UNSUPPORTED_LANGUAGE: 'UNSUPPORTED_LANGUAGE',
  /** The document has no step that can run (no steps, or only notes). */
  NO_RUNNABLE_STEP: 'NO_RUNNABLE_STEP',
  /** Input exceeded a hard bound (size, depth, count, expression length); see VALIDATION_LIMITS. */
  LIMIT: 'LIMIT',
  /** The validator itself failed (a bug in Weft: please report it). */
  INTERNAL: 'INTERNAL',
  /** A model step names a tool that is neither a step of the version nor a tool registered on the engine. */
  UNKNOWN_TOOL: 'UNKNOWN_TOOL',
  /** A tool a model step cannot use: a name models refuse, listed twice, or a step that cannot be a tool. */
  INVALID_TOOL: 'INVALID_TOOL',
  /** An edge into or out of a tool-only step (a step a model step names as a tool), or `input_connected` on it. */
  TOOL_STEP_EDGE: 'TOOL_STEP_EDGE',
  /** Warning: no entry step leads to this step, so it never runs. */
  UNREACHABLE_STEP: 'UNREACHABLE_STEP',
  /** Warning: a note has destinations; notes never run, so they are ignored. */
  NOTE_DESTINATIONS: 'NOTE_DESTINATIONS',
  /** Warning: a destination names a note; the edge is ignored. */
  DESTINATION_IS_NOTE: 'DESTINATION_IS_NOTE',
  /** Warning: a code step's expression is empty (the step outputs null). */
  EMPTY_CODE: 'EMPTY_CODE',
  /** Warning: two conditions of a branch have the same `order` (they are tried in document order). */
  DUPLICATE_CONDITION_ORDER: 'DUPLICATE_CONDITION_ORDER',
  /** Warning: a field of the platform's schema that Weft does not honour; the message says what it does instead. */
  UNSUPPORTED_FIELD: 'UNSUPPORTED_FIELD',
  /**
   * Warning (`autoProblems`, `weft validate`): a step or input field relies on `auto` and none of the
   * providers checked against can serve it.
   */
  AUTO_UNSERVED: 'AUTO_UNSERVED',
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/**
 * The severity of each code. LIMIT is an error, except the notice that more problems of a warning code
 * were cut (see `maxProblemsPerCode`), which is a warning.
 */
export const PROBLEM_SEVERITY: Readonly<Record<ProblemCode, Severity>> = {
  INVALID_DOCUMENT: 'error',
  NOT_JSON: 'error',
  MISSING_FIELD: 'error',
  INVALID_TYPE: 'error',
  INVALID_VALUE: 'error',
  UNKNOWN_STEP_TYPE: 'error',
  DUPLICATE_STEP_KEY: 'error',
  DANGLING_DESTINATION: 'error',
  SELF_LOOP: 'error',
  CYCLE: 'error',
  EXPRESSION_SYNTAX: 'error',
  UNSUPPORTED_LANGUAGE: 'error',
  NO_RUNNABLE_STEP: 'error',
  LIMIT: 'error',
  INTERNAL: 'error',
  UNKNOWN_TOOL: 'error',
  INVALID_TOOL: 'error',
  TOOL_STEP_EDGE: 'error',
  UNREACHABLE_STEP: 'warning',
  NOTE_DESTINATIONS: 'warning',
  DESTINATION_IS_NOTE: 'warning',
  EMPTY_CODE: 'warning',
  DUPLICATE_CONDITION_ORDER: 'warning',
  UNSUPPORTED_FIELD: 'warning',
  AUTO_UNSERVED: 'warning',
};

/** The validator's hard bounds. Past one, it reports LIMIT instead of looking further. */
export const VALIDATION_LIMITS = {
  /** Containers (objects, arrays) nested deeper than this are not examined. The root is depth 0. */
  maxDepth: 128,
  /** Values (every object, array and primitive) in the whole document; past it validation stops. */
  maxValues: 2_000_000,
  /** Steps in `steps`; past it the steps are not examined. */
  maxSteps: 100_000,
  /** Characters of one expression (conditional, loop, code, branch condition, one template segment). */
  maxExpressionLength: MAX_EXPRESSION_LENGTH,
  /** Characters of one templated string containing `{{`. */
  maxTemplateLength: 1_000_000,
  /** Nesting inside a templated field past which templates are not evaluated (model/template-fields.ts). */
  maxTemplateDepth: MAX_TEMPLATE_DEPTH,
  /**
   * Parsing work for the whole document, in characters: each distinct expression (or template segment
   * attempt) costs its length plus `expressionParseCost`. Past it the remaining expressions are not
   * checked and one LIMIT problem says so.
   */
  maxExpressionWork: 5_000_000,
  /** Fixed cost of parsing one expression, in characters (JSONata's parser setup costs ~100 µs). */
  expressionParseCost: 300,
  /** Problems listed per code; the rest are counted in one LIMIT problem. */
  maxProblemsPerCode: 1_000,
  /** Distinct cycles listed; past it one LIMIT problem says more exist. */
  maxCycles: 100,
  /** Host step types read from `options.stepTypes` (and tool names from `options.tools`). */
  maxStepTypes: 10_000,
} as const;
