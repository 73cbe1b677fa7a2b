/**
 * `compile(version)`: validate, then turn the document into an immutable execution plan with every
 * expression and template parsed once. Plans are cached by content hash (see PlanCache), so running the
 * same version twice never re-parses.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionLimits,
} from '../expressions/jsonata.js';
import { compileTemplate } from '../expressions/template.js';
import { stepCommonFields } from '../model/schema.js';
import { collectTemplateStrings } from '../model/template-fields.js';
import type { BranchStep, CodeStep, Step, VersionDocument } from '../model/types.js';
import { validateVersion } from '../validate/index.js';
import type { CompiledBranch, CompiledConfig, Plan, PlanStep } from './plan.js';

export interface CompileOptions {
  /** Host-registered step types (valid in addition to the built-in ones). */
  stepTypes?: Iterable<string>;
  expressionLimits?: ExpressionLimits;
}

const COMMON_FIELDS: ReadonlySet<string> = new Set(Object.keys(stepCommonFields));

/** Validates and compiles. Throws a ValidationError carrying every problem when the document is invalid. */
export function compile(document: unknown, options: CompileOptions = {}): Plan {
  const stepTypes = [...(options.stepTypes ?? [])].sort();
  return compileWithHash(document, hashDocument(document, stepTypes), stepTypes, options);
}

export function hashDocument(document: unknown, stepTypes: readonly string[]): string {
  let text: string;
  try {
    text = JSON.stringify(document) ?? 'undefined';
  } catch {
    // Not JSON (cyclic, BigInt…): never cache it; validation reports the problem.
    text = `uncacheable:${Math.random()}`;
  }
  return createHash('sha1').update(text).update('\0').update(stepTypes.join(',')).digest('hex');
}

export function compileWithHash(
  document: unknown,
  hash: string,
  stepTypes: readonly string[],
  options: CompileOptions,
): Plan {
  const result = validateVersion(document, { stepTypes });
  if (!result.ok) throw new ValidationError(result.problems);
  const limits = options.expressionLimits ?? DEFAULT_EXPRESSION_LIMITS;
  const doc = deepFreeze(structuredClone(document)) as VersionDocument;

  const notes: string[] = [];
  const runnable: Step[] = [];
  for (const step of doc.steps) {
    if (step.type === 'note') notes.push(step.key);
    else runnable.push(step);
  }
  const indexOf = new Map<string, number>();
  for (const [i, step] of runnable.entries()) indexOf.set(step.key, i);
  const targetsOf = (keys: readonly string[] | undefined): number[] => {
    const out: number[] = [];
    for (const key of keys ?? []) {
      const i = indexOf.get(key);
      // Edges to notes are ignored: notes never run and never block.
      if (i !== undefined && !out.includes(i)) out.push(i);
    }
    return out;
  };

  const preds: number[][] = runnable.map(() => []);
  const built = runnable.map((step, index) => {
    const direct = targetsOf(step.destinations);
    let branch: CompiledBranch | null = null;
    const succs = [...direct];
    if (step.type === 'branch') {
      const b = step as BranchStep;
      const conditions = Object.entries(b.conditions)
        .map(([key, c], position) => ({
          key,
          order: c.order,
          position,
          expression: compileExpression(
            c.condition,
            { step_key: step.key, field: `conditions.${key}.condition` },
            limits,
          ),
          targets: targetsOf(c.destinations),
        }))
        .sort((x, y) => x.order - y.order || x.position - y.position)
        .map(({ position: _position, ...c }) => c);
      branch = { conditions, elseTargets: targetsOf(b.else) };
      for (const c of conditions) for (const t of c.targets) if (!succs.includes(t)) succs.push(t);
      for (const t of branch.elseTargets) if (!succs.includes(t)) succs.push(t);
    }
    for (const t of succs) preds[t]!.push(index);
    const site = (field: string) => ({ step_key: step.key, field });
    return {
      index,
      key: step.key,
      type: step.type,
      step,
      succs,
      direct: branch === null ? null : new Set(direct),
      branch,
      conditional: nonEmpty(step.conditional)
        ? compileExpression(step.conditional!, site('conditional'), limits)
        : null,
      loop: nonEmpty(step.loop) ? compileExpression(step.loop!, site('loop'), limits) : null,
      code:
        step.type === 'code' && nonEmpty((step as CodeStep).code)
          ? compileExpression((step as CodeStep).code, site('code'), limits)
          : null,
      config: compileConfig(step, limits),
      throwOnError: step.throw_on_error !== false,
      retry: step.retry ?? null,
      timeoutMs: step.timeout_ms ?? null,
      maxConcurrency: step.max_concurrency ?? null,
    };
  });
  const steps: PlanStep[] = built.map((s, i) => Object.freeze({ ...s, preds: preds[i]! }));

  const entries: number[] = [];
  for (const s of steps) if (s.type === 'input' || s.step.input_connected === true) entries.push(s.index);
  if (entries.length === 0) for (const s of steps) if (s.preds.length === 0) entries.push(s.index);

  return Object.freeze({
    hash,
    document: doc,
    steps: Object.freeze(steps),
    byKey: new Map(steps.map((s) => [s.key, s])),
    entries: Object.freeze(entries),
    notes: Object.freeze(notes),
  });
}

function nonEmpty(text: string | null | undefined): boolean {
  return typeof text === 'string' && text.trim().length > 0;
}

function compileConfig(step: Step, limits: ExpressionLimits): CompiledConfig {
  const base: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(step)) if (!COMMON_FIELDS.has(name)) base[name] = value;
  const templates = collectTemplateStrings(step as Record<string, unknown>).map(({ path, text }) => ({
    path,
    template: compileTemplate(text, { step_key: step.key, field: path.join('.') }, limits),
  }));
  return Object.freeze({ base: Object.freeze(base), templates: Object.freeze(templates) });
}

/** Freezes a JSON value iteratively (documents can be deep; recursion could overflow). */
function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push(child);
  }
  return value;
}

/** A small LRU of plans keyed by content hash, one per engine. */
export class PlanCache {
  readonly #plans = new Map<string, Plan>();
  readonly #max: number;
  readonly #stepTypes: readonly string[];
  readonly #options: CompileOptions;

  constructor(options: CompileOptions & { max?: number } = {}) {
    this.#max = options.max ?? 256;
    this.#stepTypes = [...(options.stepTypes ?? [])].sort();
    this.#options = options;
  }

  get size(): number {
    return this.#plans.size;
  }

  /** The plan for `document`, compiled at most once per distinct content. */
  get(document: unknown): Plan {
    const hash = hashDocument(document, this.#stepTypes);
    const cached = this.#plans.get(hash);
    if (cached !== undefined) {
      // Refresh recency: Map iteration order is insertion order.
      this.#plans.delete(hash);
      this.#plans.set(hash, cached);
      return cached;
    }
    const plan = compileWithHash(document, hash, this.#stepTypes, this.#options);
    this.#plans.set(hash, plan);
    if (this.#plans.size > this.#max) this.#plans.delete(this.#plans.keys().next().value!);
    return plan;
  }
}
