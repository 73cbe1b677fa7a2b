/**
 * The JavaScript sandbox on the main thread: one QuickJS (WebAssembly) runtime per process, its globals
 * frozen (sandbox-source.ts), each evaluation under an interrupt deadline, a heap cap and a stack cap.
 *
 * A WebAssembly engine on the main thread blocks the event loop until it returns, so it only ever runs
 * for a short budget (`inlineBudgetMs`): an evaluation that needs longer is interrupted and reported as
 * `budget`, and the caller re-runs it in a sandbox worker with the rest of its deadline (boundary.ts).
 * Main-thread time is also counted per turn of the event loop: once a turn has spent `2 × budget`, the
 * next evaluation answers `yield` and the caller lets the loop turn first, so a loop of many short
 * evaluations cannot starve timers either.
 */
import { createRequire } from 'node:module';
import type {
  QuickJSContext,
  QuickJSHandle,
  QuickJSRuntime,
  QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import {
  decodeSandboxValue,
  limitOfThrown,
  PRELUDE,
  type SandboxValue,
  type ThrownError,
  thrownError,
} from './sandbox-source.js';

/** The sandbox's stack, in bytes: deeper recursion is a `depth` limit (~600 JavaScript frames). */
export const SANDBOX_STACK_BYTES = 128 * 1024;
/**
 * Compiled functions kept per sandbox (first in, first out: a hit costs no bookkeeping): ~500 bytes each
 * of the sandbox's heap, so up to ~2 MB — the expressions of a 2,000-step document stay compiled.
 */
export const MAX_CACHED_FUNCTIONS = 4096;

export type SandboxOutcome =
  | SandboxValue
  | { kind: 'thrown'; error: ThrownError }
  | { kind: 'budget' }
  | { kind: 'yield' }
  | { kind: 'limit'; limit: 'memory' | 'depth' | 'time' | 'string' };

export interface SandboxCall {
  /** `functionText(params, body)`. */
  text: string;
  /** The JSON of `[[maxLogs, maxLogChars, maxResultChars, undefs], ...args]` (sandbox-source.ts). */
  argsJson: string;
  maxMemoryBytes: number;
}

let modulePromise: Promise<QuickJSWASMModule> | null = null;
let loaded: QuickJSWASMModule | null = null;
let sandbox: Sandbox | null = null;

/** Where the worker finds the same packages (it loads them with require). */
export function quickjsModulePaths(): { core: string; variant: string } {
  const require = createRequire(import.meta.url);
  return {
    core: require.resolve('quickjs-emscripten-core'),
    variant: require.resolve('@jitl/quickjs-wasmfile-release-sync'),
  };
}

/** Starts loading the WebAssembly module (once per process); resolves when evaluations can run. */
export function loadQuickJS(): Promise<QuickJSWASMModule> {
  modulePromise ??= (async () => {
    const [{ newQuickJSWASMModuleFromVariant }, variant] = await Promise.all([
      import('quickjs-emscripten-core'),
      import('@jitl/quickjs-wasmfile-release-sync'),
    ]);
    const module = await newQuickJSWASMModuleFromVariant(
      ((variant as { default?: unknown }).default ?? variant) as Parameters<
        typeof newQuickJSWASMModuleFromVariant
      >[0],
    );
    loaded = module;
    return module;
  })();
  return modulePromise;
}

/** Whether the module has loaded (so that `callInline` can answer synchronously). */
export function quickjsLoaded(): boolean {
  return loaded !== null;
}

let sliceSpent = 0;
let sliceResetScheduled = false;

function chargeSlice(ms: number): void {
  sliceSpent += ms;
  if (!sliceResetScheduled) {
    sliceResetScheduled = true;
    setImmediate(() => {
      sliceSpent = 0;
      sliceResetScheduled = false;
    });
  }
}

/**
 * Runs one evaluation on the main thread for at most `budgetMs`. Never throws: an evaluation that needs
 * longer answers `budget`; when this turn of the event loop has already spent its share, `yield`.
 */
export function callInline(call: SandboxCall, budgetMs: number): SandboxOutcome {
  if (loaded === null) return { kind: 'budget' };
  if (sliceSpent >= 2 * budgetMs) return { kind: 'yield' };
  sandbox ??= new Sandbox(loaded);
  const started = performance.now();
  try {
    return sandbox.call(call, started + budgetMs, 'budget');
  } catch {
    // The WebAssembly call itself failed (e.g. the host's stack ran out inside it): the runtime's state
    // is unknown, so drop it; the next evaluation builds a new one. Re-run where it has room.
    sandbox.abandon();
    sandbox = null;
    return { kind: 'budget' };
  } finally {
    chargeSlice(performance.now() - started);
  }
}

/** A QuickJS runtime and context with the prelude loaded, and the functions compiled in it. */
export class Sandbox {
  readonly #runtime: QuickJSRuntime;
  readonly #context: QuickJSContext;
  readonly #run: QuickJSHandle;
  readonly #functions = new Map<string, QuickJSHandle>();
  #deadline = Number.POSITIVE_INFINITY;
  #memoryLimit = -1;

  constructor(module: QuickJSWASMModule) {
    this.#runtime = module.newRuntime();
    this.#runtime.setMaxStackSize(SANDBOX_STACK_BYTES);
    this.#runtime.setInterruptHandler(() => performance.now() > this.#deadline);
    this.#context = this.#runtime.newContext();
    this.#deadline = performance.now() + 1000;
    const made = this.#context.evalCode(PRELUDE, 'prelude.js');
    this.#deadline = Number.POSITIVE_INFINITY;
    if (made.error !== undefined) {
      const error = this.#context.dump(made.error);
      made.error.dispose();
      throw new Error(`The JavaScript sandbox failed to start: ${JSON.stringify(error)}`);
    }
    this.#run = made.value;
  }

  /**
   * Calls the function compiled from `call.text` (compiling it on first use) until `deadline`
   * (performance.now() time). An interrupt answers `onInterrupt`: `budget` on the main thread, `time`
   * (a limit) in a worker.
   */
  call(call: SandboxCall, deadline: number, onInterrupt: 'budget' | 'time'): SandboxOutcome {
    const interrupted = (): SandboxOutcome =>
      onInterrupt === 'budget' ? { kind: 'budget' } : { kind: 'limit', limit: 'time' };
    if (call.maxMemoryBytes !== this.#memoryLimit) {
      this.#runtime.setMemoryLimit(call.maxMemoryBytes);
      this.#memoryLimit = call.maxMemoryBytes;
    }
    this.#deadline = deadline;
    try {
      let fn = this.#functions.get(call.text);
      if (fn === undefined) {
        const compiled = this.#context.evalCode(call.text, 'code.js');
        if (compiled.error !== undefined) return this.#thrown(compiled.error, interrupted);
        fn = compiled.value;
        this.#remember(call.text, fn);
      }
      const args = this.#context.newString(call.argsJson);
      const result = this.#context.callFunction(this.#run, this.#context.undefined, fn, args);
      args.dispose();
      if (result.error !== undefined) return this.#thrown(result.error, interrupted);
      const text = this.#context.getString(result.value);
      result.value.dispose();
      const value = decodeSandboxValue(text);
      // Should an interrupt ever reach the body's catch, it is still an interrupt (the budget, on the main thread).
      if (value.kind === 'threw' && limitOfThrown(value.error) === 'time') return interrupted();
      return value;
    } finally {
      this.#deadline = Number.POSITIVE_INFINITY;
    }
  }

  #thrown(handle: QuickJSHandle, interrupted: () => SandboxOutcome): SandboxOutcome {
    const error = thrownError(this.#context.dump(handle));
    handle.dispose();
    const kind = limitOfThrown(error);
    if (kind === 'time') return interrupted();
    if (kind !== undefined) return { kind: 'limit', limit: kind };
    return { kind: 'thrown', error };
  }

  #remember(text: string, fn: QuickJSHandle): void {
    this.#functions.set(text, fn);
    if (this.#functions.size > MAX_CACHED_FUNCTIONS) {
      const [oldest, handle] = this.#functions.entries().next().value!;
      this.#functions.delete(oldest);
      handle.dispose();
    }
  }

  /** Lets go of a runtime whose state is unknown (disposing it could fail too). */
  abandon(): void {
    try {
      for (const handle of this.#functions.values()) handle.dispose();
      this.#run.dispose();
      this.#context.dispose();
      this.#runtime.dispose();
    } catch {
      // Leaked: the WebAssembly memory is reclaimed with the module.
    }
  }
}
