/**
 * The JavaScript that runs inside the QuickJS sandbox, shared by the main thread (quickjs.ts) and the
 * sandbox workers (worker-source.ts), so that an evaluation gives the same value wherever it ran.
 *
 * - PRELUDE runs once per sandbox context: it freezes every object reachable from `globalThis` (so one
 *   evaluation can leave nothing behind for the next — another run, another tenant) and returns `run`,
 *   the entry point the host calls with a compiled user function and ONE string.
 * - The entry point takes the function and ONE string — the JSON of `[[maxLogs, maxLogChars, maxResultChars,
 *   undefs, console], ...args]`, `undefs` listing the arguments that are `undefined` (JSON has no
 *   undefined), `console` whether the body names `console` —
 *   and returns ONE string — the JSON of `[tag, value, logs]` — so a call costs one string each way:
 *   tag `v` a value, `u` undefined (or a function / symbol), `j` a value that is not JSON (a cycle, a
 *   BigInt: `value` is the message), `L` a value over `maxResultChars` (`value` is its length), `t` what
 *   the code threw (`value` is `{ name, message, stack }`: the logs before the throw are kept).
 */

export const PRELUDE = `(function () {
  'use strict';
  var stringify = JSON.stringify, parse = JSON.parse, apply = Reflect.apply, S = String;
  var freeze = Object.freeze, ownKeys = Reflect.ownKeys, describe = Reflect.getOwnPropertyDescriptor;
  var protoOf = Reflect.getPrototypeOf;
  var seen = new Set(), stack = [globalThis];
  while (stack.length > 0) {
    var o = stack.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    var keys = ownKeys(o);
    for (var i = 0; i < keys.length; i++) {
      var d = describe(o, keys[i]);
      if (d === undefined) continue;
      if ('value' in d) stack.push(d.value);
      else { if (d.get) stack.push(d.get); if (d.set) stack.push(d.set); }
    }
    stack.push(protoOf(o));
  }
  seen.forEach(function (x) { freeze(x); });
  function show(v) {
    if (typeof v === 'string') return v;
    try { var t = stringify(v); return t === undefined ? S(v) : t; } catch (e) { return S(v); }
  }
  return function run(fn, argsJson) {
    {
      var args = parse(argsJson), caps = args.shift();
      var maxLogs = caps[0], maxLogChars = caps[1], maxResult = caps[2], undef = caps[3];
      for (var u = 0; u < undef.length; u++) args[undef[u]] = undefined;
      var logs = [], dropped = 0;
      function writer(level) {
        return function () {
          if (logs.length >= maxLogs) { dropped++; return; }
          var parts = [];
          for (var i = 0; i < arguments.length; i++) parts.push(show(arguments[i]));
          var text = parts.join(' ');
          if (text.length > maxLogChars) text = text.slice(0, maxLogChars) + '…';
          logs.push([level, text]);
        };
      }
      // The console costs five closures: only for bodies that name it.
      args.push(caps[4] ? freeze({ log: writer('info'), info: writer('info'), warn: writer('warn'), error: writer('error'), debug: writer('debug') }) : undefined);
      var value;
      try {
        value = apply(fn, undefined, args);
      } catch (e) {
        // What the code threw, with the lines it logged before (interrupts and out-of-memory are not catchable).
        var thrown = e !== null && typeof e === 'object'
          ? { name: S(e.name), message: S(e.message), stack: S(e.stack) }
          : { name: 'Error', message: show(e), stack: '' };
        return stringify(['t', thrown, logs]);
      }
      if (dropped > 0) logs.push(['warn', dropped + ' more console lines were dropped (limits.expression.maxLogEntries).']);
      var out;
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return stringify(['u', null, logs]);
      try { out = stringify(['v', value, logs]); } catch (e) { return stringify(['j', S(e && e.message), logs]); }
      if (out.length > maxResult) return stringify(['L', out.length, logs]);
      return out;
    }
  };
})()`;

/** Line 1 of the compiled text holds the wrapper; the user's body starts on line 2. */
export const BODY_LINE_OFFSET = 1;

/**
 * The function the user's body becomes. The body runs in an inner arrow function, so that it may declare
 * a name that is also a parameter (a step key) without a redeclaration error; `this` is undefined.
 * The caller has checked that `body` parses on its own (a function body), so it cannot close the wrapper.
 */
export function functionText(params: readonly string[], body: string): string {
  return `(function (${params.join(', ')}${params.length === 0 ? '' : ', '}console) { 'use strict'; return (() => {\n${body}\n})(); })`;
}

export type LogLine = [level: 'debug' | 'info' | 'warn' | 'error', text: string];

/** What one call of an entry point returned, decoded. */
export type SandboxValue =
  | { kind: 'value'; value: unknown; logs: LogLine[] }
  | { kind: 'undefined'; logs: LogLine[] }
  | { kind: 'not-json'; message: string; logs: LogLine[] }
  | { kind: 'too-large'; length: number; logs: LogLine[] }
  | { kind: 'threw'; error: ThrownError; logs: LogLine[] };

export function decodeSandboxValue(text: string): SandboxValue {
  const [tag, value, logs] = JSON.parse(text) as [string, unknown, LogLine[]];
  switch (tag) {
    case 'v':
      return { kind: 'value', value, logs };
    case 'u':
      return { kind: 'undefined', logs };
    case 'j':
      return { kind: 'not-json', message: String(value), logs };
    case 't':
      return { kind: 'threw', error: thrownError(value), logs };
    default:
      return { kind: 'too-large', length: Number(value), logs };
  }
}

/** A JavaScript error as it leaves the sandbox: what the user's code threw, with where. */
export interface ThrownError {
  name: string;
  message: string;
  /** 1-based line and column in the user's body, when the sandbox's stack says. */
  line?: number;
  column?: number;
}

/** Reads the name, message and position (in the user's body) out of a dumped QuickJS error. */
export function thrownError(dumped: unknown): ThrownError {
  if (dumped === null || typeof dumped !== 'object') return { name: 'Error', message: String(dumped) };
  const e = dumped as { name?: unknown; message?: unknown; stack?: unknown };
  const out: ThrownError = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(dumped),
  };
  const stack = typeof e.stack === 'string' ? e.stack : '';
  const at = /code\.js:(\d+)(?::(\d+))?/.exec(stack);
  if (at !== null) {
    const line = Number(at[1]) - BODY_LINE_OFFSET;
    if (line >= 1) {
      out.line = line;
      if (at[2] !== undefined) out.column = Number(at[2]);
    }
  }
  return out;
}

/** The sandbox's own messages for its limits. */
export function isInterrupted(error: ThrownError): boolean {
  return error.name === 'InternalError' && /interrupted/.test(error.message);
}
export function isOutOfMemory(error: ThrownError): boolean {
  return error.name === 'InternalError' && /out of memory/.test(error.message);
}
export function isStackOverflow(error: ThrownError): boolean {
  // JSON.parse reports its own as a SyntaxError.
  return /stack overflow/i.test(error.message) && /^(InternalError|RangeError|SyntaxError)$/.test(error.name);
}
export function isStringTooLong(error: ThrownError): boolean {
  return error.name === 'InternalError' && /string too long/i.test(error.message);
}

/**
 * Which limit a thrown error is, if any. Out-of-memory, "string too long" and stack overflows are
 * catchable in QuickJS, so they may arrive as what the code threw; an interrupt never is.
 */
export function limitOfThrown(error: ThrownError): 'time' | 'memory' | 'depth' | 'string' | undefined {
  if (isInterrupted(error)) return 'time';
  if (isOutOfMemory(error)) return 'memory';
  if (isStackOverflow(error)) return 'depth';
  if (isStringTooLong(error)) return 'string';
  return undefined;
}
