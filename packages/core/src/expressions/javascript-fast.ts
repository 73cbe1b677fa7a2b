/**
 * A fast path for the simplest JavaScript bodies, like compile/fast-expression.ts is for JSONata: a body
 * that is exactly `return <expression>;` over member reads (`A.output.n`, `steps["k"]`, `?.`), literals,
 * comparisons, arithmetic, `&&` `||` `??` `!`, `? :`, and object and array literals, is turned into a
 * synchronous closure once per plan. It costs no sandbox call, and is provably cheap: its work is bounded
 * by the expression's size (no loops, no calls).
 *
 * The closure reproduces what the sandbox would return for the values it accepts — the sandbox reads
 * JSON copies, so every value it touches must be plain JSON data (finite numbers, plain objects and
 * arrays) — and gives up (BAIL) on anything else: a value that is not plain data, mixed-type operators,
 * a read through null (the sandbox's TypeError is the error to report), a non-finite result, a result
 * that is an object or array taken from the input (the sandbox returns a copy), a result over
 * `maxResultChars`. The caller then evaluates in the sandbox, which answers as it always does.
 * javascript-fast.test.ts checks the closure against the sandbox on generated expressions and data.
 */
import type * as acorn from 'acorn';

/** Returned when the closure cannot decide: evaluate in the sandbox. */
export const JS_BAIL: unique symbol = Symbol('weft.javascript-fast.bail');

type Values = Readonly<Record<string, unknown>>;
type Closure = (values: Values) => unknown;
type Node = acorn.Node & Record<string, any>;

/** Deeper expressions are left to the sandbox. */
const MAX_HEIGHT = 32;
const hasOwn = Object.prototype.hasOwnProperty;

/** A value the sandbox would see unchanged through JSON: primitives, plain objects and arrays. */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return Array.isArray(v) ? proto === Array.prototype : proto === Object.prototype || proto === null;
}

/** Whether `v` is a value the closure may carry (BAIL otherwise). */
function carried(v: unknown): boolean {
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
    case 'string':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      return v === null || isPlainObject(v);
    default:
      return false;
  }
}

function truthy(v: unknown): boolean {
  // Objects (plain ones only reach here) are truthy, as every primitive rule is JavaScript's.
  return typeof v === 'object' ? v !== null : Boolean(v);
}

/** Property read with JavaScript's semantics on plain data; BAIL where the sandbox would differ or throw. */
function read(target: unknown, key: string | number, optional: boolean): unknown {
  if (target === null || target === undefined) return optional ? undefined : JS_BAIL;
  if (typeof target === 'string') return key === 'length' ? target.length : JS_BAIL;
  if (typeof target !== 'object') return JS_BAIL;
  if (Array.isArray(target)) {
    if (key === 'length') return target.length;
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0) return JS_BAIL;
    if (key >= target.length) return undefined;
    const v = target[key];
    // An undefined element (a hole) crosses JSON as null.
    return v === undefined || !carried(v) ? JS_BAIL : v;
  }
  const name = String(key);
  if (!hasOwn.call(target, name)) {
    // Inherited names (`constructor`, `toString`, `__proto__`…) are the sandbox's to answer.
    return name in Object.prototype ? JS_BAIL : undefined;
  }
  const v = (target as Record<string, unknown>)[name];
  return carried(v) ? v : JS_BAIL;
}

interface Compiled {
  run: Closure;
  /**
   * True when every object the node can yield is built by the expression itself (an object or array
   * literal), never one read from the input: only those may be returned, or put into a literal.
   */
  fresh: boolean;
}

function compileNode(node: Node, params: ReadonlySet<string>, height: number): Compiled | null {
  if (height > MAX_HEIGHT || node === null || typeof node !== 'object') return null;
  const sub = (n: Node) => compileNode(n, params, height + 1);
  switch (node.type) {
    case 'Literal': {
      const v = node.value;
      if (node.regex !== undefined || node.bigint !== undefined || !carried(v)) return null;
      return { run: () => v, fresh: true };
    }
    case 'Identifier': {
      const name = node.name as string;
      if (name === 'undefined') return { run: () => undefined, fresh: true };
      if (!params.has(name)) return null;
      return {
        run: (values) => {
          const v = values[name];
          return carried(v) ? v : JS_BAIL;
        },
        fresh: false,
      };
    }
    case 'ChainExpression':
      return sub(node.expression);
    case 'MemberExpression': {
      const object = sub(node.object);
      if (object === null) return null;
      let key: string | number;
      if (!node.computed && node.property.type === 'Identifier') key = node.property.name;
      else if (
        node.computed &&
        node.property.type === 'Literal' &&
        (typeof node.property.value === 'string' || typeof node.property.value === 'number')
      )
        key = node.property.value;
      else return null;
      const optional = node.optional === true;
      return {
        run: (values) => {
          const target = object.run(values);
          return target === JS_BAIL ? JS_BAIL : read(target, key, optional);
        },
        fresh: false,
      };
    }
    case 'UnaryExpression': {
      const arg = sub(node.argument);
      if (arg === null) return null;
      if (node.operator === '!') {
        return {
          run: (values) => {
            const v = arg.run(values);
            return v === JS_BAIL ? JS_BAIL : !truthy(v);
          },
          fresh: true,
        };
      }
      if (node.operator === '-') {
        return {
          run: (values) => {
            const v = arg.run(values);
            return typeof v === 'number' ? -v : JS_BAIL;
          },
          fresh: true,
        };
      }
      return null;
    }
    case 'BinaryExpression':
      return binary(node, sub);
    case 'LogicalExpression': {
      const left = sub(node.left);
      const right = sub(node.right);
      if (left === null || right === null) return null;
      const op = node.operator as string;
      return {
        run: (values) => {
          const l = left.run(values);
          if (l === JS_BAIL) return JS_BAIL;
          const takeLeft = op === '&&' ? !truthy(l) : op === '||' ? truthy(l) : l !== null && l !== undefined;
          return takeLeft ? l : right.run(values);
        },
        fresh: left.fresh && right.fresh,
      };
    }
    case 'ConditionalExpression': {
      const test = sub(node.test);
      const then = sub(node.consequent);
      const otherwise = sub(node.alternate);
      if (test === null || then === null || otherwise === null) return null;
      return {
        run: (values) => {
          const c = test.run(values);
          if (c === JS_BAIL) return JS_BAIL;
          return truthy(c) ? then.run(values) : otherwise.run(values);
        },
        fresh: then.fresh && otherwise.fresh,
      };
    }
    case 'ObjectExpression': {
      const keys: string[] = [];
      const parts: Compiled[] = [];
      for (const p of node.properties as Node[]) {
        if (p.type !== 'Property' || p.kind !== 'init' || p.method || p.computed) return null;
        const key =
          p.key.type === 'Identifier' ? p.key.name : typeof p.key.value === 'string' ? p.key.value : null;
        if (key === null || key === '__proto__' || keys.includes(key)) return null;
        const value = sub(p.value);
        if (value === null) return null;
        keys.push(key);
        parts.push(value);
      }
      return {
        run: (values) => {
          const out: Record<string, unknown> = {};
          for (let i = 0; i < keys.length; i++) {
            const part = parts[i]!;
            const v = part.run(values);
            if (v === JS_BAIL || (!part.fresh && typeof v === 'object' && v !== null)) return JS_BAIL;
            // An undefined property is dropped on the way out, as JSON drops it.
            if (v !== undefined) out[keys[i]!] = v;
          }
          return out;
        },
        fresh: true,
      };
    }
    case 'ArrayExpression': {
      const parts: Compiled[] = [];
      for (const e of node.elements as Array<Node | null>) {
        if (e === null || e.type === 'SpreadElement') return null;
        const value = sub(e);
        if (value === null) return null;
        parts.push(value);
      }
      return {
        run: (values) => {
          const out = new Array<unknown>(parts.length);
          for (let i = 0; i < parts.length; i++) {
            const part = parts[i]!;
            const v = part.run(values);
            // undefined in an array crosses JSON as null: the sandbox's answer.
            if (v === JS_BAIL || v === undefined) return JS_BAIL;
            if (!part.fresh && typeof v === 'object' && v !== null) return JS_BAIL;
            out[i] = v;
          }
          return out;
        },
        fresh: true,
      };
    }
    default:
      return null;
  }
}

function binary(node: Node, sub: (n: Node) => Compiled | null): Compiled | null {
  const left = sub(node.left);
  const right = sub(node.right);
  if (left === null || right === null) return null;
  const op = node.operator as string;
  const both = (values: Values): [unknown, unknown] | null => {
    const l = left.run(values);
    if (l === JS_BAIL) return null;
    const r = right.run(values);
    if (r === JS_BAIL) return null;
    return [l, r];
  };
  const fresh = true;
  switch (op) {
    case '===':
    case '!==':
      return {
        run: (values) => {
          const pair = both(values);
          if (pair === null) return JS_BAIL;
          const [l, r] = pair;
          // Objects compare by identity, and the sandbox compares copies: leave them to it.
          if ((typeof l === 'object' && l !== null) || (typeof r === 'object' && r !== null)) return JS_BAIL;
          return op === '===' ? l === r : l !== r;
        },
        fresh,
      };
    case '<':
    case '<=':
    case '>':
    case '>=':
      return {
        run: (values) => {
          const pair = both(values);
          if (pair === null) return JS_BAIL;
          const [l, r] = pair;
          if (
            !(
              (typeof l === 'number' && typeof r === 'number') ||
              (typeof l === 'string' && typeof r === 'string')
            )
          )
            return JS_BAIL;
          return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
        },
        fresh,
      };
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return {
        run: (values) => {
          const pair = both(values);
          if (pair === null) return JS_BAIL;
          const [l, r] = pair;
          if (op === '+' && typeof l === 'string' && typeof r === 'string') return l + r;
          if (typeof l !== 'number' || typeof r !== 'number') return JS_BAIL;
          const out =
            op === '+' ? l + r : op === '-' ? l - r : op === '*' ? l * r : op === '/' ? l / r : l % r;
          // NaN and ±Infinity leave the sandbox as null (JSON): let it say so.
          return Number.isFinite(out) ? out : JS_BAIL;
        },
        fresh,
      };
    default:
      return null;
  }
}

/**
 * The closure for a parsed body, or null when it is not `return <expression in the subset>;`. Its
 * answer is the sandbox's, or JS_BAIL.
 */
export function compileJavaScriptFast(
  program: acorn.Program,
  params: readonly string[],
  maxResultChars: number,
): ((values: Values) => unknown) | null {
  if (program.body.length !== 1) return null;
  const statement = program.body[0] as Node;
  if (statement.type !== 'ReturnStatement') return null;
  if (statement.argument === null) return () => undefined;
  const compiled = compileNode(statement.argument as Node, new Set(params), 0);
  if (compiled === null) return null;
  const { run, fresh } = compiled;
  return (values) => {
    let v: unknown;
    try {
      v = run(values);
    } catch {
      // e.g. a getter that throws: the sandbox (which reads a JSON copy) answers its own way.
      return JS_BAIL;
    }
    if (v === JS_BAIL) return JS_BAIL;
    if (v === undefined) return undefined;
    // An object read from the input would leave the sandbox as a copy: only literals built here pass.
    if (!fresh && typeof v === 'object' && v !== null) return JS_BAIL;
    // The sandbox's size check, exactly: its answer is the JSON `["v",<value>,[]]` (sandbox-source.ts).
    const text = JSON.stringify(v);
    if (text.length + 9 > maxResultChars) return JS_BAIL;
    // What the sandbox hands back is parsed JSON: the same for an object built here (and -0 is 0).
    return typeof v === 'object' ? JSON.parse(text) : v === 0 ? 0 : v;
  };
}
