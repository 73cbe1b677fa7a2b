/**
 * Expression checks under a work budget. JSONata's parser costs ~100 µs per call plus ~0.3 µs per
 * character, so a document with 100,000 distinct expressions (or one hostile template that makes the
 * `{{ }}` scanner retry long segments) would take seconds: every parse is charged its length plus
 * `expressionParseCost` against `maxExpressionWork`, identical sources are parsed once, and once the
 * budget is spent nothing more is parsed (the validator reports one LIMIT problem).
 */
import { rewriteFileDirective } from '../../expressions/file-directive.js';
import { parseJavaScript } from '../../expressions/javascript.js';
import {
  type ExpressionLanguage,
  type ExpressionSyntaxError,
  parseExpression,
} from '../../expressions/jsonata.js';
import { VALIDATION_LIMITS } from './codes.js';

export type ParseOutcome =
  | { kind: 'ok' }
  /**
   * JSONata: `looksLikeJavaScript` when the text parses as a JavaScript function body that returns
   * (the document probably wants `"language": "javascript"`).
   */
  | { kind: 'syntax'; language: 'jsonata'; error: ExpressionSyntaxError; looksLikeJavaScript: boolean }
  /** JavaScript: the position with its 1-based line and column. */
  | { kind: 'syntax'; language: 'javascript'; error: ExpressionSyntaxError; line: number; column: number }
  /** Longer than `maxExpressionLength`. */
  | { kind: 'too-long'; length: number }
  /** The parser ran out of stack (an expression nested thousands of levels deep). */
  | { kind: 'too-deep' }
  /** The work budget is spent: not checked. */
  | { kind: 'budget' };

export type TemplateOutcome =
  | { kind: 'ok' }
  /** `position` is a 0-based offset in the template string; `start` is where the `{{` segment begins. */
  | { kind: 'syntax'; message: string; position: number; start: number; unclosed: boolean }
  | { kind: 'too-long'; length: number; start: number }
  | { kind: 'too-deep'; start: number }
  | { kind: 'budget' };

export interface ExpressionLimitsForValidation {
  maxExpressionLength: number;
  maxExpressionWork: number;
  expressionParseCost: number;
}

export class ExpressionChecker {
  readonly #cache = new Map<string, ParseOutcome>();
  readonly #limits: ExpressionLimitsForValidation;
  #spent = 0;
  /** Set once the budget ran out. */
  exhausted = false;

  constructor(limits: ExpressionLimitsForValidation = VALIDATION_LIMITS) {
    this.#limits = limits;
  }

  /** Parses one expression in `language` (from its cache when it was seen before). Never evaluates. */
  parse(source: string, language: ExpressionLanguage = 'jsonata'): ParseOutcome {
    if (source.length > this.#limits.maxExpressionLength) return { kind: 'too-long', length: source.length };
    const key = language === 'jsonata' ? source : `js\0${source}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const cost = source.length + this.#limits.expressionParseCost;
    if (this.exhausted || this.#spent + cost > this.#limits.maxExpressionWork) {
      this.exhausted = true;
      return { kind: 'budget' };
    }
    this.#spent += cost;
    const outcome = language === 'jsonata' ? this.#jsonata(source) : javascriptOutcome(source);
    this.#cache.set(key, outcome);
    return outcome;
  }

  #jsonata(source: string): ParseOutcome {
    const parsed = parseExpression(source);
    if (parsed.ok) return { kind: 'ok' };
    if (parsed.error.jsonata_code === undefined && /call stack/i.test(parsed.error.message))
      return { kind: 'too-deep' };
    // The hint costs a second parse: only for text that starts the way function bodies do.
    let looksLikeJavaScript = false;
    if (/^\s*(return\b|const\b|let\b|var\b|if\s*\(|for\s*\(|\/\/)/.test(source)) {
      this.#spent += source.length;
      const js = parseJavaScript(source);
      looksLikeJavaScript = js.ok && js.returns;
    }
    return { kind: 'syntax', language: 'jsonata', error: parsed.error, looksLikeJavaScript };
  }

  /**
   * Checks a template exactly as `scanTemplate` (expressions/template.ts) scans it — the closing braces of
   * a segment are the first `}}` after which the enclosed text parses, trying at most 64 — but charging
   * every parse to the budget. template.test.ts-style equivalence is checked in expressions.test.ts.
   */
  template(text: string): TemplateOutcome {
    let from = 0;
    for (;;) {
      const start = text.indexOf('{{', from);
      if (start < 0) return { kind: 'ok' };
      const offset = start + 2;
      let close = text.indexOf('}}', offset);
      if (close < 0) {
        return {
          kind: 'syntax',
          message: 'The template segment opened with "{{" is never closed with "}}".',
          position: start,
          start,
          unclosed: true,
        };
      }
      let first: ParseOutcome | undefined;
      let found = false;
      for (let attempts = 0; close >= 0 && attempts < 64; attempts++) {
        const outcome = this.parse(rewriteFileDirective(text.slice(offset, close)));
        if (outcome.kind === 'budget') return outcome;
        if (outcome.kind === 'ok') {
          found = true;
          break;
        }
        first ??= outcome;
        close = text.indexOf('}}', close + 1);
      }
      if (!found) {
        const failure = first!;
        switch (failure.kind) {
          case 'too-long':
            return { kind: 'too-long', length: failure.length, start };
          case 'too-deep':
            return { kind: 'too-deep', start };
          case 'syntax':
            return {
              kind: 'syntax',
              message: failure.error.message,
              position: offset + failure.error.position,
              start,
              unclosed: false,
            };
          default:
            return { kind: 'budget' };
        }
      }
      from = close + 2;
    }
  }
}

function javascriptOutcome(source: string): ParseOutcome {
  const parsed = parseJavaScript(source);
  if (parsed.ok) return { kind: 'ok' };
  const { message, position, line, column } = parsed.error;
  if (/nested too deeply/.test(message)) return { kind: 'too-deep' };
  return { kind: 'syntax', language: 'javascript', error: { message, position }, line, column };
}
