export type {
  CompiledExpression,
  ExpressionBindings,
  ExpressionLimits,
  ExpressionSite,
  ExpressionSyntaxError,
  ParseResult,
} from './jsonata.js';
export {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  expressionFailure,
  MAX_EXPRESSION_LENGTH,
  normalizeValue,
  parseExpression,
  typeName,
} from './jsonata.js';
export type { CompiledTemplate, TemplateScan, TemplateSegment } from './template.js';
export {
  compileTemplate,
  hasTemplate,
  renderTemplate,
  scanTemplate,
  stringifyForTemplate,
} from './template.js';
