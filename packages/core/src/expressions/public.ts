/**
 * `@weft/core/expressions`: the evaluation boundary, for hosts that evaluate a document's expressions
 * themselves (a custom step handler, a tool, a benchmark) the way the engine does — under the same hard
 * limits (docs/semantics.md, "Expressions under limits"), in JSONata or in the JavaScript sandbox.
 */
export type { JavaScriptFunction, JavaScriptParse, JavaScriptSyntaxError } from './javascript.js';
export { compileJavaScript, parseJavaScript } from './javascript.js';
export type {
  CompiledExpression,
  EvaluateOptions,
  ExpressionBindings,
  ExpressionLanguage,
  ExpressionLimits,
  ExpressionSite,
  ExpressionSyntaxError,
  ParseResult,
} from './jsonata.js';
export {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  EXPRESSION_LANGUAGES,
  parseExpression,
} from './jsonata.js';
export type { LimitKind } from './limit.js';
export { LIMIT_KINDS } from './limit.js';
export type { CompiledTemplate } from './template.js';
export { compileTemplate } from './template.js';
