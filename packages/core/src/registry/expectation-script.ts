/**
 * An expectation script checked at write time, the same way for a test's own expectations and for the
 * workflow's expectation library: a non-empty string under a size cap that parses in the workflow's
 * language (JSONata, or a JavaScript function body). A syntax error is INVALID_ARGUMENT with the position.
 */
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import { parseJavaScript } from '../expressions/javascript.js';
import { type ExpressionLanguage, parseExpression } from '../expressions/jsonata.js';
import type { RegistryContext } from './context.js';

/** The longest script (characters) a library expectation may have: the HTTP server's cap on test scripts. */
export const MAX_EXPECTATION_SCRIPT = 10_000;

/** The language of a workflow's scripts: its draft's `language`, else the engine's default. */
export function languageOf(ctx: RegistryContext, document: unknown): ExpressionLanguage {
  const declared = (document as { language?: unknown } | null)?.language;
  return declared === 'javascript' || declared === 'jsonata' ? declared : ctx.engine.language;
}

/**
 * `script` checked for `parameter` (e.g. `expectations[0].script`); `label` names it in messages
 * (`expectation "total"`). Returns it unchanged.
 */
export function checkScript(
  script: unknown,
  language: ExpressionLanguage,
  parameter: string,
  label: string,
  maxLength = Number.POSITIVE_INFINITY,
): string {
  if (typeof script !== 'string' || script.trim() === '') {
    throw invalidArgument(
      parameter,
      language === 'javascript'
        ? 'a JavaScript function body returning a boolean'
        : 'a JSONata boolean expression',
      script,
    );
  }
  if (script.length > maxLength) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `The script of ${label} has ${script.length} characters; the limit is ${maxLength}. Shorten it (move shared logic into a step of the workflow).`,
      { details: { parameter, length: script.length, limit: maxLength } },
    );
  }
  if (language === 'javascript') {
    const js = parseJavaScript(script);
    if (!js.ok) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `The script of ${label} does not parse at line ${js.error.line}, column ${js.error.column}: ${js.error.message}. Fix the JavaScript (a function body, e.g. \`return result === 11;\`).`,
        {
          details: {
            parameter,
            position: js.error.position,
            line: js.error.line,
            column: js.error.column,
          },
        },
      );
    }
    return script;
  }
  const parsed = parseExpression(script);
  if (!parsed.ok) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `The script of ${label} does not parse at position ${parsed.error.position}: ${parsed.error.message}. Fix the JSONata expression.`,
      { details: { parameter, position: parsed.error.position } },
    );
  }
  return script;
}
