/**
 * The program of a sandbox worker (boundary.ts starts it with `new Worker(WORKER_SOURCE, { eval: true })`).
 * It is plain CommonJS in a string rather than a module file so that it runs the same from the sources
 * (tests, tsx) and from a build, with nothing to copy: it loads its packages by the absolute paths the
 * host resolved (`workerData`).
 *
 * A worker evaluates one request at a time:
 * - `jsonata`: JSONata with Weft's functions (the same as `compileUnguarded` in jsonata.ts: `$eval`
 *   disabled, `$pad` bounded) and JSONata's own time/depth/sequence guards; the host terminates the
 *   worker if the deadline passes anyway (a regex or a string operation never reaches a guard).
 * - `javascript`: the QuickJS sandbox, as on the main thread (sandbox-source.ts), with the interrupt at
 *   the deadline.
 * Values cross as JSON text both ways. Replies: `{ id, ok: true, text }` (JSON text of the value, or of
 * the sandbox's tagged result) or `{ id, ok: false, error }`.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const jsonata = require(workerData.jsonata);
// Tests of a slow start only (boundary.test.ts): the host must not charge start-up to a deadline.
for (const until = Date.now() + (workerData.startDelayMs || 0); Date.now() < until; );
const expressions = new Map();

function disabled(name) {
  return () => { throw { code: 'WEFT_DISABLED', message: '$' + name + '() is not available in Weft expressions.' }; };
}

function padFunction(maxString) {
  return (str, width, char) => {
    if (Math.abs(width) > maxString) {
      throw { code: 'U1001', message: '$pad width ' + width + ' exceeds the string limit of ' + maxString + ' characters.' };
    }
    if (str === undefined) return undefined;
    const fill = char === undefined || char.length === 0 ? ' ' : char;
    const padding = Math.max(0, Math.abs(width) - [...str].length);
    if (padding === 0) return str;
    const pad = fill.repeat(Math.ceil(padding / fill.length)).slice(0, padding);
    return width > 0 ? str + pad : pad + str;
  };
}

function jsonataExpression(source, limits) {
  const key = source + '\0' + limits.timeoutMs + '\0' + limits.maxDepth + '\0' + limits.maxSequence + '\0' + limits.maxStringLength;
  let expression = expressions.get(key);
  if (expression !== undefined) {
    expressions.delete(key);
    expressions.set(key, expression);
    return expression;
  }
  expression = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth, sequence: limits.maxSequence });
  expression.assign('eval', disabled('eval'));
  expression.registerFunction('pad', padFunction(limits.maxStringLength), '<s-ns?:s>');
  // Every string built by \`&\` or returned by a function is checked as it is made (its length is known
  // before V8 flattens it), so that doubling a string stops at the limit instead of at the heap's end.
  expression.assign(Symbol.for('jsonata.__evaluate_exit'), (node, _input, _environment, result) => {
    if (typeof result === 'string' && result.length > limits.maxStringLength &&
        ((node.type === 'binary' && node.value === '&') || node.type === 'function' || node.type === 'partial')) {
      throw { code: 'U1001', value: limits.maxStringLength, position: node.position,
        message: 'A string of ' + result.length + ' characters exceeds the limit of ' + limits.maxStringLength + '.' };
    }
  });
  expressions.set(key, expression);
  if (expressions.size > 512) expressions.delete(expressions.keys().next().value);
  return expression;
}

async function evaluateJsonata(request) {
  const { document, bindings } = JSON.parse(request.inputJson);
  let value;
  try {
    value = await jsonataExpression(request.source, request.limits).evaluate(document, bindings);
  } catch (error) {
    const e = error === null || typeof error !== 'object' ? { message: String(error) } : error;
    return {
      ok: false,
      error: {
        kind: 'jsonata',
        name: e instanceof RangeError ? 'RangeError' : undefined,
        code: e.code,
        position: e.position,
        token: e.token === undefined ? undefined : String(e.token),
        value: typeof e.value === 'number' ? e.value : undefined,
        message: typeof e.message === 'string' ? e.message : String(e.message ?? e),
      },
    };
  }
  if (Array.isArray(value) && value.sequence === true) value = Array.from(value);
  if (value === undefined) return { ok: true, text: undefined };
  let text;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return { ok: false, error: { kind: 'not-json', message: String(error && error.message) } };
  }
  if (text === undefined) return { ok: true, text: undefined };
  if (text.length > request.limits.maxResultChars) {
    return { ok: false, error: { kind: 'limit', limit: 'result', value: text.length } };
  }
  return { ok: true, text };
}

let quickjs = null;
function sandbox() {
  quickjs ??= startSandbox();
  return quickjs;
}
async function startSandbox() {
  const core = require(workerData.quickjsCore);
  const variant = require(workerData.quickjsVariant);
  const module = await core.newQuickJSWASMModuleFromVariant(variant.default ?? variant);
  const runtime = module.newRuntime();
  runtime.setMaxStackSize(workerData.stackBytes);
  const state = { deadline: Infinity };
  runtime.setInterruptHandler(() => performance.now() > state.deadline);
  const context = runtime.newContext();
  const made = context.evalCode(workerData.prelude, 'prelude.js');
  if (made.error !== undefined) throw new Error('The JavaScript sandbox failed to start in a worker.');
  // Tests of a slow sandbox load only (boundary.test.ts): loading it is start-up, not the expression's.
  for (const until = Date.now() + (workerData.sandboxDelayMs || 0); Date.now() < until; );
  parentPort.postMessage({ ready: 'javascript' });
  return { runtime, context, run: made.value, functions: new Map(), state };
}

function thrown(q, handle) {
  const dumped = q.context.dump(handle);
  handle.dispose();
  const name = dumped && typeof dumped.name === 'string' ? dumped.name : 'Error';
  const message = dumped && typeof dumped.message === 'string' ? dumped.message : String(dumped);
  if (name === 'InternalError' && /interrupted/.test(message)) return { ok: false, error: { kind: 'limit', limit: 'time' } };
  if (name === 'InternalError' && /out of memory/.test(message)) return { ok: false, error: { kind: 'limit', limit: 'memory' } };
  if (/stack overflow/i.test(message)) return { ok: false, error: { kind: 'limit', limit: 'depth' } };
  if (name === 'InternalError' && /string too long/i.test(message)) return { ok: false, error: { kind: 'limit', limit: 'string' } };
  return { ok: false, error: { kind: 'thrown', dumped } };
}

async function evaluateJavaScript(request) {
  const q = await sandbox();
  q.runtime.setMemoryLimit(request.maxMemoryBytes);
  q.state.deadline = performance.now() + request.timeoutMs;
  try {
    let fn = q.functions.get(request.text);
    if (fn === undefined) {
      const compiled = q.context.evalCode(request.text, 'code.js');
      if (compiled.error !== undefined) return thrown(q, compiled.error);
      fn = compiled.value;
      q.functions.set(request.text, fn);
      if (q.functions.size > workerData.maxFunctions) {
        const oldest = q.functions.keys().next().value;
        q.functions.get(oldest).dispose();
        q.functions.delete(oldest);
      }
    }
    const args = q.context.newString(request.argsJson);
    const result = q.context.callFunction(q.run, q.context.undefined, fn, args);
    args.dispose();
    if (result.error !== undefined) return thrown(q, result.error);
    const text = q.context.getString(result.value);
    result.value.dispose();
    return { ok: true, text };
  } finally {
    q.state.deadline = Infinity;
  }
}

parentPort.on('message', async (request) => {
  // A warm-up: load the JavaScript sandbox before the first evaluation needs it (no reply).
  if (request.warm === 'javascript') {
    sandbox().catch(() => {});
    return;
  }
  let reply;
  try {
    reply = request.language === 'jsonata' ? await evaluateJsonata(request) : await evaluateJavaScript(request);
  } catch (error) {
    // A host-side failure inside the WebAssembly call (e.g. the stack ran out): this worker's sandbox is
    // in an unknown state, so it reports and exits; the pool starts a fresh one.
    const message = String((error && error.message) || error);
    parentPort.postMessage({ id: request.id, ok: false, error: /call stack/i.test(message) ? { kind: 'limit', limit: 'depth' } : { kind: 'internal', message } });
    process.exit(1);
  }
  reply.id = request.id;
  parentPort.postMessage(reply);
});
// The host starts an evaluation's deadline once the worker can evaluate (boundary.ts).
parentPort.postMessage({ ready: 'jsonata' });
`;
