/**
 * A fast path for simple JSONata expressions. JSONata evaluates every node through an async function
 * (a promise per node, a new environment per call), which costs ~20 µs for `a.b.n >= 0` — more than
 * the whole scheduler's cost of a step. Most expressions in workflow documents are field paths,
 * comparisons, arithmetic, boolean logic, conditions and object constructors over plain values, so
 * `compileFast` turns exactly that subset of the AST into a synchronous closure, once per plan.
 *
 * The closure reproduces JSONata 2.x's semantics for the values it accepts and gives up (returns BAIL)
 * on anything else — an array or a function anywhere, a non-finite number, mixed-type comparisons,
 * anything that would raise an error — and the caller then evaluates with JSONata itself, which
 * produces the result or the error it always did. Evaluation is pure, so giving up half-way is safe.
 * compile/fast-expression.test.ts checks the closure against JSONata on generated expressions and data.
 */
import { type JavaScriptExpression, NOT_NOW } from '../expressions/javascript.js';
import {
  type CompiledExpression,
  DEFAULT_EXPRESSION_LIMITS,
  type ExpressionBindings,
  parseExpression,
} from '../expressions/jsonata.js';

/** Returned when the fast path cannot decide: evaluate with JSONata. */
export const BAIL: unique symbol = Symbol('weft.fast-expression.bail');
export type FastResult = unknown;
/**
 * The scope's step views by plan index (the runner's `#views`: `views[i]` is exactly what the scope
 * holds under step `i`'s key, undefined until the step settles), or nothing. Only a caller whose
 * `document` is that run's scope may pass it; without it every name is read from the document.
 */
export type StepViews = readonly unknown[] | null | undefined;
export type FastEvaluator = (
  document: unknown,
  bindings: ExpressionBindings,
  views?: StepViews,
) => FastResult;

/** A compiled expression with its fast path (when the expression is in the subset). */
export interface FastCompiledExpression extends CompiledExpression {
  readonly fast: FastEvaluator | null;
  /** Whether the expression may read `$steps` (true when unsure). */
  readonly usesSteps: boolean;
  /**
   * The names of a whole expression that is a plain field path (`a.b.c`: names only, no variable), when
   * its fast path is the direct getter over them; else null. The plan compiler turns a template
   * `{{ STEP.output… }}` into a direct read of that step's scope view with it (`readPath`).
   */
  readonly path: readonly string[] | null;
  /**
   * Whether its fast path reads a step of the plan by index when given the step views (a path such as
   * `STEP.status` whose first name is a step key): the plan then has the runner keep them.
   */
  readonly stepViews: boolean;
}

type Node = Record<string, unknown> & { type?: unknown };
type Closure = (document: Record<string, unknown>, bindings: ExpressionBindings, views: StepViews) => unknown;

/** Variables the engine binds (docs/semantics.md, rule 7). Others are JSONata functions: not in the subset. */
const BOUND = new Set(['input', 'steps', 'vars', 'run', 'item', 'index']);
/** The string limit of the expression being compiled (compileFast sets it; `&` closures capture it). */
let compilingMaxString = DEFAULT_EXPRESSION_LIMITS.maxStringLength;
/** The plan's step indexes by key, for the expression being compiled (compileFast sets it), or null. */
let compilingSteps: ReadonlyMap<string, number> | null = null;
/** Whether the expression being compiled got a path that reads a step view (compileFast reads it). */
let compilingUsedViews = false;
/** Deeper expressions are left to JSONata, which enforces the depth limit. */
const MAX_HEIGHT = 48;

const hasOwn = Object.prototype.hasOwnProperty;

function onlyKeys(node: Node, allowed: readonly string[]): boolean {
  for (const key of Object.keys(node)) if (!allowed.includes(key)) return false;
  return true;
}

/** A value the subset may carry: not an array (sequence semantics), not a function, numbers finite. */
function plain(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'function' || Array.isArray(value)) return false;
  return true;
}

/** JSONata's field lookup on one (non-array) value. */
function field(input: unknown, key: string): unknown {
  if (input === null || typeof input !== 'object') return undefined;
  if (Array.isArray(input)) return BAIL;
  const o = input as Record<string, unknown>;
  if (o._jsonata_function === true || o._jsonata_lambda === true) return BAIL;
  if (!hasOwn.call(o, key)) return undefined;
  const value = o[key];
  return Array.isArray(value) || typeof value === 'function' ? BAIL : value;
}

/** JSONata's effective boolean value, for the plain values of the subset (BAIL otherwise). */
function truthy(value: unknown): boolean | typeof BAIL {
  switch (typeof value) {
    case 'undefined':
      return false;
    case 'boolean':
      return value;
    case 'string':
      return value.length > 0;
    case 'number':
      return Number.isFinite(value) ? value !== 0 : BAIL;
    default:
      return value === null ? false : BAIL;
  }
}

function compileNode(node: Node, height: number): Closure | null {
  if (height > MAX_HEIGHT || node === null || typeof node !== 'object') return null;
  switch (node.type) {
    case 'number':
    case 'string':
    case 'value': {
      if (!onlyKeys(node, ['type', 'value', 'position'])) return null;
      const value = node.value;
      if (!(value === null || ['number', 'string', 'boolean'].includes(typeof value)) || !plain(value))
        return null;
      return () => value;
    }
    case 'variable':
      return compileVariable(node);
    case 'path':
      return compilePath(node);
    case 'binary':
      return compileBinary(node, height);
    case 'unary':
      return compileUnary(node, height);
    case 'condition': {
      if (!onlyKeys(node, ['type', 'position', 'condition', 'then', 'else'])) return null;
      const condition = compileNode(node.condition as Node, height + 1);
      const then = compileNode(node.then as Node, height + 1);
      const otherwise =
        node.else === undefined ? () => undefined : compileNode(node.else as Node, height + 1);
      if (condition === null || then === null || otherwise === null) return null;
      return (d, b, v) => {
        const c = condition(d, b, v);
        if (c === BAIL) return BAIL;
        const t = truthy(c);
        if (t === BAIL) return BAIL;
        return t ? then(d, b, v) : otherwise(d, b, v);
      };
    }
    case 'block': {
      if (!onlyKeys(node, ['type', 'position', 'expressions']) || !Array.isArray(node.expressions))
        return null;
      const parts: Closure[] = [];
      for (const e of node.expressions as Node[]) {
        const c = compileNode(e, height + 1);
        if (c === null) return null;
        parts.push(c);
      }
      return (d, b, v) => {
        let result: unknown;
        for (const part of parts) {
          result = part(d, b, v);
          if (result === BAIL) return BAIL;
        }
        return result;
      };
    }
    default:
      return null;
  }
}

/**
 * The value a whole expression that is a plain path (or one variable) may end on: any value but a
 * function or a JSONata sequence. JSONata returns the array a path ends on as it is — the same array —
 * so a getter can too (only arrays met on the way map and flatten: those still bail).
 */
function finalValue(value: unknown): unknown {
  if (typeof value === 'function') return BAIL;
  if (Array.isArray(value) && (value as { sequence?: unknown }).sequence !== undefined) return BAIL;
  return value;
}

/**
 * `$name`. `whole`: the variable is the whole expression, so it may yield an array (see finalValue); as
 * the head of a path or an operand it may not (sequence semantics).
 */
function compileVariable(node: Node, whole = false): Closure | null {
  if (!onlyKeys(node, ['type', 'value', 'position'])) return null;
  const name = node.value;
  // `$` is the context (the document at the top level); `$$` the root (the document).
  if (name === '' || name === '$') return (d) => d;
  if (typeof name !== 'string' || !BOUND.has(name)) return null;
  if (whole) {
    return (_d, b) =>
      hasOwn.call(b, name) ? finalValue((b as unknown as Record<string, unknown>)[name]) : BAIL;
  }
  return (_d, b) => {
    if (!hasOwn.call(b, name)) return BAIL;
    const value = (b as unknown as Record<string, unknown>)[name];
    return Array.isArray(value) || typeof value === 'function' ? BAIL : value;
  };
}

/** The last step of a whole-expression path: `field`, but the value may be an array (finalValue). */
function lastField(input: unknown, key: string): unknown {
  if (input === null || typeof input !== 'object') return undefined;
  if (Array.isArray(input)) return BAIL;
  const o = input as Record<string, unknown>;
  if (o._jsonata_function === true || o._jsonata_lambda === true) return BAIL;
  if (!hasOwn.call(o, key)) return undefined;
  return finalValue(o[key]);
}

/**
 * `a.b.c` and `$var.b.c`: field steps only (no predicates, stages, wildcards, `[]`, …). `whole`: the
 * path is the whole expression — a direct getter, whose last value may be an array (templates such as
 * `{{ A.output.items }}` read arrays as often as anything).
 */
function compilePath(node: Node, whole = false): Closure | null {
  if (
    !onlyKeys(node, ['type', 'position', 'steps']) ||
    !Array.isArray(node.steps) ||
    node.steps.length === 0
  ) {
    return null;
  }
  const steps = node.steps as Node[];
  let head: Closure | null = null;
  const keys: string[] = [];
  for (const [i, step] of steps.entries()) {
    if (!onlyKeys(step, ['type', 'value', 'position'])) return null;
    if (step.type === 'name' && typeof step.value === 'string') keys.push(step.value);
    else if (i === 0 && step.type === 'variable') {
      const variable = compileVariable(step);
      if (variable === null) return null;
      head = variable;
    } else return null;
  }
  const fromVariable = steps[0]!.type === 'variable';
  const step = fromVariable ? undefined : stepOf(keys[0]!);
  // The closures are made by functions of their own, each given an exact-size copy of what it reads: a
  // closure keeps its maker's whole context, and a plan keeps every closure of its expressions for its life.
  if (whole && keys.length > 0) {
    if (step === undefined) return directGetter(fromVariable ? head : null, keys.slice());
    // `STEP…` as a whole: the step's view is the head, the names after it as before.
    return keys.length === 1
      ? viewHead(step, keys[0]!)
      : directGetter(viewHead(step, keys[0]!), keys.slice(1));
  }
  if (!fromVariable && keys.length === 2) return operandPair(keys[0]!, keys[1]!, step);
  return operandPath(fromVariable ? head : null, keys.slice(), step);
}

/**
 * An operand path of two names (`STEP.status = "COMPLETED"`, a conditional's usual form), unrolled
 * (W1-obs evaluates one per step; the unrolled form took a `for…of` loop and a closure call off each:
 * 10–60 ns of ~150 per conditional, docs/performance.md). A first name that is a step of the plan
 * (`step`) is read from the step views when the caller has them: an array load, where the scope — an
 * object with a property per settled step, in dictionary mode past ~128 of them — cost four hashed
 * lookups and two prototype walks per read (~300 of ~400 ns per conditional, W1-obs's plan).
 */
function operandPair(k0: string, k1: string, step: number | undefined): Closure {
  if (step !== undefined) {
    return (d, _b, v) => {
      const v0 = v == null ? field(d, k0) : v[step];
      return v0 === BAIL || v0 === undefined ? v0 : field(v0, k1);
    };
  }
  return (d) => {
    const v0 = field(d, k0);
    return v0 === BAIL || v0 === undefined ? v0 : field(v0, k1);
  };
}

/** Any other operand path: a loop over `keys` from `head` (a variable) or the document (or a step view). */
function operandPath(head: Closure | null, keys: readonly string[], step: number | undefined): Closure {
  const n = keys.length;
  return (d, b, v) => {
    let value: unknown = head !== null ? head(d, b, v) : d;
    if (value === BAIL) return BAIL;
    let k = 0;
    if (step !== undefined && v != null) {
      value = v[step];
      if (value === undefined) return undefined;
      k = 1;
    }
    for (; k < n; k++) {
      value = field(value, keys[k]!);
      if (value === BAIL) return BAIL;
      if (value === undefined) return undefined;
    }
    return value;
  };
}

/**
 * The plan index of a path's first name when the step views can stand for the scope's property: a step
 * of the plan, but not `input` (the scope's `input` is the run input, whatever the steps' keys) nor
 * `__proto__` (a key the scope cannot hold as its own). Undefined otherwise, or outside a plan.
 */
function stepOf(name: string): number | undefined {
  if (compilingSteps === null || name === 'input' || name === '__proto__') return undefined;
  const step = compilingSteps.get(name);
  if (step !== undefined) compilingUsedViews = true;
  return step;
}

/**
 * The first name of a path as a step's view: `views[step]` when given — the same object the scope holds
 * under `name`, or undefined before the step settles, as `field(scope, name)` gives — else `field`.
 */
function viewHead(step: number, name: string): Closure {
  return (d, _b, v) => (v == null ? field(d, name) : v[step]);
}

/**
 * The names of `ast` when it is a path of plain names (what `compilePath(ast, true)` makes a direct
 * getter over, with the document as its head), else null.
 */
function namePath(ast: unknown): string[] | null {
  const root = ast as Node;
  if (root === null || typeof root !== 'object' || root.type !== 'path') return null;
  if (!onlyKeys(root, ['type', 'position', 'steps']) || !Array.isArray(root.steps) || root.steps.length === 0)
    return null;
  const keys: string[] = [];
  for (const step of root.steps as Node[]) {
    if (step === null || typeof step !== 'object' || !onlyKeys(step, ['type', 'value', 'position']))
      return null;
    if (step.type !== 'name' || typeof step.value !== 'string') return null;
    keys.push(step.value);
  }
  return keys;
}

/**
 * What the direct getter of a whole path `HEAD.k1.….kn` gives once `HEAD` has been read as `start`
 * (`keys` = k1…kn): the same steps as `directGetter`, as a loop, BAIL where it bails or a getter
 * throws. The runner reads a step's scope view by index and finishes `{{ STEP.output… }}` with it.
 */
export function readPath(start: unknown, keys: readonly string[]): FastResult {
  if (keys.length === 0) return finalValue(start);
  try {
    let value = start;
    const n = keys.length - 1;
    for (let i = 0; i < n; i++) {
      value = field(value, keys[i]!);
      if (value === BAIL || value === undefined) return value;
    }
    return lastField(value, keys[n]!);
  } catch {
    return BAIL;
  }
}

/**
 * A whole-expression path as a getter: unrolled for the usual one to three names (`input.x`,
 * `STEP.output`, `STEP.output.x`), a loop beyond. `head` null: the path starts at the document.
 */
function directGetter(head: Closure | null, keys: readonly string[]): Closure {
  const last = keys[keys.length - 1]!;
  const start = (d: Record<string, unknown>, b: ExpressionBindings, v: StepViews): unknown =>
    head === null ? d : head(d, b, v);
  if (keys.length === 1) {
    return (d, b, v) => {
      const v0 = start(d, b, v);
      return v0 === BAIL ? BAIL : lastField(v0, last);
    };
  }
  if (keys.length === 2) {
    const k0 = keys[0]!;
    return (d, b, v) => {
      const v0 = start(d, b, v);
      if (v0 === BAIL) return BAIL;
      const v1 = field(v0, k0);
      return v1 === BAIL || v1 === undefined ? v1 : lastField(v1, last);
    };
  }
  if (keys.length === 3) {
    const k0 = keys[0]!;
    const k1 = keys[1]!;
    return (d, b, v) => {
      const v0 = start(d, b, v);
      if (v0 === BAIL) return BAIL;
      const v1 = field(v0, k0);
      if (v1 === BAIL || v1 === undefined) return v1;
      const v2 = field(v1, k1);
      return v2 === BAIL || v2 === undefined ? v2 : lastField(v2, last);
    };
  }
  const n = keys.length - 1;
  return (d, b, v) => {
    let value = start(d, b, v);
    if (value === BAIL) return BAIL;
    for (let i = 0; i < n; i++) {
      value = field(value, keys[i]!);
      if (value === BAIL || value === undefined) return value;
    }
    return lastField(value, last);
  };
}

function compileBinary(node: Node, height: number): Closure | null {
  if (!onlyKeys(node, ['type', 'value', 'position', 'lhs', 'rhs'])) return null;
  const lhs = compileNode(node.lhs as Node, height + 1);
  const rhs = compileNode(node.rhs as Node, height + 1);
  if (lhs === null || rhs === null) return null;
  const op = node.value;
  switch (op) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return (d, b, w) => {
        const l = lhs(d, b, w);
        if (l === BAIL) return BAIL;
        const r = rhs(d, b, w);
        if (r === BAIL) return BAIL;
        // JSONata raises T2001/T2002 for non-numbers and D1001 for non-finite ones: let it.
        if ((l !== undefined && !isFiniteNumber(l)) || (r !== undefined && !isFiniteNumber(r))) return BAIL;
        if (l === undefined || r === undefined) return undefined;
        const x = l as number;
        const y = r as number;
        const out = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : x % y;
        return Number.isFinite(out) ? out : BAIL;
      };
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (d, b, w) => {
        const l = lhs(d, b, w);
        if (l === BAIL) return BAIL;
        const r = rhs(d, b, w);
        if (r === BAIL) return BAIL;
        const lt = typeof l;
        const rt = typeof r;
        // Non-comparable or mixed types raise T2010/T2009 in JSONata.
        if (!(lt === 'undefined' || lt === 'string' || (lt === 'number' && Number.isFinite(l)))) return BAIL;
        if (!(rt === 'undefined' || rt === 'string' || (rt === 'number' && Number.isFinite(r)))) return BAIL;
        if (l === undefined || r === undefined) return undefined;
        if (lt !== rt) return BAIL;
        const x = l as string | number;
        const y = r as string | number;
        return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
      };
    case '=':
    case '!=':
      return (d, b, w) => {
        const l = lhs(d, b, w);
        if (l === BAIL) return BAIL;
        const r = rhs(d, b, w);
        if (r === BAIL) return BAIL;
        if (l === undefined || r === undefined) return false;
        // Objects compare deeply in JSONata: leave them to it.
        if ((typeof l === 'object' && l !== null) || (typeof r === 'object' && r !== null)) return BAIL;
        return op === '=' ? l === r : l !== r;
      };
    case 'and':
    case 'or':
      return (d, b, w) => {
        const l = lhs(d, b, w);
        if (l === BAIL) return BAIL;
        const lb = truthy(l);
        if (lb === BAIL) return BAIL;
        if (op === 'and' ? !lb : lb) return lb;
        const r = rhs(d, b, w);
        if (r === BAIL) return BAIL;
        return truthy(r);
      };
    case '&': {
      const cap = compilingMaxString;
      return (d, b, w) => {
        const l = lhs(d, b, w);
        if (l === BAIL) return BAIL;
        const r = rhs(d, b, w);
        if (r === BAIL) return BAIL;
        // Only strings: JSONata formats numbers and objects its own way.
        if ((l !== undefined && typeof l !== 'string') || (r !== undefined && typeof r !== 'string'))
          return BAIL;
        const out = (l ?? '') + (r ?? '');
        // Past the string limit: the sandbox worker reports EXPRESSION_LIMIT.
        return out.length > cap ? BAIL : out;
      };
    }
    default:
      return null;
  }
}

function compileUnary(node: Node, height: number): Closure | null {
  if (node.value === '-') {
    if (!onlyKeys(node, ['type', 'value', 'position', 'expression'])) return null;
    const inner = compileNode(node.expression as Node, height + 1);
    if (inner === null) return null;
    return (d, b, w) => {
      const v = inner(d, b, w);
      if (v === BAIL || v === undefined) return v;
      return isFiniteNumber(v) ? -v : BAIL;
    };
  }
  if (
    node.value !== '{' ||
    !onlyKeys(node, ['type', 'value', 'position', 'lhs']) ||
    !Array.isArray(node.lhs)
  ) {
    return null;
  }
  // An object constructor with literal string keys, each once.
  const keys: string[] = [];
  const values: Closure[] = [];
  for (const pair of node.lhs as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) return null;
    const k = pair[0] as Node;
    if (k?.type !== 'string' || typeof k.value !== 'string' || !onlyKeys(k, ['type', 'value', 'position'])) {
      return null;
    }
    const key = k.value;
    if (keys.includes(key) || key === '_jsonata_lambda' || key === '_jsonata_function') return null;
    const value = compileNode(pair[1] as Node, height + 1);
    if (value === null) return null;
    keys.push(key);
    values.push(value);
  }
  return (d, b, w) => {
    // JSONata builds objects without a prototype.
    const out: Record<string, unknown> = Object.create(null);
    for (let i = 0; i < keys.length; i++) {
      const v = values[i]!(d, b, w);
      if (v === BAIL) return BAIL;
      if (v !== undefined) out[keys[i]!] = v;
    }
    return out;
  };
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Whether an AST mentions the variable `$name` anywhere (true when too deep to tell). */
export function referencesVariable(ast: unknown, name: string): boolean {
  const stack: Array<[unknown, number]> = [[ast, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > 2000) return true;
    const n = node as { type?: unknown; value?: unknown };
    if (n.type === 'variable' && n.value === name) return true;
    for (const child of Object.values(node))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * How deep JSONata's evaluator nests (its `evaluate` calls, which `maxDepth` bounds) to evaluate a node
 * of the subset, over-estimated where unsure: an expression whose estimate exceeds `maxDepth` is left
 * to JSONata, which then reports EXPRESSION_LIMIT exactly as it would without the fast path.
 */
function depthOf(node: Node, height = 0): number {
  if (height > MAX_HEIGHT || node === null || typeof node !== 'object') return Number.POSITIVE_INFINITY;
  switch (node.type) {
    case 'path':
      // The path, then each step: a name, or the variable that heads it.
      return 2;
    case 'binary':
      return 1 + Math.max(depthOf(node.lhs as Node, height + 1), depthOf(node.rhs as Node, height + 1));
    case 'unary':
      if (node.value === '-') return 1 + depthOf(node.expression as Node, height + 1);
      // An object constructor: the group, then each value. JSONata evaluates the values concurrently
      // (async), and its depth counter counts every evaluation in flight, so the values' depths add up.
      return (node.lhs as unknown[][]).reduce((sum, pair) => sum + depthOf(pair[1] as Node, height + 1), 2);
    case 'condition':
      return (
        1 +
        Math.max(
          depthOf(node.condition as Node, height + 1),
          depthOf(node.then as Node, height + 1),
          node.else === undefined ? 0 : depthOf(node.else as Node, height + 1),
        )
      );
    case 'block':
      return 1 + Math.max(0, ...(node.expressions as Node[]).map((e) => depthOf(e, height + 1)));
    default:
      return 1;
  }
}

/**
 * The fast closure for an expression's AST, or null when the expression is outside the subset — or
 * could nest deeper than `maxDepth` (JSONata then evaluates it, and reports the limit).
 */
export function compileFast(
  ast: unknown,
  maxDepth = DEFAULT_EXPRESSION_LIMITS.maxDepth,
  maxStringLength = DEFAULT_EXPRESSION_LIMITS.maxStringLength,
  steps: ReadonlyMap<string, number> | null = null,
): FastEvaluator | null {
  return compileFastIn(ast, maxDepth, maxStringLength, steps).fast;
}

/** `compileFast`, and whether the closure reads step views (`steps`: the plan's step indexes by key). */
function compileFastIn(
  ast: unknown,
  maxDepth: number,
  maxStringLength: number,
  steps: ReadonlyMap<string, number> | null,
): { fast: FastEvaluator | null; stepViews: boolean } {
  compilingMaxString = maxStringLength;
  compilingSteps = steps;
  compilingUsedViews = false;
  const root = ast as Node;
  let closure: Closure | null;
  try {
    // A whole expression that is a path or a variable is a direct getter (it may yield an array).
    closure =
      root !== null && typeof root === 'object' && root.type === 'path'
        ? compilePath(root, true)
        : root !== null && typeof root === 'object' && root.type === 'variable'
          ? compileVariable(root, true)
          : compileNode(root, 0);
  } finally {
    compilingSteps = null;
  }
  if (closure === null || depthOf(ast as Node) > maxDepth) return { fast: null, stepViews: false };
  const compiled = closure;
  const fast: FastEvaluator = (document, bindings, views) => {
    // The document is the run's scope; JSONata wraps an array document in a sequence: not the subset.
    if (document === null || typeof document !== 'object' || Array.isArray(document)) return BAIL;
    try {
      return compiled(document as Record<string, unknown>, bindings, views);
    } catch {
      // e.g. a getter that throws: JSONata reports it its own way.
      return BAIL;
    }
  };
  return { fast, stepViews: compilingUsedViews };
}

/**
 * Adds the fast path to a compiled expression: `evaluate` answers from the closure when it can and from
 * JSONata otherwise. The expression is parsed a second time here (once per plan) for its AST. `steps`:
 * the plan's step indexes by key, so that paths starting at a step can read the step views.
 */
export function withFastPath(
  compiled: CompiledExpression,
  maxDepth = DEFAULT_EXPRESSION_LIMITS.maxDepth,
  maxStringLength = DEFAULT_EXPRESSION_LIMITS.maxStringLength,
  steps: ReadonlyMap<string, number> | null = null,
): FastCompiledExpression {
  if (compiled.language === 'javascript') return javascriptFastPath(compiled as JavaScriptExpression);
  const parsed = parseExpression(compiled.source);
  const ast = parsed.ok ? parsed.expression.ast() : null;
  const { fast, stepViews } =
    ast === null ? { fast: null, stepViews: false } : compileFastIn(ast, maxDepth, maxStringLength, steps);
  const usesSteps = ast === null || referencesVariable(ast, 'steps');
  if (fast === null)
    return { ...compiled, evaluate: compiled.evaluate, fast: null, usesSteps, path: null, stepViews: false };
  return {
    source: compiled.source,
    site: compiled.site,
    language: compiled.language,
    usesIndex: compiled.usesIndex,
    fast,
    usesSteps,
    path: namePath(ast),
    stepViews,
    evaluate(document, bindings, options) {
      const value = fast(document, bindings);
      return value === BAIL ? compiled.evaluate(document, bindings, options) : Promise.resolve(value);
    },
  };
}

/**
 * JavaScript's "fast path" is the sandbox on the main thread (quickjs.ts): synchronous when the
 * evaluation fits the inline budget and logs nothing; BAIL otherwise (the asynchronous path decides).
 */
function javascriptFastPath(compiled: JavaScriptExpression): FastCompiledExpression {
  return {
    source: compiled.source,
    site: compiled.site,
    language: compiled.language,
    usesIndex: compiled.usesIndex,
    usesSteps: compiled.usesSteps,
    path: null,
    stepViews: false,
    fast(document, bindings) {
      const value = compiled.trySync(document, bindings);
      return value === NOT_NOW ? BAIL : value;
    },
    evaluate: compiled.evaluate,
  };
}
