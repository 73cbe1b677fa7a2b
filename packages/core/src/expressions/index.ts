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
  compileUnguarded,
  DEFAULT_EXPRESSION_LIMITS,
  EXPRESSION_LANGUAGES,
  expressionFailure,
  MAX_EXPRESSION_LENGTH,
  normalizeValue,
  parseExpression,
  typeName,
} from './jsonata.js';
export type { LimitKind } from './limit.js';
export { LIMIT_KINDS } from './limit.js';
export type { CompiledTemplate, TemplateScan, TemplateSegment } from './template.js';
export {
  compileTemplate,
  hasTemplate,
  renderTemplate,
  scanTemplate,
  stringifyForTemplate,
} from './template.js';
