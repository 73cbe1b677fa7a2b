/**
 * The runner's one door to expression evaluation: a step's `conditional`, its `loop`, and the templates
 * of its fields. Everything that decides what an expression means for the run (true or false, an array,
 * the element limit) is here, so that a change of evaluator (a sandbox, another language) lands in this
 * file; the scheduler only ever sees the values, as `step.evaluated` entries.
 */
import { BAIL } from '../compile/fast-expression.js';
import type { PlanStep } from '../compile/plan.js';
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import { type ExpressionBindings, normalizeValue, typeName } from '../expressions/jsonata.js';
import { renderTemplate } from '../expressions/template.js';

/**
 * The conditional's value when the synchronous fast path (compile/fast-expression.ts) can tell: true or
 * false; undefined when only the full evaluator can (`evaluateConditional`, which reports errors).
 */
export function conditionalNow(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
): boolean | undefined {
  const fast = s.conditional!.fast;
  if (fast === null) return undefined;
  const value = fast(scope, bindings);
  return value === true || value === false ? value : undefined;
}

/**
 * Rule 3: true or false, or a WeftError (EXPRESSION_ERROR) naming the expression and what it gave. The
 * run's signal bounds the evaluation (a sandboxed one is stopped when the run is).
 */
export async function evaluateConditional(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
  signal: AbortSignal,
): Promise<boolean> {
  const expression = s.conditional!;
  const value = normalizeValue(await expression.evaluate(scope, bindings, { signal }));
  if (value === true || value === false) return value;
  throw new WeftError(
    ERROR_CODES.EXPRESSION_ERROR,
    `The \`conditional\` of step "${s.key}" must evaluate to true or false, got ${typeName(value)} ` +
      `(expression: ${expression.source}). Compare explicitly, e.g. ${expression.language === 'javascript' ? "`return x === 'yes';`" : '`$exists(x)` or `x = "yes"`'}.`,
    {
      step_key: s.key,
      details: { field: 'conditional', expression: expression.source, got: typeName(value) },
      retryable: false,
    },
  );
}

/** Rule 4: the loop's elements (collection form or item form), at most `max` of them. */
export async function evaluateLoop(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: (item: unknown, index: number | undefined) => ExpressionBindings,
  max: number,
  signal: AbortSignal,
): Promise<unknown[]> {
  const expression = s.loop!;
  const limitError = () =>
    new WeftError(
      ERROR_CODES.LOOP_LIMIT,
      `The loop of step "${s.key}" produced more than ${max} elements. Raise limits.maxLoopIterations or shorten the collection.`,
      { step_key: s.key, details: { field: 'loop', limit: max }, retryable: false },
    );
  if (!expression.usesIndex) {
    const value = normalizeValue(
      await expression.evaluate(scope, bindings(undefined, undefined), { signal }),
    );
    if (!Array.isArray(value)) {
      throw new WeftError(
        ERROR_CODES.EXPRESSION_ERROR,
        `The \`loop\` of step "${s.key}" must evaluate to an array, got ${typeName(value)} (expression: ${expression.source}). ` +
          'Use the collection form (an array) or the item form (an expression using $index).',
        {
          step_key: s.key,
          details: { field: 'loop', expression: expression.source, got: typeName(value) },
          retryable: false,
        },
      );
    }
    if (value.length > max) throw limitError();
    return value;
  }
  const elements: unknown[] = [];
  for (let index = 0; ; index++) {
    if (signal.aborted) throw new CancelledError();
    // The loop expression sees `index` and, as `item`, the element it returned before (undefined at 0).
    const value = normalizeValue(
      await expression.evaluate(scope, bindings(elements[index - 1], index), { signal }),
    );
    if (value === null || value === undefined || value === false) return elements;
    if (index >= max) throw limitError();
    elements.push(value);
  }
}

/** The step's fields with their templates rendered (the compiled base itself when it has none). */
export function configNow(s: PlanStep): Record<string, unknown> | undefined {
  return s.config.templates.length === 0 ? (s.config.base as Record<string, unknown>) : undefined;
}

export async function renderConfig(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const { base, templates } = s.config;
  const config = structuredClone(base) as Record<string, unknown>;
  for (const { path, template } of templates) {
    const value = await renderTemplate(template, scope, bindings, { signal });
    let target = config as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) target = target[path[i]!] as Record<string | number, unknown>;
    target[path[path.length - 1]!] = value;
  }
  return config;
}

export { BAIL };
