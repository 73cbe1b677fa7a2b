/**
 * The runner's one door to expression evaluation: a step's `conditional`, its `loop`, and the templates
 * of its fields. Everything that decides what an expression means for the run (true or false, an array,
 * the element limit) is here, so that a change of evaluator (a sandbox, another language) lands in this
 * file; the scheduler only ever sees the values, as `step.evaluated` entries.
 */

import type { FastCompiledExpression, StepViews } from '../compile/fast-expression.js';
import { BAIL, readPath } from '../compile/fast-expression.js';
import type { CompiledConfig, PlanStep } from '../compile/plan.js';
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import { type ExpressionBindings, normalizeValue, typeName } from '../expressions/jsonata.js';
import { type CompiledTemplate, renderTemplate, stringifyForTemplate } from '../expressions/template.js';
import { setOwn } from '../json-data.js';

/**
 * The conditional's value when the synchronous fast path (compile/fast-expression.ts) can tell: true or
 * false; undefined when only the full evaluator can (`evaluateConditional`, which reports errors).
 * `views`: the run's step views when `scope` is the run's scope (else null).
 */
export function conditionalNow(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
  views: StepViews,
): boolean | undefined {
  const fast = s.conditional!.fast;
  if (fast === null) return undefined;
  const value = fast(scope, bindings, views);
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

/**
 * The step's fields with their templates rendered, synchronously: the compiled base itself when it has
 * no templates; undefined when a template needs the full evaluator (a segment outside the fast path, or
 * one whose fast path bails on this scope) — `renderConfig` then renders them all. Both give the same
 * config for the same scope (run/fast-paths.test.ts checks it on generated templates and scopes).
 *
 * `views`: the scope views by plan step (undefined until the step is published), the same objects the
 * scope holds under the steps' keys, when the plan has `StepRef`s (null otherwise): a whole-field
 * `{{ STEP.output… }}` is then read from its step's view directly — no lookup by key in the scope, no
 * closure of its own — with the steps of the path's direct getter (`readPath`), so with the same value.
 */
export function configNow(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
  views: readonly unknown[] | null,
): Record<string, unknown> | undefined {
  const c = s.config;
  if (c.templates.length === 0) return c.base as Record<string, unknown>;
  if (!c.sync) return undefined;
  const config = configShell(c);
  const { templates } = c;
  for (let t = 0; t < templates.length; t++) {
    const { path, template, ref } = templates[t]!;
    let value: unknown;
    if (ref !== null && views !== null) {
      const view = views[ref.step];
      // Not published yet: the scope has no such key, and the getter gives undefined.
      value = view === undefined ? undefined : readPath(view, ref.keys);
      if (value === BAIL) return undefined;
      value = normalizeValue(value);
    } else {
      value = renderNow(template, scope, bindings);
      if (value === BAIL) return undefined;
    }
    writeAt(config, path, value);
  }
  return config;
}

/** A template's value from the fast closures of its segments, or BAIL (the caller renders it in full). */
function renderNow(
  template: CompiledTemplate,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
): unknown {
  switch (template.kind) {
    case 'literal':
      return template.text;
    case 'single': {
      const value = (template.expression as FastCompiledExpression).fast!(scope, bindings);
      return value === BAIL ? BAIL : normalizeValue(value);
    }
    case 'parts': {
      let out = '';
      const { parts } = template;
      for (let p = 0; p < parts.length; p++) {
        const part = parts[p]!;
        if (typeof part === 'string') {
          out += part;
          continue;
        }
        const value = (part as FastCompiledExpression).fast!(scope, bindings);
        if (value === BAIL) return BAIL;
        try {
          out += stringifyForTemplate(normalizeValue(value));
        } catch {
          // A value JSON cannot write (a cycle, a BigInt): the full path raises the coded error.
          return BAIL;
        }
      }
      return out;
    }
  }
}

export async function renderConfig(
  s: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const config = configShell(s.config);
  for (const { path, template } of s.config.templates) {
    writeAt(config, path, await renderTemplate(template, scope, bindings, { signal }));
  }
  return config;
}

/**
 * A copy of the compiled base for one execution: the containers on the templates' paths are copied (so
 * rendered values can be written in), everything else is the base's own frozen data, shared — copying the
 * whole base per execution (structuredClone) cost more than the rest of a templated step.
 */
function configShell(c: CompiledConfig): Record<string, unknown> {
  const config: Record<string, unknown> = { ...c.base };
  const { copies } = c;
  for (let k = 0; k < copies.length; k++) {
    const path = copies[k]!;
    let parent = config as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<string | number, unknown>;
    const key = path[path.length - 1]!;
    const value = parent[key];
    setOwn(parent, key, Array.isArray(value) ? value.slice() : { ...(value as object) });
  }
  return config;
}

function writeAt(
  config: Record<string, unknown>,
  path: ReadonlyArray<string | number>,
  value: unknown,
): void {
  let target = config as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) target = target[path[i]!] as Record<string | number, unknown>;
  setOwn(target, path[path.length - 1]!, value);
}

export { BAIL };
