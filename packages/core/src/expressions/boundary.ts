/**
 * The evaluation boundary: where an evaluation that is not provably cheap runs so that it can be
 * stopped. A pool of sandbox workers (worker_threads, `resourceLimits` on each) evaluates JSONata, and
 * JavaScript that outgrew its main-thread budget (quickjs.ts); a worker still busy at its deadline, or
 * whose evaluation is aborted (a step's `timeout_ms`, `cancel()`), is terminated — whatever it was doing,
 * a catastrophic regex included — and replaced on demand. The host's event loop only waits.
 *
 * docs/semantics.md ("Expressions under limits") explains the design and its trade-offs.
 */

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, WeftError } from '../errors.js';
import type { EvaluateOptions, ExpressionBindings, ExpressionLimits, ExpressionSite } from './jsonata.js';
import { expressionFailure } from './jsonata.js';
import { LIMIT_KINDS, type LimitKind, limitFailure, truncate } from './limit.js';
import { MAX_CACHED_FUNCTIONS, quickjsModulePaths, SANDBOX_STACK_BYTES } from './quickjs.js';
import { PRELUDE } from './sandbox-source.js';
import { WORKER_SOURCE } from './worker-source.js';

/** Time a worker gets past the deadline to report its own limit before it is terminated. */
const KILL_GRACE_MS = 25;
/**
 * How long a worker may take to start (Node's worker start-up and JSONata) before the evaluation waiting
 * for it fails. Start-up is not the expression's work, so it does
 * not count against the expression's deadline: on a machine busy enough to take seconds to start a
 * thread, a 1 ms expression must not fail with a time limit. This bound only keeps a worker that never
 * starts from holding its evaluation forever.
 */
export const WORKER_START_TIMEOUT_MS = 60_000;
/**
 * Heap a worker gets besides the evaluation's cap, in MB. V8 ends the whole PROCESS, not just the
 * worker, when one allocation does not fit in what is left of a worker's heap (Node lets a worker's GC
 * overrun its limit by 16 MB, then terminates it; a bigger single allocation is fatal), and one V8 string
 * can take up to 1 GB. So a worker's heap has room for the largest possible single allocation: gradual
 * growth past the cap still terminates the worker (EXPRESSION_LIMIT `memory`), and the string cap on
 * everything an expression builds keeps allocations far below that in practice.
 */
const WORKER_HEADROOM_MB = 1152;

export type WorkerRequest =
  | {
      language: 'jsonata';
      source: string;
      /** JSON of `{ document, bindings }`. */
      inputJson: string;
      limits: Pick<
        ExpressionLimits,
        'timeoutMs' | 'maxDepth' | 'maxSequence' | 'maxStringLength' | 'maxResultChars'
      >;
    }
  | { language: 'javascript'; text: string; argsJson: string; maxMemoryBytes: number; timeoutMs: number };

export type WorkerError =
  | { kind: 'limit'; limit: LimitKind; value?: number }
  | { kind: 'jsonata'; name?: string; code?: string; position?: number; token?: string; message: string }
  | { kind: 'thrown'; dumped: unknown }
  | { kind: 'not-json'; message: string }
  | { kind: 'internal'; message: string }
  /** No worker was ready for the request within the start bound (WORKER_START_TIMEOUT_MS). */
  | { kind: 'start'; timeoutMs: number };

export type WorkerReply = { ok: true; text: string | undefined } | { ok: false; error: WorkerError };

interface Task {
  request: WorkerRequest & { id: number };
  timeoutMs: number;
  /** When a worker took it (performance.now()): the start bound counts from here. */
  dispatchedAt: number;
  /** The deadline passed before the worker had even started: it runs again, in full, once it has. */
  waitingForStart: boolean;
  signal: AbortSignal | undefined;
  resolve: (reply: WorkerReply) => void;
  reject: (reason: unknown) => void;
  onAbort: (() => void) | null;
  slot: Slot | null;
  timer: ReturnType<typeof setTimeout> | null;
}

interface Slot {
  worker: Worker;
  task: Task | null;
  /** What the worker has reported ready: JSONata once it started, JavaScript once the sandbox loaded. */
  jsonata: boolean;
  javascript: boolean;
}

/** A worker's own messages besides replies (worker-source.ts). */
interface ReadyMessage {
  ready: 'jsonata' | 'javascript';
}

/** Test seams: a slower worker start, a shorter start bound. */
export interface SandboxPoolOptions {
  startTimeoutMs?: number;
  /** Milliseconds the worker busy-waits before it reports ready (tests of a slow start only). */
  startDelayMs?: number;
  /** Milliseconds the worker busy-waits while it loads its JavaScript sandbox (tests only). */
  sandboxDelayMs?: number;
}

let nextId = 1;

/** A fixed-size pool of sandbox workers, started on demand, each evaluating one request at a time. */
export class SandboxPool {
  readonly #size: number;
  readonly #memoryMb: number;
  readonly #slots = new Set<Slot>();
  readonly #idle: Slot[] = [];
  readonly #queue: Task[] = [];
  /** Once JavaScript has been compiled, every new worker loads the sandbox when it starts. */
  #javascriptWarm = false;

  readonly #startTimeoutMs: number;
  readonly #startDelayMs: number;
  readonly #sandboxDelayMs: number;

  constructor(size: number, maxMemoryBytes: number, options: SandboxPoolOptions = {}) {
    this.#size = size;
    this.#memoryMb = Math.ceil(maxMemoryBytes / 1024 / 1024);
    this.#startTimeoutMs = options.startTimeoutMs ?? WORKER_START_TIMEOUT_MS;
    this.#startDelayMs = options.startDelayMs ?? 0;
    this.#sandboxDelayMs = options.sandboxDelayMs ?? 0;
  }

  /** Terminates every worker (an evaluation under way settles as lost); new ones start on demand. */
  async close(): Promise<void> {
    await Promise.all([...this.#slots].map((slot) => slot.worker.terminate()));
  }

  /** Workers alive now (for tests). */
  get workers(): number {
    return this.#slots.size;
  }

  /**
   * Starts a worker ahead of the first evaluation (Node's start-up and JSONata: tens of ms), and for
   * JavaScript has it load the sandbox too (QuickJS: ~50–150 ms), so that a first evaluation that needs
   * a worker does not spend its deadline waiting for one.
   */
  warm(language: 'jsonata' | 'javascript' = 'jsonata'): void {
    if (this.#slots.size === 0) this.#idle.push(this.#spawn());
    if (language === 'javascript' && !this.#javascriptWarm) {
      this.#javascriptWarm = true;
      for (const slot of this.#slots) slot.worker.postMessage({ warm: 'javascript' });
    }
  }

  /**
   * Evaluates `request` in a worker. Resolves with the worker's reply — a `time` limit when it was still
   * busy `timeoutMs` (+ a short grace) after it started — and rejects with `signal.reason` when the
   * signal aborts first. The deadline counts from when a worker takes the request; if that worker has
   * not even started by then, the expression never ran and gets its full deadline once it has (#deadline).
   */
  run(request: WorkerRequest, timeoutMs: number, signal?: AbortSignal): Promise<WorkerReply> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<WorkerReply>((resolve, reject) => {
      const task: Task = {
        request: { ...request, id: nextId++ },
        timeoutMs,
        dispatchedAt: 0,
        waitingForStart: false,
        signal,
        resolve,
        reject,
        onAbort: null,
        slot: null,
        timer: null,
      };
      if (signal !== undefined) {
        task.onAbort = () => this.#abort(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#idle.pop();
      if (slot === undefined) {
        if (this.#slots.size >= this.#size) return;
        slot = this.#spawn();
      }
      const task = this.#queue.shift()!;
      slot.task = task;
      task.slot = slot;
      slot.worker.ref();
      task.dispatchedAt = performance.now();
      const taken = slot;
      task.timer = setTimeout(() => this.#deadline(taken, task), task.timeoutMs + KILL_GRACE_MS);
      slot.worker.postMessage(task.request);
    }
  }

  /**
   * The deadline (plus a grace for the worker to report its own limit) has passed. A worker that has
   * started is terminated: the evaluation took too long. A worker that has not even started (a machine
   * loaded enough to take longer than the deadline to start a thread) never ran the expression: charging
   * it would fail a 1 ms expression with `"time"`, so it gets its full deadline once the worker has
   * started, and the start itself is bounded (WORKER_START_TIMEOUT_MS from when the worker took it).
   */
  #deadline(slot: Slot, task: Task): void {
    // Started means able to evaluate this request's language: JavaScript also needs the worker's QuickJS
    // sandbox loaded (WebAssembly: seconds on a loaded machine), which is start-up too, not the expression.
    if (slot[task.request.language]) {
      this.#kill(slot, { ok: false, error: { kind: 'limit', limit: 'time' } });
      return;
    }
    task.waitingForStart = true;
    const left = Math.max(0, this.#startTimeoutMs - (performance.now() - task.dispatchedAt));
    task.timer = setTimeout(
      () => this.#kill(slot, { ok: false, error: { kind: 'start', timeoutMs: this.#startTimeoutMs } }),
      left,
    );
  }

  #spawn(): Slot {
    const paths = quickjsModulePaths();
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        jsonata: require.resolve('jsonata'),
        quickjsCore: paths.core,
        quickjsVariant: paths.variant,
        prelude: PRELUDE,
        stackBytes: SANDBOX_STACK_BYTES,
        maxFunctions: MAX_CACHED_FUNCTIONS,
        startDelayMs: this.#startDelayMs,
        sandboxDelayMs: this.#sandboxDelayMs,
      },
      resourceLimits: {
        maxOldGenerationSizeMb: this.#memoryMb + WORKER_HEADROOM_MB,
        maxYoungGenerationSizeMb: 16,
        stackSizeMb: 4,
      },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, task: null, jsonata: false, javascript: false };
    if (this.#javascriptWarm) worker.postMessage({ warm: 'javascript' });
    worker.on('message', (reply: (WorkerReply & { id: number }) | ReadyMessage) => {
      const task = slot.task;
      if ('ready' in reply) {
        slot[reply.ready] = true;
        if (task?.waitingForStart && reply.ready === task.request.language) {
          task.waitingForStart = false;
          if (task.timer !== null) clearTimeout(task.timer);
          task.timer = setTimeout(
            () => this.#kill(slot, { ok: false, error: { kind: 'limit', limit: 'time' } }),
            task.timeoutMs + KILL_GRACE_MS,
          );
        }
        return;
      }
      if (task === null || task.request.id !== reply.id) return;
      this.#finish(slot, task);
      task.resolve(reply);
      this.#idle.push(slot);
      this.#dispatch();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      // ERR_WORKER_OUT_OF_MEMORY: the evaluation outgrew the worker's heap.
      const oom = error.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory|heap/i.test(error.message);
      this.#lost(slot, {
        ok: false,
        error: oom ? { kind: 'limit', limit: 'memory' } : { kind: 'internal', message: error.message },
      });
    });
    worker.on('exit', () =>
      this.#lost(slot, { ok: false, error: { kind: 'internal', message: 'The sandbox worker exited.' } }),
    );
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.#slots.add(slot);
    return slot;
  }

  #finish(slot: Slot, task: Task): void {
    slot.task = null;
    task.slot = null;
    if (task.timer !== null) clearTimeout(task.timer);
    if (task.onAbort !== null) task.signal!.removeEventListener('abort', task.onAbort);
    slot.worker.unref();
  }

  /** The worker died or was terminated: settle its task with `reply`, forget it, start the queue on. */
  #lost(slot: Slot, reply: WorkerReply): void {
    if (!this.#slots.delete(slot)) return;
    const idle = this.#idle.indexOf(slot);
    if (idle >= 0) this.#idle.splice(idle, 1);
    const task = slot.task;
    if (task !== null) {
      this.#finish(slot, task);
      task.resolve(reply);
    }
    this.#dispatch();
  }

  #kill(slot: Slot, reply: WorkerReply): void {
    void slot.worker.terminate();
    this.#lost(slot, reply);
  }

  #abort(task: Task): void {
    const reason = task.signal!.reason;
    if (task.slot !== null) {
      const slot = task.slot;
      this.#finish(slot, task);
      void slot.worker.terminate();
      this.#slots.delete(slot);
      this.#dispatch();
    } else {
      const i = this.#queue.indexOf(task);
      if (i >= 0) this.#queue.splice(i, 1);
    }
    task.reject(reason);
  }
}

const pools = new Map<number, SandboxPool>();

/** The process's pool for workers with this memory cap (workers are shared by every engine). */
export function sandboxPool(limits: Pick<ExpressionLimits, 'maxMemoryBytes'>): SandboxPool {
  let pool = pools.get(limits.maxMemoryBytes);
  if (pool === undefined) {
    pool = new SandboxPool(Math.max(2, Math.min(4, availableParallelism())), limits.maxMemoryBytes);
    pools.set(limits.maxMemoryBytes, pool);
  }
  return pool;
}

/** Starts a sandbox worker ahead of the first evaluation that will need one. */
export function warmSandbox(
  limits: Pick<ExpressionLimits, 'maxMemoryBytes'>,
  language: 'jsonata' | 'javascript' = 'jsonata',
): void {
  sandboxPool(limits).warm(language);
}

/** A JSONata evaluation as the worker needs it. */
export interface JsonataWork {
  language: 'jsonata';
  source: string;
  site: ExpressionSite;
  limits: ExpressionLimits;
  document: unknown;
  bindings: ExpressionBindings;
}

/** Evaluates a JSONata expression in a sandbox worker; every failure is a coded WeftError. */
export async function evaluateInWorker(work: JsonataWork, options: EvaluateOptions = {}): Promise<unknown> {
  let inputJson: string;
  try {
    inputJson = JSON.stringify({ document: work.document, bindings: work.bindings });
  } catch (error) {
    throw notJson(work.site, work.source, 'the data it reads', error);
  }
  const { limits } = work;
  const reply = await sandboxPool(limits).run(
    {
      language: 'jsonata',
      source: work.source,
      inputJson,
      limits: {
        timeoutMs: limits.timeoutMs,
        maxDepth: limits.maxDepth,
        maxSequence: limits.maxSequence,
        maxStringLength: limits.maxStringLength,
        maxResultChars: limits.maxResultChars,
      },
    },
    limits.timeoutMs,
    options.signal,
  );
  if (reply.ok) return reply.text === undefined ? undefined : JSON.parse(reply.text);
  const error = reply.error;
  switch (error.kind) {
    case 'jsonata':
      throw expressionFailure(error, work.source, work.site);
    case 'limit':
      throw limitOf(error.limit, work.site, work.source, limits, error.value);
    case 'not-json':
      throw notJson(work.site, work.source, 'its value', error.message);
    case 'start':
      throw startFailure(work.site, work.source, error.timeoutMs);
    default:
      throw internalFailure(work.site, work.source, error);
  }
}

/** The EXPRESSION_LIMIT error for a limit hit anywhere, with the configured value of that limit. */
export function limitOf(
  kind: LimitKind,
  site: ExpressionSite,
  source: string,
  limits: ExpressionLimits,
  value?: number,
): WeftError {
  switch (kind) {
    case LIMIT_KINDS.TIME:
      return limitFailure(kind, site, source, limits.timeoutMs);
    case LIMIT_KINDS.MEMORY:
      return limitFailure(kind, site, source, limits.maxMemoryBytes);
    case LIMIT_KINDS.RESULT:
      return limitFailure(
        kind,
        site,
        source,
        limits.maxResultChars,
        value === undefined ? undefined : `${value} characters`,
      );
    default:
      return limitFailure(kind, site, source);
  }
}

export function notJson(site: ExpressionSite, source: string, what: string, cause: unknown): WeftError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new WeftError(
    ERROR_CODES.EXPRESSION_ERROR,
    `The expression in ${where(site)} could not pass ${what} across the sandbox boundary as JSON ` +
      `(${message}): values cross as JSON, so cycles, BigInts and the like cannot (expression: ${truncate(source, 120)}).`,
    {
      ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
      details: { field: site.field, expression: truncate(source, 500) },
      retryable: false,
    },
  );
}

/** No sandbox worker became ready in time: the expression never ran (a retry may well succeed). */
export function startFailure(site: ExpressionSite, source: string, timeoutMs: number): WeftError {
  return new WeftError(
    ERROR_CODES.TIMEOUT,
    `The expression in ${where(site)} was not evaluated: no sandbox worker was ready within ${timeoutMs} ms ` +
      '(the machine is overloaded, or worker threads cannot start in this process). It did not run, so ' +
      'retrying the step (`retry`) is safe.',
    {
      ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
      details: { field: site.field, expression: truncate(source, 500), limit_value: timeoutMs },
      retryable: true,
    },
  );
}

function internalFailure(site: ExpressionSite, source: string, error: WorkerError): WeftError {
  return new WeftError(
    ERROR_CODES.EXPRESSION_ERROR,
    `The expression in ${where(site)} could not be evaluated: the sandbox failed ` +
      `(${'message' in error ? error.message : error.kind}). This is likely a bug in Weft: please report it ` +
      `with the expression (${truncate(source, 120)}).`,
    {
      ...(site.step_key === undefined ? {} : { step_key: site.step_key }),
      details: { field: site.field, expression: truncate(source, 500) },
      retryable: false,
    },
  );
}

export function where(site: ExpressionSite): string {
  return site.step_key === undefined ? `\`${site.field}\`` : `\`${site.field}\` of step "${site.step_key}"`;
}

/**
 * What a JSONata expression can read, from its AST, so that only that crosses to the worker: the scope
 * entries whose names appear as field names anywhere in it (a path from the root starts with one),
 * the bindings it names. Anything that reads the context as a whole (`$`, `$$`, `*`, `**`, a parent `%`) gets everything.
 */
export function subsetForJsonata(
  ast: unknown,
): (document: unknown, bindings: ExpressionBindings) => { document: unknown; bindings: ExpressionBindings } {
  const names = new Set<string>();
  const variables = new Set<string>();
  let whole = false;
  const stack: Array<[unknown, number]> = [[ast, 0]];
  while (stack.length > 0 && !whole) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > 2000) {
      whole = true;
      break;
    }
    const n = node as { type?: unknown; value?: unknown };
    if (n.type === 'name' && typeof n.value === 'string') names.add(n.value);
    else if (n.type === 'variable' && typeof n.value === 'string') {
      if (n.value === '' || n.value === '$') whole = true;
      variables.add(n.value);
    } else if (n.type === 'wildcard' || n.type === 'descendant' || n.type === 'parent') whole = true;
    for (const child of Object.values(node))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  if (whole) return (document, bindings) => ({ document, bindings: { ...bindings } });
  const pick = (from: unknown): unknown => {
    if (from === null || typeof from !== 'object' || Array.isArray(from)) return from;
    const out: Record<string, unknown> = {};
    for (const name of names)
      if (Object.hasOwn(from, name)) out[name] = (from as Record<string, unknown>)[name];
    return out;
  };
  return (document, bindings) => {
    const b: Record<string, unknown> = {};
    for (const name of ['input', 'vars', 'run', 'item', 'index'] as const) {
      if (variables.has(name)) b[name] = bindings[name];
    }
    // `$steps` may be handed whole to a function (`$keys($steps)`): it crosses whole.
    if (variables.has('steps')) b.steps = bindings.steps;
    return { document: pick(document), bindings: b as unknown as ExpressionBindings };
  };
}
