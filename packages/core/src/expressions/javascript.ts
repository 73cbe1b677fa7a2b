/**
 * JavaScript expressions, the platform's way: every `code`, `conditional`, `loop`, branch condition and
 * test expectation of a JavaScript document is a function BODY that `return`s its value, with the run
 * bound to names (`input`, each step key, `steps`, `vars`, `run`, `item`, `index`, `console`).
 *
 * Parsing (syntax errors with line and column, the names a body reads) is acorn's, synchronous, so the
 * validator needs nothing loaded. Evaluation is QuickJS's (quickjs.ts): first on the main thread for a
 * few ms, then — when it needs longer — in a sandbox worker with the rest of its deadline (boundary.ts).
 * Values cross as JSON (docs/semantics.md, "JavaScript").
 */
import * as acorn from 'acorn';
import { ERROR_CODES, WeftError } from '../errors.js';
import { limitOf, notJson, sandboxPool, startFailure, where } from './boundary.js';
import { compileJavaScriptFast, JS_BAIL } from './javascript-fast.js';
import type {
  CompiledExpression,
  EvaluateOptions,
  ExpressionBindings,
  ExpressionLimits,
  ExpressionSite,
} from './jsonata.js';
import { LIMIT_KINDS, truncate } from './limit.js';
import { callInline, loadQuickJS, quickjsLoaded, type SandboxOutcome } from './quickjs.js';
import {
  decodeSandboxValue,
  functionText,
  type LogLine,
  limitOfThrown,
  thrownError,
} from './sandbox-source.js';

/** The names every step expression may read besides the step keys (docs/semantics.md, rule 7). */
export const JS_BINDINGS = ['input', 'steps', 'vars', 'run', 'item', 'index'] as const;

/** Returned by `trySync` when only the asynchronous path can answer. */
export const NOT_NOW: unique symbol = Symbol('weft.javascript.not-now');

export interface JavaScriptSyntaxError {
  message: string;
  /** 0-based character offset in the body. */
  position: number;
  /** 1-based line and column in the body. */
  line: number;
  column: number;
}

export type JavaScriptParse =
  | {
      ok: true;
      /** Every identifier the body mentions (an over-approximation of what it reads). */
      identifiers: ReadonlySet<string>;
      /** Whether the body has a `return` of its own (outside nested functions). */
      returns: boolean;
      program: acorn.Program;
    }
  | { ok: false; error: JavaScriptSyntaxError };

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false ' +
    'finally for function if import in instanceof new null return super switch this throw true try ' +
    'typeof var void while with yield let static implements interface package private protected public ' +
    'await arguments eval undefined NaN Infinity console globalThis'
  ).split(' '),
);

/** Whether a step key can be a JavaScript variable (otherwise it is reachable as `steps[KEY]` only). */
export function isBindableName(name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name) && !RESERVED.has(name);
}

/** Parses a function body (never throws, never evaluates). */
export function parseJavaScript(source: string): JavaScriptParse {
  let program: acorn.Program;
  try {
    program = acorn.parse(source, {
      ecmaVersion: 2023,
      sourceType: 'script',
      allowReturnOutsideFunction: true,
      locations: true,
    });
  } catch (error) {
    const e = error as { message?: string; pos?: number; loc?: { line: number; column: number } };
    // acorn appends " (line:column)" to its messages; Weft reports the position itself.
    const message = String(e.message ?? error).replace(/\s*\(\d+:\d+\)$/, '');
    return {
      ok: false,
      error: {
        message: /call stack/i.test(message) ? 'The code is nested too deeply to parse.' : message,
        position: e.pos ?? 0,
        line: e.loc?.line ?? 1,
        column: (e.loc?.column ?? 0) + 1,
      },
    };
  }
  const identifiers = new Set<string>();
  let returns = false;
  let forbidden: { message: string; node: acorn.Node } | null = null;
  // Iterative walk (bodies can be deep); `inFunction` tells a body's own return from a nested one's.
  const stack: Array<[unknown, boolean]> = [[program, false]];
  while (stack.length > 0) {
    const [node, inFunction] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node) stack.push([child, inFunction]);
      continue;
    }
    const n = node as acorn.Node & { name?: string };
    switch (n.type) {
      case 'Identifier':
        identifiers.add(n.name!);
        break;
      case 'ReturnStatement':
        if (!inFunction) returns = true;
        break;
      case 'ImportExpression':
        forbidden ??= { message: '`import()` is not available: the sandbox has no modules.', node: n };
        break;
    }
    const nested =
      inFunction ||
      n.type === 'FunctionDeclaration' ||
      n.type === 'FunctionExpression' ||
      n.type === 'ArrowFunctionExpression';
    for (const [key, child] of Object.entries(n)) {
      if (key !== 'loc' && child !== null && typeof child === 'object') stack.push([child, nested]);
    }
  }
  if (forbidden !== null) {
    const loc = (forbidden.node as acorn.Node & { loc?: acorn.SourceLocation }).loc;
    return {
      ok: false,
      error: {
        message: forbidden.message,
        position: forbidden.node.start,
        line: loc?.start.line ?? 1,
        column: (loc?.start.column ?? 0) + 1,
      },
    };
  }
  return { ok: true, identifiers, returns, program };
}

/** A function body compiled for the sandbox: the names it reads, and how to call it. */
export interface JavaScriptFunction {
  readonly source: string;
  readonly site: ExpressionSite;
  /** The names the body reads, in parameter order (a subset of the candidates it was compiled with). */
  readonly params: readonly string[];
  /** Evaluates with `values[name]` bound to each parameter; every failure is a coded WeftError. */
  call(values: Readonly<Record<string, unknown>>, options?: EvaluateOptions): Promise<unknown>;
  /**
   * The same evaluation, synchronously on the main thread, when it finishes within the inline budget
   * and logs nothing; otherwise NOT_NOW (a failure too: the asynchronous path reports it).
   */
  trySync(values: Readonly<Record<string, unknown>>): unknown;
}

/**
 * Compiles a function body for the names `candidates`. Throws an EXPRESSION_ERROR WeftError (with line
 * and column) when it does not parse; the validator reports these before anything runs.
 */
export function compileJavaScript(
  source: string,
  site: ExpressionSite,
  candidates: readonly string[] | ((name: string) => boolean),
  limits: ExpressionLimits,
): JavaScriptFunction {
  const parsed = parseJavaScript(source);
  if (!parsed.ok) {
    const { message, line, column, position } = parsed.error;
    throw new WeftError(
      ERROR_CODES.EXPRESSION_ERROR,
      `The JavaScript in ${where(site)} has a syntax error at line ${line}, column ${column}: ${message} ` +
        `(code: ${truncate(source, 120)}).`,
      {
        ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
        details: { field: site.field, expression: truncate(source, 500), line, column, position },
        retryable: false,
      },
    );
  }
  // `arguments` and direct `eval` can read every parameter: bind them all then.
  const all = parsed.identifiers.has('arguments') || parsed.identifiers.has('eval');
  // From the names the body mentions (few), not the candidates (every step key of the document). A step
  // key is bound when the body names it: code that reaches one only through `eval('KEY')` finds nothing.
  const params =
    typeof candidates === 'function'
      ? [...parsed.identifiers].filter(candidates).sort()
      : candidates.filter((name) => all || parsed.identifiers.has(name));
  const text = functionText(params, source);
  const usesConsole = all || parsed.identifiers.has('console');
  // `return <simple expression>;` answers without the sandbox (javascript-fast.ts).
  const fast = compileJavaScriptFast(parsed.program, params, limits.maxResultChars);
  void loadQuickJS();

  const encode = (values: Readonly<Record<string, unknown>>): string => {
    const undefs: number[] = [];
    const args: unknown[] = [
      [limits.maxLogEntries, limits.maxLogChars, limits.maxResultChars, undefs, usesConsole ? 1 : 0],
    ];
    for (let i = 0; i < params.length; i++) {
      const v = values[params[i]!];
      if (v === undefined) undefs.push(i);
      args.push(v);
    }
    try {
      return JSON.stringify(args);
    } catch (error) {
      throw notJson(site, source, 'the data it reads', error);
    }
  };

  const settle = (outcome: SandboxOutcome, options: EvaluateOptions): unknown => {
    switch (outcome.kind) {
      case 'value':
      case 'undefined':
      case 'not-json':
      case 'too-large':
      case 'threw':
        for (const [level, message] of outcome.logs) options.log?.(level, message);
        if (outcome.kind === 'value') return outcome.value;
        if (outcome.kind === 'undefined') return undefined;
        if (outcome.kind === 'not-json') throw notJson(site, source, 'its value', outcome.message);
        if (outcome.kind === 'threw') {
          // The sandbox's own limits are catchable in QuickJS, so they can arrive as a throw: still limits.
          const kind = limitOfThrown(outcome.error);
          if (kind !== undefined) throw limitOf(kind, site, source, limits);
          throw thrownFailure(site, source, outcome.error);
        }
        throw limitOf(LIMIT_KINDS.RESULT, site, source, limits, outcome.length);
      case 'thrown':
        throw thrownFailure(site, source, outcome.error);
      case 'limit':
        throw limitOf(outcome.limit, site, source, limits);
      default:
        throw new WeftError(
          ERROR_CODES.INTERNAL,
          `Unexpected sandbox outcome ${(outcome as { kind: string }).kind}.`,
        );
    }
  };

  return {
    source,
    site,
    params,
    async call(values, options = {}) {
      const signal = options.signal;
      if (signal?.aborted) throw signal.reason;
      if (fast !== null) {
        const value = fast(values);
        if (value !== JS_BAIL) return value;
      }
      const argsJson = encode(values);
      const call = { text, argsJson, maxMemoryBytes: limits.maxMemoryBytes };
      const started = performance.now();
      if (!quickjsLoaded()) await loadQuickJS();
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        const budget = Math.min(limits.inlineBudgetMs, limits.timeoutMs);
        const outcome = callInline(call, budget);
        if (outcome.kind === 'yield') {
          // This turn of the event loop has had its share of main-thread time: let timers run first.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        if (outcome.kind !== 'budget') return settle(outcome, options);
        break;
      }
      // Needs longer than the main thread may give: re-run in a worker with the rest of the deadline.
      const remaining = Math.max(1, limits.timeoutMs - (performance.now() - started));
      const reply = await sandboxPool(limits).run(
        {
          language: 'javascript',
          text,
          argsJson,
          maxMemoryBytes: limits.maxMemoryBytes,
          timeoutMs: remaining,
        },
        remaining,
        signal,
      );
      if (reply.ok) return settle(decodeSandboxValue(reply.text!), options);
      const error = reply.error;
      switch (error.kind) {
        case 'limit':
          throw limitOf(error.limit, site, source, limits, error.value);
        case 'thrown':
          throw thrownFailure(site, source, thrownError(error.dumped));
        case 'start':
          throw startFailure(site, source, error.timeoutMs);
        default:
          throw new WeftError(
            ERROR_CODES.EXPRESSION_ERROR,
            `The JavaScript in ${where(site)} could not be evaluated: the sandbox failed (${error.message}).`,
            {
              ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
              details: { field: site.field, expression: truncate(source, 500) },
              retryable: false,
            },
          );
      }
    },
    trySync(values) {
      if (fast !== null) {
        const value = fast(values);
        if (value !== JS_BAIL) return value;
      }
      if (!quickjsLoaded()) return NOT_NOW;
      let argsJson: string;
      try {
        argsJson = encode(values);
      } catch {
        return NOT_NOW;
      }
      const outcome = callInline(
        { text, argsJson, maxMemoryBytes: limits.maxMemoryBytes },
        Math.min(limits.inlineBudgetMs, limits.timeoutMs),
      );
      if (outcome.kind === 'value' && outcome.logs.length === 0) return outcome.value;
      if (outcome.kind === 'undefined' && outcome.logs.length === 0) return undefined;
      return NOT_NOW;
    },
  };
}

/** The EXPRESSION_ERROR for what the user's code threw, with the line and column when known. */
function thrownFailure(
  site: ExpressionSite,
  source: string,
  error: ReturnType<typeof thrownError>,
): WeftError {
  const at =
    error.line === undefined
      ? ''
      : ` at line ${error.line}${error.column === undefined ? '' : `, column ${error.column}`}`;
  const details: Record<string, unknown> = {
    field: site.field,
    expression: truncate(source, 500),
    error: error.name,
  };
  if (error.line !== undefined) details.line = error.line;
  if (error.column !== undefined) details.column = error.column;
  const hint = /of (null|undefined)|is (null|undefined)|not an object/i.test(error.message)
    ? ' A step that was skipped has `output: null`: guard the access, e.g. `STEP.output?.field`.'
    : / is not defined/.test(error.message)
      ? ' JavaScript expressions see `input`, `steps`, `vars`, `run`, `item`, `index`, `console` and the step keys; there is no `require`, `process` or network.'
      : '';
  return new WeftError(
    ERROR_CODES.EXPRESSION_ERROR,
    `The JavaScript in ${where(site)} threw${at}: ${error.name}: ${error.message} (code: ${truncate(source, 120)}).${hint}`,
    {
      ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
      details,
      retryable: false,
    },
  );
}

/**
 * A JavaScript step expression (code, conditional, loop, branch condition) as a CompiledExpression:
 * its names are the bindings and the step keys that can be variables; `document` is the run's scope.
 */
export interface JavaScriptExpression extends CompiledExpression {
  readonly fn: JavaScriptFunction;
  /** Whether it reads `steps` (the run must keep the `steps` map). */
  readonly usesSteps: boolean;
  trySync(document: unknown, bindings: ExpressionBindings): unknown;
}

export function compileJavaScriptExpression(
  source: string,
  site: ExpressionSite,
  limits: ExpressionLimits,
  stepKeys: ReadonlySet<string>,
): JavaScriptExpression {
  const names = new Set<string>(JS_BINDINGS);
  // The bindings, and the step keys that can be variables (the run input keeps the name `input`).
  const fn = compileJavaScript(
    source,
    site,
    (name) => names.has(name) || (stepKeys.has(name) && isBindableName(name)),
    limits,
  );
  const valuesOf = (document: unknown, bindings: ExpressionBindings): Record<string, unknown> => {
    const values: Record<string, unknown> = {};
    const scope = (document ?? {}) as Record<string, unknown>;
    for (const p of fn.params) {
      if (names.has(p)) values[p] = bindings[p as keyof ExpressionBindings];
      else values[p] = Object.hasOwn(scope, p) ? scope[p] : undefined;
    }
    return values;
  };
  return {
    source,
    site,
    language: 'javascript',
    // The platform's loops are item-form only: the expression returns element `index`, or ends the loop.
    usesIndex: true,
    fn,
    usesSteps: fn.params.includes('steps'),
    evaluate: (document, bindings, options) => fn.call(valuesOf(document, bindings), options),
    trySync: (document, bindings) => fn.trySync(valuesOf(document, bindings)),
  };
}

export type { LogLine };
