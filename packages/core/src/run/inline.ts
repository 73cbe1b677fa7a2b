/**
 * Synchronous forms of built-in handlers for the runner's fast path (runner.ts, #start): they
 * answer without a context or a promise when the fast expression path can, and return BAIL otherwise
 * (the real handler then runs). A host that registers its own handler for the type replaces them.
 */
import { BAIL } from '../compile/fast-expression.js';
import type { PlanStep } from '../compile/plan.js';
import { type ExpressionBindings, normalizeValue } from '../expressions/jsonata.js';
import { detachScope, mayReturnScope } from '../steps/detach-scope.js';

/** steps/code.ts's `codeStep`, inline: the expression's value, null for an empty expression or undefined. */
export function inlineCode(
  plan: PlanStep,
  scope: Record<string, unknown>,
  bindings: ExpressionBindings,
): unknown {
  if (plan.code === null) return null;
  const fast = plan.code.fast;
  if (fast === null) return BAIL;
  const value = fast(scope, bindings);
  if (value === BAIL) return BAIL;
  let normalized = normalizeValue(value);
  if (mayReturnScope(plan.code.source)) normalized = detachScope(normalized, scope);
  // codeStep is async: returning a thenable would adopt it. Leave such (exotic) values to the handler.
  if (isThenable(normalized)) return BAIL;
  return normalized === undefined ? null : normalized;
}

function isThenable(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
