/**
 * `compile(version)`: validate, then turn the document into an immutable execution plan with every
 * expression and template parsed once. Plans are cached by content hash (see PlanCache), so running the
 * same version twice never re-parses.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { warmSandbox } from '../expressions/boundary.js';
import { compileJavaScriptExpression } from '../expressions/javascript.js';
import {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionLanguage,
  type ExpressionLimits,
  type ExpressionSite,
} from '../expressions/jsonata.js';
import { compileTemplate } from '../expressions/template.js';
import { deepFreeze } from '../freeze.js';
import { stepCommonFields } from '../model/schema.js';
import { collectTemplateStrings } from '../model/template-fields.js';
import type { BranchStep, CodeStep, Step, VersionDocument } from '../model/types.js';
import { validateVersion } from '../validate/index.js';
import { compileAgents } from './agent.js';
import { type FastCompiledExpression, withFastPath } from './fast-expression.js';
import type { CompiledBranch, CompiledConfig, Plan, PlanStep } from './plan.js';

export interface CompileOptions {
  /** Host-registered step types (valid in addition to the built-in ones). */
  stepTypes?: Iterable<string>;
  expressionLimits?: ExpressionLimits;
  /** The language of documents without a top-level `language` (default `jsonata`). */
  language?: ExpressionLanguage;
  /** The names of the engine's tools (`createEngine({ tools })`), which model steps may call. */
  tools?: Iterable<string>;
}

const COMMON_FIELDS: ReadonlySet<string> = new Set(Object.keys(stepCommonFields));

/** Validates and compiles. Throws a ValidationError carrying every problem when the document is invalid. */
export function compile(document: unknown, options: CompileOptions = {}): Plan {
  const stepTypes = [...(options.stepTypes ?? [])].sort();
  return compileWithHash(document, hashDocument(document, stepTypes), stepTypes, options);
}

export function hashDocument(document: unknown, stepTypes: readonly string[]): string {
  // Not JSON (cyclic, BigInt…): never cache it; validation reports the problem.
  return hashText(documentText(document) ?? `uncacheable:${Math.random()}`, stepTypes);
}

/** The document's JSON text, or null when it has none (cyclic, BigInt…). */
function documentText(document: unknown): string | null {
  try {
    return JSON.stringify(document) ?? 'undefined';
  } catch {
    return null;
  }
}

function hashText(text: string, stepTypes: readonly string[]): string {
  return createHash('sha1').update(text).update('\0').update(stepTypes.join(',')).digest('hex');
}

export function compileWithHash(
  document: unknown,
  hash: string,
  stepTypes: readonly string[],
  options: CompileOptions,
): Plan {
  const engineTools: ReadonlySet<string> = new Set(options.tools ?? []);
  const result = validateVersion(document, {
    stepTypes,
    tools: engineTools,
    ...(options.language === undefined ? {} : { language: options.language }),
  });
  if (!result.ok) throw new ValidationError(result.problems);
  const limits = options.expressionLimits ?? DEFAULT_EXPRESSION_LIMITS;
  const doc = frozenCopy(document) as VersionDocument;
  const language: ExpressionLanguage =
    (doc as { language?: ExpressionLanguage }).language ?? options.language ?? 'jsonata';

  // Indexed loops throughout: compiling runs once per document, as unoptimised code, where every
  // for…of step allocates an iterator result (MBs for a 10,000-step document; docs/performance.md, W4).
  const notes: string[] = [];
  const runnable: Step[] = [];
  for (let i = 0; i < doc.steps.length; i++) {
    const step = doc.steps[i]!;
    if (step.type === 'note') notes.push(step.key);
    else runnable.push(step);
  }
  const indexOf = new Map<string, number>();
  for (let i = 0; i < runnable.length; i++) indexOf.set(runnable[i]!.key, i);
  const keys: ReadonlySet<string> = new Set(indexOf.keys());
  const expression = (source: string, site: ExpressionSite, lang: ExpressionLanguage = language) =>
    compileIn(lang, source, site, limits, keys);
  const targetsOf = (keys: readonly string[] | undefined): number[] => {
    const out: number[] = [];
    if (keys === undefined) return out;
    for (let k = 0; k < keys.length; k++) {
      const i = indexOf.get(keys[k]!);
      // Edges to notes are ignored: notes never run and never block.
      if (i !== undefined && !out.includes(i)) out.push(i);
    }
    return out;
  };

  const preds: number[][] = runnable.map(() => []);
  const built = runnable.map((step, index) => {
    const direct = targetsOf(step.destinations);
    let branch: CompiledBranch | null = null;
    const succs = direct.slice();
    if (step.type === 'branch') {
      const b = step as BranchStep;
      const conditions = Object.entries(b.conditions)
        .map(([key, c], position) => ({
          key,
          order: c.order,
          position,
          expression: expression(c.condition, { step_key: step.key, field: `conditions.${key}.condition` }),
          targets: targetsOf(c.destinations),
        }))
        .sort((x, y) => x.order - y.order || x.position - y.position)
        .map(({ position: _position, ...c }) => c);
      branch = { conditions, elseTargets: targetsOf(b.else) };
      for (const c of conditions) for (const t of c.targets) if (!succs.includes(t)) succs.push(t);
      for (const t of branch.elseTargets) if (!succs.includes(t)) succs.push(t);
    }
    for (let k = 0; k < succs.length; k++) preds[succs[k]!]!.push(index);
    return {
      step,
      succs,
      direct,
      branch,
      conditional: nonEmpty(step.conditional)
        ? expression(step.conditional!, { step_key: step.key, field: 'conditional' })
        : null,
      loop: nonEmpty(step.loop) ? expression(step.loop!, { step_key: step.key, field: 'loop' }) : null,
      code:
        step.type === 'code' && nonEmpty((step as CodeStep).code)
          ? expression(
              (step as CodeStep).code,
              { step_key: step.key, field: 'code' },
              // A code step's own `language` overrides the document's for its `code` (only).
              (step as CodeStep).language ?? language,
            )
          : null,
      config: compileConfig(step, limits, (source, site) => compileIn('jsonata', source, site, limits, keys)),
    };
  });
  const cover = chainCover(built, preds);
  const tooling = compileAgents(runnable, indexOf, engineTools);
  // One object literal per step, built once: copying (spreading) 10,000 objects gave each one a
  // hidden class of its own — ~500 bytes a step (docs/performance.md, W4).
  const steps: PlanStep[] = built.map((b, index) => {
    const step = b.step;
    return Object.freeze({
      index,
      key: step.key,
      type: step.type,
      step,
      succs: b.succs,
      direct: b.branch === null ? null : new Set(b.direct),
      branch: b.branch,
      conditional: b.conditional,
      loop: b.loop,
      code: b.code,
      config: b.config,
      throwOnError: step.throw_on_error !== false,
      retry: step.retry ?? null,
      timeoutMs: step.timeout_ms ?? null,
      maxConcurrency: step.max_concurrency ?? null,
      agent: tooling.agents[index]!,
      toolOf: tooling.parents[index] === null ? null : Object.freeze(tooling.parents[index]!),
      preds: preds[index]!,
      chain: cover.chainOf[index]!,
    });
  });

  const entries: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.type === 'input' || s.step.input_connected === true) entries.push(i);
  }
  // Tool-only steps are never entries: the model steps that call them run them.
  if (entries.length === 0)
    for (let i = 0; i < steps.length; i++)
      if (steps[i]!.preds.length === 0 && steps[i]!.toolOf === null) entries.push(i);
  const byKey = new Map<string, PlanStep>();
  for (let i = 0; i < steps.length; i++) byKey.set(steps[i]!.key, steps[i]!);

  return Object.freeze({
    hash,
    document: doc,
    steps: Object.freeze(steps),
    byKey,
    entries: Object.freeze(entries),
    notes: Object.freeze(notes),
    chains: cover.count,
    usesSteps: steps.some(readsSteps),
  });
}

/** Whether a step may read `$steps`: an expression that mentions it, or any template (not scanned). */
function readsSteps(s: PlanStep): boolean {
  if (s.config.templates.length > 0) return true;
  if (s.conditional?.usesSteps === true || s.loop?.usesSteps === true || s.code?.usesSteps === true)
    return true;
  return s.branch?.conditions.some((c) => c.expression.usesSteps) === true;
}

/**
 * Covers the graph with chains, greedily in topological order: a step extends the chain of one of its
 * predecessors that is still that chain's last step, or starts a new chain. Steps of one chain are
 * pairwise ordered, so the number of chains bounds how many steps can run at once (it is at least the
 * graph's width; exact for chains and trees). A cycle (which validation rejects) gets one chain per
 * step, the trivial bound.
 */
function chainCover(
  steps: ReadonlyArray<{ succs: readonly number[] }>,
  preds: readonly number[][],
): { chainOf: number[]; count: number } {
  const n = steps.length;
  const waiting = preds.map((p) => p.length);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    const succs = steps[order[k]!]!.succs;
    for (let j = 0; j < succs.length; j++) if (--waiting[succs[j]!]! === 0) order.push(succs[j]!);
  }
  const chainOf = new Array<number>(n);
  if (order.length < n) {
    for (let i = 0; i < n; i++) chainOf[i] = i;
    return { chainOf, count: n };
  }
  const isTail = new Uint8Array(n);
  let count = 0;
  for (let k = 0; k < n; k++) {
    const v = order[k]!;
    let chain = -1;
    const from = preds[v]!;
    for (let j = 0; j < from.length; j++) {
      const u = from[j]!;
      if (isTail[u] === 1) {
        isTail[u] = 0;
        chain = chainOf[u]!;
        break;
      }
    }
    chainOf[v] = chain === -1 ? count++ : chain;
    isTail[v] = 1;
  }
  return { chainOf, count };
}

/**
 * Parses once (errors carry the position) and adds the fast path: the synchronous closure for simple
 * JSONata, the main-thread sandbox for JavaScript. JSONata outside the fast path runs in a sandbox
 * worker: one is started now, so that the first evaluation does not wait for it.
 */
function compileIn(
  language: ExpressionLanguage,
  source: string,
  site: ExpressionSite,
  limits: ExpressionLimits,
  stepKeys: ReadonlySet<string>,
): FastCompiledExpression {
  if (language === 'javascript') {
    // The sandbox runs on the main thread first; a worker (with the sandbox loaded) takes what outgrows it.
    warmSandbox(limits, 'javascript');
    return withFastPath(compileJavaScriptExpression(source, site, limits, stepKeys), limits.maxDepth);
  }
  const compiled = withFastPath(
    compileExpression(source, site, limits),
    limits.maxDepth,
    limits.maxStringLength,
  );
  if (compiled.fast === null) warmSandbox(limits);
  return compiled;
}

function nonEmpty(text: string | null | undefined): boolean {
  return typeof text === 'string' && text.trim().length > 0;
}

/** The config of every step with no fields of its own (frozen, so one object serves them all). */
const EMPTY_CONFIG: CompiledConfig = Object.freeze({ base: Object.freeze({}), templates: Object.freeze([]) });

function compileConfig(
  step: Step,
  limits: ExpressionLimits,
  compileSegment: (source: string, site: ExpressionSite) => FastCompiledExpression,
): CompiledConfig {
  const base: Record<string, unknown> = {};
  let fields = 0;
  const names = Object.keys(step);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!COMMON_FIELDS.has(name)) {
      base[name] = (step as Record<string, unknown>)[name];
      fields++;
    }
  }
  // Templates live in a step's own (non-common) fields: without any, there is nothing to scan.
  if (fields === 0) return EMPTY_CONFIG;
  const templates = collectTemplateStrings(step as Record<string, unknown>).map(({ path, text }) => ({
    path,
    template: compileTemplate(text, { step_key: step.key, field: path.join('.') }, limits, compileSegment),
  }));
  return Object.freeze({ base: Object.freeze(base), templates: Object.freeze(templates) });
}

/**
 * A frozen deep copy of a JSON-shaped document, iteratively (documents can be deep). Unlike
 * structuredClone it shares the strings with the original (they are immutable): structuredClone copies
 * every one, ~1 MB of keys and destinations for a 10,000-step document (docs/performance.md, W4). A value
 * that is not a plain object, an array or a primitive (a Date, a Map, a class instance…) falls back to
 * structuredClone, as before.
 */
function frozenCopy(document: unknown): unknown {
  if (document === null || typeof document !== 'object') return document;
  const root = copyShell(document);
  if (root === null) return deepFreeze(structuredClone(document));
  const copies: object[] = [root];
  // Two parallel stacks (sources, their copies): no pair allocated per object.
  const sources: Array<Record<string, unknown>> = [document as Record<string, unknown>];
  const targets: Array<Record<string, unknown>> = [root as Record<string, unknown>];
  while (sources.length > 0) {
    const source = sources.pop()!;
    const target = targets.pop()!;
    const keys = Object.keys(source);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const value = source[key];
      if (value === null || typeof value !== 'object') {
        if (typeof value === 'function' || typeof value === 'symbol')
          return deepFreeze(structuredClone(document));
        target[key] = value;
        continue;
      }
      const copy = copyShell(value);
      if (copy === null) return deepFreeze(structuredClone(document));
      target[key] = copy;
      copies.push(copy);
      sources.push(value as Record<string, unknown>);
      targets.push(copy as Record<string, unknown>);
    }
  }
  for (let i = 0; i < copies.length; i++) Object.freeze(copies[i]!);
  return root;
}

/** An empty array or object to copy `value` into, or null when it is neither a plain array nor object. */
function copyShell(value: object): object | null {
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value)) return proto === Array.prototype ? new Array(value.length) : null;
  return proto === Object.prototype || proto === null ? {} : null;
}

/** A small LRU of plans keyed by content hash, one per engine. */
export class PlanCache {
  /**
   * By the document's JSON text: every run of a document looks its plan up, and a lookup by the text
   * costs less than hashing it (sha1 is then done once, at compile time, for `plan.hash`). The text
   * costs ~50 bytes a step, a tenth of the plan it keys.
   */
  readonly #plans = new Map<string, Plan>();
  /** The most recently used plan (its recency needs no refresh). */
  #newest: Plan | null = null;
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
    const text = documentText(document);
    if (text === null) {
      return compileWithHash(
        document,
        hashDocument(document, this.#stepTypes),
        this.#stepTypes,
        this.#options,
      );
    }
    const cached = this.#plans.get(text);
    if (cached !== undefined) {
      if (cached !== this.#newest) {
        // Refresh recency: Map iteration order is insertion order.
        this.#plans.delete(text);
        this.#plans.set(text, cached);
        this.#newest = cached;
      }
      return cached;
    }
    const plan = compileWithHash(document, hashText(text, this.#stepTypes), this.#stepTypes, this.#options);
    this.#plans.set(text, plan);
    this.#newest = plan;
    if (this.#plans.size > this.#max) this.#plans.delete(this.#plans.keys().next().value!);
    return plan;
  }
}
