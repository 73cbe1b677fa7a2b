/**
 * `compile(version)`: validate, then turn the document into an immutable execution plan with every
 * expression and template parsed once. Plans are cached per engine by document object and by content
 * (plan-cache.ts), so running the same version twice never re-parses.
 */
import { createHash } from 'node:crypto';
import { ERROR_CODES, ValidationError, WeftError } from '../errors.js';
import { warmSandbox } from '../expressions/boundary.js';
import { compileJavaScriptExpression } from '../expressions/javascript.js';
import {
  type CompiledExpression,
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type EvaluateOptions,
  type ExpressionBindings,
  type ExpressionLanguage,
  type ExpressionLimits,
  type ExpressionSite,
} from '../expressions/jsonata.js';
import { type CompiledTemplate, compileTemplate } from '../expressions/template.js';
import { setOwn } from '../json-data.js';
import { stepCommonFields } from '../model/schema.js';
import { collectTemplateStrings, mayHaveTemplates } from '../model/template-fields.js';
import type { BranchStep, CodeStep, Step, VersionDocument } from '../model/types.js';
import { validateAndCopy } from '../validate/validate.js';
import { compileAgents } from './agent.js';
import { type FastCompiledExpression, withFastPath } from './fast-expression.js';
import type { CompiledBranch, CompiledConfig, Plan, PlanStep, StepRef } from './plan.js';
import { StepsByKey } from './steps-by-key.js';

export interface CompileOptions {
  /** Host-registered step types (valid in addition to the built-in ones). */
  stepTypes?: Iterable<string>;
  expressionLimits?: ExpressionLimits;
  /** The language of documents without a top-level `language` (default `jsonata`). */
  language?: ExpressionLanguage;
  /** Documents with more steps are refused with LIMIT_EXCEEDED before any other work. Default: no limit. */
  maxSteps?: number;
  /** The names of the engine's tools (`createEngine({ tools })`), which model steps may call. */
  tools?: Iterable<string>;
}

const COMMON_FIELDS: ReadonlySet<string> = new Set(Object.keys(stepCommonFields));

/**
 * LIMIT_EXCEEDED when the document has more than `maxSteps` steps: checked first, in O(1), so that an
 * oversized document costs no serialising, hashing, validating or compiling.
 */
export function checkStepCount(document: unknown, maxSteps: number | undefined): void {
  if (maxSteps === undefined || maxSteps === Number.POSITIVE_INFINITY) return;
  let count: number;
  try {
    const steps = (document as { steps?: unknown } | null)?.steps;
    if (!Array.isArray(steps)) return;
    count = steps.length;
  } catch {
    return; // unreadable: validation reports it
  }
  if (count > maxSteps) {
    throw new WeftError(
      ERROR_CODES.LIMIT_EXCEEDED,
      `The workflow has ${count.toLocaleString('en-US')} steps; this engine accepts at most ` +
        `${maxSteps.toLocaleString('en-US')} (limits.maxSteps). Split it into sub-workflows (workflow steps), ` +
        'or raise limits.maxSteps.',
      { details: { limit: 'maxSteps', max: maxSteps, steps: count }, retryable: false },
    );
  }
}

/** Validates and compiles. Throws a ValidationError carrying every problem when the document is invalid. */
export function compile(document: unknown, options: CompileOptions = {}): Plan {
  checkStepCount(document, options.maxSteps);
  const stepTypes = [...(options.stepTypes ?? [])].sort();
  return compileWithHash(document, hashDocument(document, options.language), stepTypes, options);
}

/**
 * The plan's `hash`: the document's content and the language its expressions default to — not the
 * engine's registered step types, so that a run journaled by one engine can be resumed by another that
 * registers more (or other) host types (docs/semantics.md, "Durable runs").
 */
export function hashDocument(document: unknown, language: ExpressionLanguage | undefined): string {
  // Not JSON (cyclic, BigInt…): never cache it; validation reports the problem.
  return hashText(documentText(document) ?? `uncacheable:${Math.random()}`, language);
}

/** The document's JSON text, or null when it has none (cyclic, BigInt…). */
export function documentText(document: unknown): string | null {
  try {
    return JSON.stringify(document) ?? 'undefined';
  } catch {
    return null;
  }
}

export function hashText(text: string, language: ExpressionLanguage | undefined): string {
  return createHash('sha1')
    .update(text)
    .update('\0')
    .update(language ?? 'jsonata')
    .digest('hex');
}

export function compileWithHash(
  document: unknown,
  hash: string,
  stepTypes: readonly string[],
  options: CompileOptions,
): Plan {
  const engineTools: ReadonlySet<string> = new Set(options.tools ?? []);
  const result = validateAndCopy(
    document,
    {
      stepTypes,
      tools: engineTools,
      ...(options.language === undefined ? {} : { language: options.language }),
    },
    true,
  );
  if (!result.ok) throw new ValidationError(result.problems);
  const limits = options.expressionLimits ?? DEFAULT_EXPRESSION_LIMITS;
  // The validator's copy is plain JSON data already, checked, frozen as it was made and never seen by the
  // caller: keeping it saves copying (and walking) the document a second time.
  const doc = result.copy as VersionDocument;
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
  const n = runnable.length;
  // The validator resolved every key and destination already: without notes, its step of each key is the
  // plan index, and a step's `destinations` are its edges (a branch's other lists are resolved here).
  const checked = notes.length === 0 ? result.graph : undefined;
  let indexOf: ReadonlyMap<string, number>;
  if (checked !== undefined) indexOf = checked.owner;
  else {
    const map = new Map<string, number>();
    for (let i = 0; i < n; i++) map.set(runnable[i]!.key, i);
    indexOf = map;
  }
  /** The edges of node v in `checked` are `edgeAt[v]` … `edgeAt[v + 1] - 1`. */
  let edgeAt: Int32Array | undefined;
  if (checked !== undefined) {
    edgeAt = new Int32Array(n + 1);
    for (let id = 0; id < checked.from.length; id++) edgeAt[checked.from[id]! + 1]!++;
    for (let v = 0; v < n; v++) edgeAt[v + 1]! += edgeAt[v]!;
  }
  const expressions = new ExpressionCache(limits, indexOf);
  // Successors in two passes — count, then fill arrays of the exact size — and predecessors likewise:
  // an array grown by `push` from `[]` reserves 17 slots, ~150 bytes per step and per list that a
  // 100,000-step plan keeps for its whole life (issue 11, item 4: W15).
  const succsOf = new Array<number[]>(n);
  const directOf = new Array<number[]>(n);
  const branches = new Array<CompiledBranch | null>(n);
  const conditionals = new Array<FastCompiledExpression | null>(n);
  const loops = new Array<FastCompiledExpression | null>(n);
  const codes = new Array<FastCompiledExpression | null>(n);
  const configs = new Array<CompiledConfig>(n);
  const predCount = new Int32Array(n);
  // Duplicates are dropped with a stamp per target (not `out.includes`, which made a step with 100,000
  // destinations cost 10^10 comparisons): compiling is O(steps + edges).
  const seen = new Int32Array(n).fill(-1);
  let stamp = 0;
  const scratch: number[] = [];
  const targetsOf = (keys: readonly string[] | undefined): number[] => {
    if (keys === undefined || keys.length === 0) return [];
    const mark = stamp++;
    scratch.length = 0;
    for (let k = 0; k < keys.length; k++) {
      const i = indexOf.get(keys[k]!);
      // Edges to notes are ignored: notes never run and never block.
      if (i !== undefined && seen[i] !== mark) {
        seen[i] = mark;
        scratch.push(i);
      }
    }
    return scratch.slice();
  };

  for (let index = 0; index < n; index++) {
    const step = runnable[index]!;
    let direct: number[];
    if (edgeAt !== undefined && step.type !== 'branch') {
      // `slice` of a packed array: exact size and packed elements, as the scheduler's loops expect.
      direct = (checked!.to as number[]).slice(edgeAt[index]!, edgeAt[index + 1]!);
    } else direct = targetsOf(step.destinations);
    let succs = direct;
    let branch: CompiledBranch | null = null;
    if (step.type === 'branch') {
      // Only a branch adds successors to its destinations: other steps share the one array.
      const b = step as BranchStep;
      const conditions = Object.entries(b.conditions)
        .map(([key, c], position) => ({
          key,
          order: c.order,
          position,
          expression: expressions.get(language, c.condition, {
            step_key: step.key,
            field: `conditions.${key}.condition`,
          }),
          targets: targetsOf(c.destinations),
        }))
        .sort((x, y) => x.order - y.order || x.position - y.position)
        .map(({ position: _position, ...c }) => c);
      branch = { conditions, elseTargets: targetsOf(b.else) };
      succs = direct.slice();
      const mark = stamp++;
      for (const t of succs) seen[t] = mark;
      for (const list of [...conditions.map((c) => c.targets), branch.elseTargets]) {
        for (const t of list) {
          if (seen[t] !== mark) {
            seen[t] = mark;
            succs.push(t);
          }
        }
      }
    }
    succsOf[index] = succs;
    directOf[index] = direct;
    branches[index] = branch;
    conditionals[index] = nonEmpty(step.conditional)
      ? expressions.get(language, step.conditional!, { step_key: step.key, field: 'conditional' })
      : null;
    loops[index] = nonEmpty(step.loop)
      ? expressions.get(language, step.loop!, { step_key: step.key, field: 'loop' })
      : null;
    codes[index] =
      step.type === 'code' && nonEmpty((step as CodeStep).code)
        ? expressions.get(
            // A code step's own `language` overrides the document's for its `code` (only).
            (step as CodeStep).language ?? language,
            (step as CodeStep).code,
            { step_key: step.key, field: 'code' },
          )
        : null;
    configs[index] = compileConfig(step, expressions);
    for (let k = 0; k < succs.length; k++) predCount[succs[k]!]!++;
  }
  // Predecessors: placed in one flat table by target, then copied out as packed arrays of exact size.
  const predAt = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) predAt[v + 1] = predAt[v]! + predCount[v]!;
  const predFlat = new Int32Array(predAt[n]!);
  for (let index = 0; index < n; index++) {
    const succs = succsOf[index]!;
    for (let k = 0; k < succs.length; k++) {
      const t = succs[k]!;
      predFlat[predAt[t]! + --predCount[t]!] = index;
    }
  }
  const preds = new Array<number[]>(n);
  for (let v = 0; v < n; v++) {
    const from = predAt[v]!;
    const to = predAt[v + 1]!;
    if (to - from === 1) preds[v] = [predFlat[from]!];
    else {
      // Filled backwards above: read backwards, so predecessors are in plan order.
      scratch.length = 0;
      for (let k = to - 1; k >= from; k--) scratch.push(predFlat[k]!);
      preds[v] = scratch.slice();
    }
  }
  const cover = chainCover(succsOf, preds);
  const tooling = compileAgents(runnable, indexOf, engineTools);
  // One object literal per step, built once: copying (spreading) 10,000 objects gave each one a
  // hidden class of its own — ~500 bytes a step (docs/performance.md, W4).
  const steps = new Array<PlanStep>(n);
  for (let index = 0; index < n; index++) {
    const step = runnable[index]!;
    const key = step.key;
    const branch = branches[index]!;
    steps[index] = Object.freeze({
      index,
      key,
      type: step.type,
      step,
      succs: succsOf[index]!,
      direct: branch === null ? null : new Set(directOf[index]!),
      branch,
      conditional: conditionals[index]!,
      loop: loops[index]!,
      code: codes[index]!,
      config: configs[index]!,
      throwOnError: step.throw_on_error !== false,
      retry: step.retry ?? null,
      timeoutMs: step.timeout_ms ?? null,
      maxConcurrency: step.max_concurrency ?? null,
      agent: tooling.agents[index]!,
      toolOf: tooling.parents[index] === null ? null : Object.freeze(tooling.parents[index]!),
      preds: preds[index]!,
      chain: cover.chainOf[index]!,
    });
  }

  const entries: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.type === 'input' || s.step.input_connected === true) entries.push(i);
  }
  // Tool-only steps are never entries: the model steps that call them run them.
  if (entries.length === 0)
    for (let i = 0; i < steps.length; i++)
      if (steps[i]!.preds.length === 0 && steps[i]!.toolOf === null) entries.push(i);
  const byKey = new StepsByKey(indexOf, steps);

  return Object.freeze({
    hash,
    document: doc,
    steps: Object.freeze(steps),
    byKey,
    entries: Object.freeze(entries),
    notes: Object.freeze(notes),
    chains: cover.count,
    usesSteps: anyReadsSteps(steps),
    stepRefs: anyStepRefs(steps),
  });
}

function anyStepRefs(steps: readonly PlanStep[]): boolean {
  for (let i = 0; i < steps.length; i++) {
    // A conditional's fast path reads the step views (fast-expression.ts, `stepOf`).
    if (steps[i]!.conditional?.stepViews === true) return true;
    const templates = steps[i]!.config.templates;
    for (let t = 0; t < templates.length; t++) if (templates[t]!.ref !== null) return true;
  }
  return false;
}

function anyReadsSteps(steps: readonly PlanStep[]): boolean {
  for (let i = 0; i < steps.length; i++) if (readsSteps(steps[i]!)) return true;
  return false;
}

/** Whether a step may read `$steps`: an expression or a template segment that mentions it. */
function readsSteps(s: PlanStep): boolean {
  const templates = s.config.templates;
  for (let k = 0; k < templates.length; k++) {
    const template = templates[k]!.template;
    if (template.kind === 'single' && (template.expression as FastCompiledExpression).usesSteps !== false)
      return true;
    if (
      template.kind === 'parts' &&
      template.parts.some((p) => typeof p !== 'string' && (p as FastCompiledExpression).usesSteps !== false)
    )
      return true;
  }
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
  succsOf: ReadonlyArray<readonly number[]>,
  preds: readonly number[][],
): { chainOf: number[]; count: number } {
  const n = succsOf.length;
  const waiting = preds.map((p) => p.length);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) order.push(i);
  for (let k = 0; k < order.length; k++) {
    const succs = succsOf[order[k]!]!;
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
  indexOf: ReadonlyMap<string, number>,
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
    indexOf,
  );
  if (compiled.fast === null) warmSandbox(limits);
  return compiled;
}

/**
 * The plan's expressions and templates, compiled once per distinct text (and language) however many steps
 * use it (a 10,000-step document of identical `code` took 4 s to compile when each was parsed again). A
 * repeated text shares the compiled expression — its parse, fast path and sandbox — through a view that
 * reports errors at its own step and field.
 */
class ExpressionCache {
  /** By language: JSONata, JavaScript. */
  readonly #expressions = [
    new Map<string, Shared<FastCompiledExpression>>(),
    new Map<string, Shared<FastCompiledExpression>>(),
  ] as const;
  readonly #templates = new Map<string, CompiledTemplate>();
  readonly #limits: ExpressionLimits;
  readonly #indexOf: ReadonlyMap<string, number>;
  /** The step keys, for JavaScript expressions (built on the first one: most documents have none). */
  #keys: ReadonlySet<string> | undefined;

  constructor(limits: ExpressionLimits, indexOf: ReadonlyMap<string, number>) {
    this.#limits = limits;
    this.#indexOf = indexOf;
  }

  get(language: ExpressionLanguage, source: string, site: ExpressionSite): FastCompiledExpression {
    const cache = this.#expressions[language === 'jsonata' ? 0 : 1];
    const shared = cache.get(source);
    if (shared !== undefined) return atSite(shared, site);
    if (language === 'javascript') this.#keys ??= new Set(this.#indexOf.keys());
    const compiled = compileIn(language, source, site, this.#limits, this.#keys ?? EMPTY_KEYS, this.#indexOf);
    cache.set(source, sharing(compiled));
    return compiled;
  }

  /** Templates are JSONata whatever the document's language (their segments share the cache too). */
  template(text: string, site: ExpressionSite): CompiledTemplate {
    const shared = this.#templates.get(text);
    if (shared !== undefined) {
      if (shared.kind === 'literal') return shared;
      if (shared.kind === 'single')
        return { kind: 'single', expression: this.#view(shared.expression, site) };
      return {
        kind: 'parts',
        parts: shared.parts.map((p) => (typeof p === 'string' ? p : this.#view(p, site))),
      };
    }
    const compiled = compileTemplate(text, site, this.#limits, (source, at) =>
      this.get('jsonata', source, at),
    );
    this.#templates.set(text, compiled);
    return compiled;
  }

  /**
   * A whole-field template that is a plain path whose first name is a step of the plan: that step, and
   * the names after it. Not for `input` (the run input has that name in the scope, whatever the steps'
   * keys) nor `__proto__` (a key the scope cannot hold as its own).
   */
  stepRef(template: CompiledTemplate): StepRef | null {
    if (template.kind !== 'single') return null;
    const names = (template.expression as FastCompiledExpression).path;
    if (names === null || names.length === 0) return null;
    const key = names[0]!;
    if (key === 'input' || key === '__proto__') return null;
    const step = this.#indexOf.get(key);
    return step === undefined ? null : Object.freeze({ step, keys: Object.freeze(names.slice(1)) });
  }

  /** A template segment (a JSONata expression the cache holds) seen from another site. */
  #view(expression: CompiledExpression, site: ExpressionSite): FastCompiledExpression {
    const shared = this.#expressions[0].get(expression.source);
    if (shared !== undefined) return atSite(shared, site);
    return atSite(sharing(expression as FastCompiledExpression), site); // not reached: segments are cached
  }
}

const EMPTY_KEYS: ReadonlySet<string> = new Set();

/**
 * A compiled expression with the one `evaluate` its views at other sites share: it reads the site from
 * the view it is called on (`this`), so a view is a plain object of the same shape as the expression,
 * with no closure of its own (a 100,000-step document of one expression made 100,000 closures, their
 * contexts and their messages' strings: issue 11, item 4).
 */
interface Shared<T extends CompiledExpression> {
  readonly expression: T;
  readonly evaluate: T['evaluate'];
}

function sharing<T extends CompiledExpression>(expression: T): Shared<T> {
  const evaluate = function (
    this: CompiledExpression | undefined,
    document: unknown,
    bindings: ExpressionBindings,
    options?: EvaluateOptions,
  ): Promise<unknown> {
    const site = this?.site ?? expression.site;
    return expression.evaluate(document, bindings, options).catch((error: unknown) => {
      if (!(error instanceof WeftError) || error.step_key !== expression.site.step_key) throw error;
      throw new WeftError(error.code, error.message.replace(whereOf(expression.site), whereOf(site)), {
        ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
        details: { ...error.details, field: site.field },
        retryable: error.retryable,
      });
    });
  };
  return { expression, evaluate };
}

/** `where` as expressionFailure (expressions/jsonata.ts) writes it in its messages. */
function whereOf(site: ExpressionSite): string {
  return site.step_key === undefined ? `\`${site.field}\`` : `\`${site.field}\` of step "${site.step_key}"`;
}

/** A shared expression seen from another step or field: its errors name that site. */
function atSite<T extends CompiledExpression>(shared: Shared<T>, site: ExpressionSite): T {
  const expression = shared.expression;
  if (expression.site.step_key === site.step_key && expression.site.field === site.field) return expression;
  return { ...expression, site, evaluate: shared.evaluate };
}

function nonEmpty(text: string | null | undefined): boolean {
  return typeof text === 'string' && text.trim().length > 0;
}

/** The config of every step with no fields of its own (frozen, so one object serves them all). */
const EMPTY_CONFIG: CompiledConfig = Object.freeze({
  base: Object.freeze({}),
  templates: Object.freeze([]),
  copies: Object.freeze([]),
  sync: true,
});

function compileConfig(step: Step, expressions: ExpressionCache): CompiledConfig {
  const base: Record<string, unknown> = {};
  let fields = 0;
  const names = Object.keys(step);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!COMMON_FIELDS.has(name)) {
      setOwn(base, name, (step as Record<string, unknown>)[name]);
      fields++;
    }
  }
  // Templates live in a step's own (non-common) fields: without any, there is nothing to scan.
  if (fields === 0) return EMPTY_CONFIG;
  const templates = !mayHaveTemplates(step as Record<string, unknown>)
    ? NONE
    : collectTemplateStrings(step as Record<string, unknown>).map(({ path, text }) => {
        const template = expressions.template(text, { step_key: step.key, field: path.join('.') });
        return { path, template, ref: expressions.stepRef(template) };
      });
  if (templates.length === 0) {
    // Most steps (a `code` step, a host step with plain fields): nothing to copy or render per execution.
    return Object.freeze({ base: Object.freeze(base), templates: NONE, copies: NONE, sync: true });
  }
  return Object.freeze({
    base: Object.freeze(base),
    templates: Object.freeze(templates),
    copies: copiesFor(templates),
    sync: templates.every(({ template }) => templateIsSync(template)),
  });
}

const NONE: readonly never[] = Object.freeze([]);

/** Every proper prefix of the templates' paths, once each, shortest first (see CompiledConfig.copies). */
function copiesFor(
  templates: ReadonlyArray<{ readonly path: ReadonlyArray<string | number> }>,
): ReadonlyArray<ReadonlyArray<string | number>> {
  const seen = new Set<string>();
  const out: Array<ReadonlyArray<string | number>> = [];
  for (const { path } of templates) {
    for (let length = 1; length < path.length; length++) {
      const prefix = path.slice(0, length);
      const id = JSON.stringify(prefix);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(Object.freeze(prefix));
    }
  }
  out.sort((a, b) => a.length - b.length);
  return Object.freeze(out);
}

function templateIsSync(template: CompiledTemplate): boolean {
  switch (template.kind) {
    case 'literal':
      return true;
    case 'single':
      return typeof (template.expression as FastCompiledExpression).fast === 'function';
    case 'parts':
      return template.parts.every(
        (p) => typeof p === 'string' || typeof (p as FastCompiledExpression).fast === 'function',
      );
  }
}
