/**
 * `{{ expr }}` templates in string fields. A field that is exactly one `{{ expr }}` yields the raw value
 * (object, number, …); otherwise each segment's value is stringified into the text.
 */
import { rewriteFileDirective } from './file-directive.js';
import {
  type CompiledExpression,
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type EvaluateOptions,
  type ExpressionBindings,
  type ExpressionLimits,
  type ExpressionSite,
  type ExpressionSyntaxError,
  normalizeValue,
  parseExpression,
} from './jsonata.js';

export interface TemplateSegment {
  /** The expression text between the braces. */
  source: string;
  /** 0-based offset of the first character after `{{` in the template. */
  offset: number;
  /** 0-based offset of the first character of `{{`. */
  start: number;
  /** 0-based offset just past `}}`. */
  end: number;
}

export type TemplateScan =
  | { ok: true; segments: TemplateSegment[] }
  | { ok: false; error: ExpressionSyntaxError; segment: TemplateSegment };

/** True if the string contains a template segment at all (a fast pre-check). */
export function hasTemplate(text: string): boolean {
  return text.includes('{{');
}

/**
 * Finds the `{{ … }}` segments of a template. An expression may itself contain `}}` (an object
 * constructor such as `{"a": {"b": 1}}`), so the closing braces are the first `}}` after which the
 * enclosed text parses; when none does, the segment up to the first `}}` is reported with its error.
 */
export function scanTemplate(
  text: string,
  limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
): TemplateScan {
  const segments: TemplateSegment[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('{{', from);
    if (start < 0) break;
    const offset = start + 2;
    let close = text.indexOf('}}', offset);
    if (close < 0) {
      const segment = { source: text.slice(offset), offset, start, end: text.length };
      return {
        ok: false,
        segment,
        error: {
          message: 'The template segment opened with "{{" is never closed with "}}".',
          position: start,
        },
      };
    }
    let firstError: ExpressionSyntaxError | undefined;
    let firstClose = close;
    let found = false;
    // Bound the search so a hostile template cannot make this quadratic in practice.
    for (let attempts = 0; close >= 0 && attempts < 64; attempts++) {
      const source = text.slice(offset, close);
      // A file directive (`input.doc:contents`) parses as the marker it becomes (file-directive.ts).
      const parsed = parseExpression(rewriteFileDirective(source), limits);
      if (parsed.ok) {
        found = true;
        break;
      }
      if (firstError === undefined) {
        firstError = parsed.error;
        firstClose = close;
      }
      close = text.indexOf('}}', close + 1);
    }
    if (!found) {
      const segment = { source: text.slice(offset, firstClose), offset, start, end: firstClose + 2 };
      const error = firstError!;
      return { ok: false, segment, error: { ...error, position: offset + error.position } };
    }
    segments.push({ source: text.slice(offset, close), offset, start, end: close + 2 });
    from = close + 2;
  }
  return { ok: true, segments };
}

/** A template compiled once: literal text, one raw-valued expression, or interpolated parts. */
export type CompiledTemplate =
  | { kind: 'literal'; text: string }
  | { kind: 'single'; expression: CompiledExpression }
  | { kind: 'parts'; parts: Array<string | CompiledExpression> };

/**
 * Compiles a template. Segments are JSONata in every document (JavaScript documents included: the
 * platform's templates are paths such as `{{input.x}}`, which read the same in both); `compile` lets the
 * plan compiler add the fast path.
 */
export function compileTemplate(
  text: string,
  site: ExpressionSite,
  limits: ExpressionLimits = DEFAULT_EXPRESSION_LIMITS,
  compile: (source: string, site: ExpressionSite) => CompiledExpression = (source, s) =>
    compileExpression(source, s, limits),
): CompiledTemplate {
  if (!hasTemplate(text)) return { kind: 'literal', text };
  const scan = scanTemplate(text, limits);
  if (!scan.ok) {
    // Re-compile the failing segment to raise the coded error with its message.
    compileExpression(scan.segment.source, site, limits);
    return { kind: 'literal', text };
  }
  if (scan.segments.length === 0) return { kind: 'literal', text };
  const only = scan.segments[0]!;
  if (scan.segments.length === 1 && only.start === 0 && only.end === text.length) {
    return { kind: 'single', expression: compile(rewriteFileDirective(only.source), site) };
  }
  const parts: Array<string | CompiledExpression> = [];
  let last = 0;
  for (const segment of scan.segments) {
    if (segment.start > last) parts.push(text.slice(last, segment.start));
    parts.push(compile(rewriteFileDirective(segment.source), site));
    last = segment.end;
  }
  if (last < text.length) parts.push(text.slice(last));
  return { kind: 'parts', parts };
}

/** How a value is written into interpolated text: strings as is, nothing for null/undefined, JSON otherwise. */
export function stringifyForTemplate(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

export async function renderTemplate(
  template: CompiledTemplate,
  document: unknown,
  bindings: ExpressionBindings,
  options?: EvaluateOptions,
): Promise<unknown> {
  switch (template.kind) {
    case 'literal':
      return template.text;
    case 'single':
      return normalizeValue(await template.expression.evaluate(document, bindings, options));
    case 'parts': {
      let out = '';
      for (const part of template.parts) {
        out +=
          typeof part === 'string'
            ? part
            : stringifyForTemplate(normalizeValue(await part.evaluate(document, bindings, options)));
      }
      return out;
    }
  }
}
