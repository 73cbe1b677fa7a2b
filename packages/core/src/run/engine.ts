/**
 * `createEngine(options)`: the embeddable engine. It owns the plan cache, the engine-wide caps (step
 * executions, per-provider calls), the handler registry and the engine-level event stream; each
 * `start` (or `resume`) creates one Runner (runner.ts) around the scheduler's state.
 */

import { randomUUID } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import { optionalSignal } from '../arguments.js';
import type { Plan } from '../compile/plan.js';
import { PlanCache } from '../compile/plan-cache.js';
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import { SafeEmitter, type WeftEventName, type WeftListener } from '../events/events.js';
import {
  DEFAULT_EXPRESSION_LIMITS,
  EXPRESSION_LANGUAGES,
  type ExpressionLanguage,
  type ExpressionLimits,
} from '../expressions/jsonata.js';
import { MemoryFileStore } from '../files/memory.js';
import { type InputFieldSite, inputDefinitions, invalidInput, problemsFor } from '../input/check.js';
import { allowsAuto } from '../input/fields.js';
import { TOOL_WIRE_NAME } from '../model/tools.js';
import type { Auto, VersionDocument } from '../model/types.js';
import { modelChooser } from '../providers/auto-model.js';
import { buildCatalogue, cataloguePricing } from '../providers/catalogue.js';
import type { ModelToolCallDelta, Provider } from '../providers/provider.js';
import { branchStep } from '../steps/branch.js';
import { browserStep } from '../steps/browser.js';
import { codeStep } from '../steps/code.js';
import { createHttpFetch, policyFetch } from '../steps/http-fetch.js';
import { httpRequestStep } from '../steps/http-request.js';
import { inputStep } from '../steps/input.js';
import { internal } from '../steps/internal.js';
import { modelStep } from '../steps/model.js';
import { mergeServices, serviceStep } from '../steps/service.js';
import { filesService } from '../steps/service-files.js';
import { schedulerService } from '../steps/service-scheduler.js';
import type {
  HandlerEventData,
  StepContext,
  StepHandler,
  ToolDefinition,
  ToolRegistry,
} from '../steps/types.js';
import { workflowStep } from '../steps/workflow.js';
import { mergePricing, providerPricing } from '../usage/pricing.js';
import { type AutoFillDeps, autoFill, autoFillGroups } from './auto-fill.js';
import { checkEngineOptions, checkStartOptions } from './check-options.js';
import type { EngineCore, HandlerEntry } from './engine-core.js';
import { EngineRunHandle } from './engine-handle.js';
import type { RunHandle } from './handle.js';
import { inlineCode } from './inline.js';
import {
  DEFAULT_JOURNAL_TIMEOUT_MS,
  type JournalEntry,
  type JournalSink,
  type RunStartedEntry,
} from './journal.js';
import type { EngineLimits, EngineOptions, ResumeOptions, StartOptions } from './options.js';
import { checkJournal } from './resume.js';
import { normalizeRetention } from './retention.js';
import { type AutoFillStart, isoOf, metaOf, Runner, type RunnerOptions } from './runner.js';
import { EngineSlots } from './slots.js';
import type { Run } from './types.js';
import { checkVariables, DeltaRedactor } from './variables.js';

export const DEFAULT_LIMITS: EngineLimits = {
  maxLoopIterations: 10_000,
  loopConcurrency: 8,
  cancelGraceMs: 5_000,
  maxCredits: Number.POSITIVE_INFINITY,
  stepTimeoutMs: undefined,
  httpTimeoutMs: 30_000,
  maxSteps: 10_000,
  maxWorkflowDepth: 16,
  expression: DEFAULT_EXPRESSION_LIMITS,
  journalTimeoutMs: DEFAULT_JOURNAL_TIMEOUT_MS,
};

export const DEFAULT_CONCURRENCY = { run: 16, engine: 1024, providers: 64 } as const;

export interface Engine {
  /** Starts a run and returns its handle at once (the run begins on the next microtask). */
  start(document: VersionDocument | unknown, options?: StartOptions): RunHandle;
  /** `start(...).done`. */
  run(document: VersionDocument | unknown, options?: StartOptions): Promise<Run>;
  /**
   * Resumes a run from its journal (the entries its `journal` sink received, in order) after the process
   * that ran it stopped: folds the entries through the scheduler, then goes on from where they end —
   * steps that settled are not run again, executions that had begun run again with the next attempt,
   * retry back-offs end at their recorded deadlines (docs/semantics.md, "Durable runs"). `document` must
   * be the version the run started on. Throws INVALID_ARGUMENT for a journal that is not a run of it;
   * CONFLICT when the run is in progress in this engine.
   */
  resume(
    document: VersionDocument | unknown,
    journal: readonly JournalEntry[],
    options?: ResumeOptions,
  ): RunHandle;
  /** Validates and compiles (cached by content). Throws a ValidationError with every problem. */
  compile(document: VersionDocument | unknown): Plan;
  /** Events of every run of this engine. */
  on<K extends WeftEventName>(event: K, listener: WeftListener<K>): Engine;
  off<K extends WeftEventName>(event: K, listener?: WeftListener<K>): Engine;
  /** Runs in progress, by id. */
  readonly active: ReadonlyMap<string, RunHandle>;
  /** The registered step types (built-in and host). */
  readonly stepTypes: readonly string[];
  /** The language of documents that do not say (`createEngine({ language })`, default `jsonata`). */
  readonly language: ExpressionLanguage;
  /** The bounds on every expression evaluation (`createEngine({ limits: { expression } })`). */
  readonly expressionLimits: Readonly<ExpressionLimits>;
}

interface ChildStartOptions extends StartOptions {
  /** A sub-workflow run shares its parent's per-run cap. */
  runLimit?: LimitFunction;
  /** …and redacts its parent's secrets from everything it records (its input and outputs included). */
  secrets?: readonly string[];
}

/** What a parent run hands down to a sub-workflow run. */
interface Inherited {
  runLimit: LimitFunction;
  secrets: readonly string[];
  /** The child is another app's workflow: `from_step_key` must name one of its entry steps. */
  entryOnly: boolean;
  /** How deep the child run is nested (its parent's depth + 1). */
  depth: number;
}

export function createEngine(givenOptions: EngineOptions = {}): Engine {
  // Every option is checked here, synchronously: a bad one never surfaces later inside a run.
  const options = checkEngineOptions(givenOptions);
  const limits: EngineLimits = {
    ...DEFAULT_LIMITS,
    ...stripUndefined(options.limits ?? {}),
    expression: { ...DEFAULT_EXPRESSION_LIMITS, ...stripUndefined(options.limits?.expression ?? {}) },
  };
  checkPositive('limits.maxLoopIterations', limits.maxLoopIterations);
  checkPositive('limits.loopConcurrency', limits.loopConcurrency);
  checkPositive('limits.journalTimeoutMs', limits.journalTimeoutMs);
  checkPositive('limits.maxWorkflowDepth', limits.maxWorkflowDepth);
  const concurrency =
    typeof options.concurrency === 'number' ? { run: options.concurrency } : (options.concurrency ?? {});
  const runConcurrency = concurrency.run ?? DEFAULT_CONCURRENCY.run;
  const engineConcurrency = concurrency.engine ?? DEFAULT_CONCURRENCY.engine;
  checkPositive('concurrency.run', runConcurrency);
  checkPositive('concurrency.engine', engineConcurrency);

  const providers = new Map<string, Provider>();
  if (Array.isArray(options.providers)) for (const p of options.providers) providers.set(p.name, p);
  else for (const [name, p] of Object.entries(options.providers ?? {})) providers.set(name, p);
  const providerLimits = new Map<string, LimitFunction>();
  const providerLimit = (name: string): LimitFunction => {
    let limit = providerLimits.get(name);
    if (limit === undefined) {
      const caps = concurrency.providers;
      const cap = typeof caps === 'number' ? caps : (caps?.[name] ?? DEFAULT_CONCURRENCY.providers);
      limit = pLimit(cap);
      providerLimits.set(name, limit);
    }
    return limit;
  };

  const events = new SafeEmitter(options.onListenerError);
  // One policy-checked fetch for every request a document makes (http_request, browser, FILES downloads).
  const httpFetch = createHttpFetch({ ...options.http });
  const active = new Map<string, RunHandle>();
  const tools = readTools(options.tools);
  const handlers = new Map<string, HandlerEntry>();
  const slotted = (run: StepHandler): HandlerEntry => ({ run: redactingDeltas(run), slots: true });
  handlers.set('input', slotted(inputStep));
  handlers.set('code', { ...slotted(codeStep), inline: inlineCode });
  handlers.set('branch', slotted(branchStep));
  handlers.set(
    'http_request',
    slotted(httpRequestStep({ fetch: httpFetch, timeoutMs: limits.httpTimeoutMs })),
  );
  const declaredPricing = providerPricing(providers);
  const pricing = mergePricing(declaredPricing, cataloguePricing(providers), options.pricing);
  if (options.autoModel !== undefined && typeof options.autoModel !== 'function') {
    throw invalidArgument(
      'autoModel',
      'a function (needs, catalogue) => { provider, model } | null',
      options.autoModel,
    );
  }
  const autoDefaults = checkAuto(options.auto);
  const chooseModel = modelChooser(
    buildCatalogue(providers, { engine: options.pricing, providers: declaredPricing }),
    options.autoModel,
  );
  const autoFillDeps: AutoFillDeps = { providers, providerLimit, pricing, chooseModel };
  // browser steps, model steps' file parts and the FILES service fetch through the same policy-checked
  // fetch (steps/http-fetch.ts).
  const fetchResource = policyFetch(httpFetch, limits.httpTimeoutMs);
  handlers.set(
    'model',
    slotted(
      modelStep({
        providers,
        providerLimit,
        pricing,
        chooseModel,
        includeRaw: options.includeRawModelOutput === true,
        tools,
        fetch: fetchResource,
        extractors: { ...(options.fileExtractors ?? {}) },
        imageExtractors: { ...(options.fileImageExtractors ?? {}) },
      }),
    ),
  );
  const now = () => (options.clock ?? { now: Date.now }).now();
  const files = options.files ?? new MemoryFileStore({ now, ...(options.ids ? { ids: options.ids } : {}) });
  const builtinServices = {
    FILES: filesService({ files, fetch: fetchResource }),
    SCHEDULER: schedulerService(now),
  };
  handlers.set('service', slotted(serviceStep(mergeServices(builtinServices, options.services ?? {}))));
  handlers.set('browser', slotted(browserStep(fetchResource)));
  const resolver = options.workflows;
  handlers.set('workflow', {
    slots: false,
    run: workflowStep({
      resolver: options.workflows,
      startChild: async (context, resolved, childOptions) => {
        const inner = internal(context);
        const parent = (inner as unknown as { execution: Runner }).execution;
        const step = inner.plan.index;
        // An execution of this unit before a crash started a child (journaled): re-attach to it.
        const earlier = parent.childOf(step, context.index);
        if (earlier !== undefined) {
          const running = active.get(earlier);
          const attached =
            running !== undefined ? await running.done : await resolver?.attach?.(earlier, context.signal);
          if (attached != null) return attached;
        }
        const parentHandle = parent.handle as EngineRunHandle;
        const depth = EngineRunHandle.depthOf(parentHandle) + 1;
        if (depth > limits.maxWorkflowDepth) {
          throw new WeftError(
            ERROR_CODES.SUBWORKFLOW_DEPTH,
            `Step "${context.step.key}" would start a sub-workflow ${depth} levels deep; the most is ${limits.maxWorkflowDepth} (limits.maxWorkflowDepth). A workflow that calls itself, directly or through others, needs a conditional that ends the recursion.`,
            {
              step_key: context.step.key,
              details: { depth, limit: limits.maxWorkflowDepth },
              retryable: false,
            },
          );
        }
        const inherited = resolved.isolated === true ? [] : EngineRunHandle.variablesOf(parentHandle);
        const variables = [...inherited, ...(resolved.variables ?? [])];
        // A run of another app's workflow belongs to that app (the caller sees the step's output only),
        // and starts at the workflow's entry steps (issue 11, item 7).
        const foreign = resolved.foreign === true;
        const options = {
          ...childOptions,
          variables,
          ...(foreign && resolved.app_id != null ? { app_id: resolved.app_id } : {}),
        };
        const { runLimit, secrets } = parent;
        const id = core.ids();
        parent.childStarted(step, context.index, context.attempt, id);
        return startRun(
          resolved.document,
          { ...options, id },
          { runLimit, secrets, entryOnly: foreign, depth },
        ).done;
      },
    }),
  });
  for (const [type, handler] of Object.entries(options.steps ?? {})) {
    if (typeof handler !== 'function')
      throw invalidArgument(`steps.${type}`, 'a function (context) => output', handler);
    handlers.set(type, slotted(handler));
  }
  const stepTypes = Object.keys(options.steps ?? {});
  if (
    options.language !== undefined &&
    !(EXPRESSION_LANGUAGES as readonly unknown[]).includes(options.language)
  ) {
    throw invalidArgument(
      'language',
      `one of ${EXPRESSION_LANGUAGES.map((l) => `"${l}"`).join(', ')}`,
      options.language,
    );
  }
  const plans = new PlanCache({
    stepTypes,
    tools: [...tools.keys()],
    expressionLimits: limits.expression,
    maxSteps: limits.maxSteps,
    ...(options.language === undefined ? {} : { language: options.language }),
    ...(options.planCacheSize === undefined ? {} : { max: options.planCacheSize }),
    ...(options.planCacheBytes === undefined ? {} : { maxBytes: options.planCacheBytes }),
  });

  if (options.journal !== undefined) checkSink('journal', options.journal);
  const engineJournal = options.journal ?? null;

  const engineSlots = new EngineSlots(engineConcurrency);
  const core: EngineCore = {
    clock: options.clock ?? { now: Date.now },
    ids: options.ids ?? randomUUID,
    random: options.random ?? Math.random,
    limits,
    retry: options.retry,
    variables: options.variables ?? [],
    runConcurrency,
    runConcurrencyExplicit: concurrency.run !== undefined,
    engineConcurrency,
    engineLimit: engineSlots.limit,
    engineSlots,
    events,
    tools,
    handlerFor: (type) => handlers.get(type),
  };

  function startRun(document: unknown, given: ChildStartOptions | undefined, parent?: Inherited): RunHandle {
    const plan = plans.get(document);
    // The run keeps a checked copy: nothing the caller changes afterwards reaches it.
    const startOptions: ChildStartOptions = checkStartOptions(plan, given);
    if (startOptions.check_input !== false) checkInput(plan, startOptions);
    if (parent !== undefined) {
      const from = startOptions.from_step_key;
      if (parent.entryOnly && from !== undefined && !plan.entries.some((i) => plan.steps[i]!.key === from)) {
        throw new WeftError(
          ERROR_CODES.FORBIDDEN,
          `The sub-workflow belongs to another app: its runs start at its entry steps, not at ${JSON.stringify(from)}.`,
          { details: { from_step_key: from }, retryable: false },
        );
      }
      startOptions.runLimit = parent.runLimit;
      if (parent.secrets.length > 0) startOptions.secrets = parent.secrets;
    }
    const retention = normalizeRetention(startOptions.retention);
    const doc = plan.document;
    // checkStartOptions' copy is the run's own already; with defaults, they are merged under it in a new
    // object (the document's `input_default` is shared by every run of it and must not become one's input).
    const ownInput = startOptions.input;
    const input =
      doc.input_default === undefined || doc.input_default === null
        ? (ownInput ?? {})
        : { ...doc.input_default, ...ownInput };
    const runner = openRunner(parent?.depth ?? 0, plan, {
      autoFill: autoFillFor(plan, startOptions.from_step_key, input),
      init: {
        runId: startOptions.id ?? core.ids(),
        createdAt: isoOf(core.clock.now()),
        input,
        fromStepKey: startOptions.from_step_key ?? null,
        meta: metaOf(startOptions, doc, retention),
      },
      variables: startOptions.variables,
      signal: startOptions.signal,
      journal: startOptions.journal === undefined ? engineJournal : startOptions.journal,
      preset: startOptions.preset ?? null,
      runLimit: startOptions.runLimit,
      secrets: startOptions.secrets,
    });
    queueMicrotask(() => runner.begin());
    return runner.handle;
  }

  /** The run's auto-fill, or null when no field is left to a model (most runs: answered from a cache). */
  function autoFillFor(
    plan: Plan,
    from: string | undefined,
    input: Record<string, unknown>,
  ): AutoFillStart | null {
    let sites = AUTO_SITES.get(plan);
    if (sites === undefined) {
      sites = inputDefinitions(plan.document).filter((site) => allowsAuto(site.field));
      AUTO_SITES.set(plan, sites);
    }
    if (sites.length === 0) return null;
    if (from !== undefined) {
      const started = new Set(
        inputDefinitions(plan.document, { from_step_key: from }).map((s) => s.step_key),
      );
      sites = sites.filter((site) => site.step_key === undefined || started.has(site.step_key));
    }
    const groups = autoFillGroups(sites, plan.document, input, autoDefaults);
    if (groups.length === 0) return null;
    return (signal, redact) =>
      autoFill(autoFillDeps, { document: plan.document, groups, given: redact({ ...input }), signal });
  }

  function resumeRun(
    document: unknown,
    journal: readonly JournalEntry[],
    options: ResumeOptions = {},
  ): RunHandle {
    const plan = plans.get(document);
    checkResumeOptions(options);
    const { entries } = checkJournal(journal, plan);
    const first = entries[0];
    if (first === undefined || first.type !== 'run.started') {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        'Expected `journal` to begin with a `run.started` entry: a run that never began has nothing to resume; start it again with engine.start.',
        { details: { parameter: 'journal' } },
      );
    }
    const started = first as RunStartedEntry;
    const runner = openRunner(0, plan, {
      init: {
        runId: started.run_id,
        createdAt: started.created_at,
        input: started.input,
        fromStepKey: started.from_step_key,
        meta: started.meta,
      },
      variables: options.variables,
      signal: options.signal,
      journal: options.journal === undefined ? engineJournal : options.journal,
      preset: started.preset,
      runLimit: undefined,
    });
    try {
      runner.fold(entries);
    } catch (error) {
      runner.handle.forget();
      throw error;
    }
    queueMicrotask(() => runner.resume());
    return runner.handle;
  }

  /**
   * A runner with its handle, registered as active until it ends. `depth`: how deep the run is nested
   * (its parent's depth + 1; 0 for a run the caller started).
   */
  function openRunner(
    depth: number,
    plan: Plan,
    runnerOptions: RunnerOptions,
  ): Runner & { handle: EngineRunHandle } {
    const id = runnerOptions.init.runId;
    if (active.has(id)) {
      throw new WeftError(ERROR_CODES.CONFLICT, `A run with id "${id}" is already in progress.`);
    }
    const localEvents = new SafeEmitter(options.onListenerError);
    const runner = new Runner(core, plan, runnerOptions, localEvents) as Runner & {
      handle: EngineRunHandle;
    };
    const handle = new EngineRunHandle(runner, localEvents, active, depth, runnerOptions.variables ?? []);
    runner.handle = handle;
    active.set(id, handle);
    void runner.done.then(() => handle.ended());
    return runner;
  }

  const engine: Engine = {
    start: (document, startOptions) => startRun(document, startOptions),
    // A Promise-returning entry point rejects, never throws (docs/api.md, "Errors: thrown or rejected"):
    // `start` returns a handle, so it throws; `run` turns the same error into a rejection.
    run: async (document, startOptions) => startRun(document, startOptions).done,
    resume: (document, journal, resumeOptions) => resumeRun(document, journal, resumeOptions),
    compile: (document) => plans.get(document),
    on(event, listener) {
      events.on(event, listener);
      return engine;
    },
    off(event, listener) {
      events.off(event, listener);
      return engine;
    },
    active,
    stepTypes: [...handlers.keys()],
    language: options.language ?? 'jsonata',
    expressionLimits: limits.expression,
  };
  return engine;
}

/**
 * A handler whose `model.delta` events go through a DeltaRedactor when its run has secrets: a secret
 * split across two deltas is caught (each delta redacted alone would let it through). What is held back is
 * passed on when the handler settles.
 */
function redactingDeltas(handler: StepHandler): StepHandler {
  return (context) => {
    const secrets = (context as unknown as { execution?: Runner }).execution?.secrets;
    if (secrets === undefined || secrets.length === 0) return handler(context);
    let redactor: DeltaRedactor | null = null;
    let rest: Record<string, unknown> = {};
    // A streamed tool call's arguments are a text stream of their own (per call index): redacted alike.
    let toolRedactors: Map<number, DeltaRedactor> | null = null;
    const buffered = (emit: StepContext['emit']): StepContext['emit'] =>
      function emitRedacted(event, data) {
        if (event !== 'model.delta') return emit(event, data);
        const { delta, tool_call, ...others } = data as unknown as {
          delta: unknown;
          tool_call?: ModelToolCallDelta;
        };
        if (tool_call !== undefined) {
          const { arguments: text, ...head } = tool_call;
          // The id and name are not the model's text: they go out at once, the arguments through a redactor.
          if (head.id !== undefined || head.name !== undefined) {
            emit('model.delta', {
              ...others,
              delta: '',
              tool_call: { ...head, arguments: '' },
            } as unknown as HandlerEventData<'model.delta'>);
          }
          toolRedactors ??= new Map();
          let tool = toolRedactors.get(tool_call.index);
          if (tool === undefined) {
            tool = new DeltaRedactor(secrets, (redacted) =>
              emit('model.delta', {
                ...others,
                delta: '',
                tool_call: { index: tool_call.index, arguments: redacted },
              } as unknown as HandlerEventData<'model.delta'>),
            );
            toolRedactors.set(tool_call.index, tool);
          }
          tool.push(String(text ?? ''));
          return;
        }
        rest = others;
        redactor ??= new DeltaRedactor(secrets, (text) =>
          emit('model.delta', { ...rest, delta: text } as unknown as HandlerEventData<'model.delta'>),
        );
        redactor.push(String(delta));
      };
    const target = context as StepContext & { wrapEmit?: (wrap: typeof buffered) => void };
    let wrapped: StepContext = context;
    if (typeof target.wrapEmit === 'function') target.wrapEmit(buffered);
    else wrapped = { ...context, emit: buffered(context.emit.bind(context)) };
    const flush = () => {
      redactor?.flush();
      if (toolRedactors !== null) for (const tool of toolRedactors.values()) tool.flush();
    };
    let result: unknown;
    try {
      result = handler(wrapped);
    } catch (error) {
      flush();
      throw error;
    }
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as PromiseLike<unknown>).then === 'function'
    ) {
      return Promise.resolve(result).finally(flush);
    }
    flush();
    return result;
  };
}

const RESUME_OPTIONS = new Set(['variables', 'signal', 'journal']);

function checkResumeOptions(o: ResumeOptions): void {
  if (o === null || typeof o !== 'object') throw invalidArgument('options', 'an object', o);
  for (const key of Object.keys(o)) {
    if (!RESUME_OPTIONS.has(key)) {
      throw new WeftError(
        ERROR_CODES.INVALID_ARGUMENT,
        `Unknown resume option \`${key}\`: a resumed run takes its input and settings from its journal; only ${[...RESUME_OPTIONS].join(', ')} can be given.`,
        { details: { parameter: key } },
      );
    }
  }
  if (o.journal !== undefined && o.journal !== null) checkSink('journal', o.journal);
  if (o.variables !== undefined) checkVariables(o.variables, 'variables');
  if (o.signal !== undefined) optionalSignal(o.signal, 'signal');
}

function checkSink(parameter: string, sink: JournalSink): void {
  if (sink === null || typeof sink !== 'object' || typeof sink.append !== 'function') {
    throw invalidArgument(parameter, 'a journal sink { append(entries) }', sink);
  }
}

/** The input fields of a plan that a model may fill (computed once per plan). */
const AUTO_SITES = new WeakMap<Plan, readonly InputFieldSite[]>();

/** `createEngine({ auto })`: the default provider/model/temperature of auto-fill. */
function checkAuto(auto: unknown): Auto | undefined {
  if (auto === undefined) return undefined;
  if (auto === null || typeof auto !== 'object' || Array.isArray(auto)) {
    throw invalidArgument('auto', 'an object { provider?, model?, temperature? }', auto);
  }
  const o = auto as Record<string, unknown>;
  for (const field of ['provider', 'model'] as const) {
    if (o[field] !== undefined && (typeof o[field] !== 'string' || o[field] === '')) {
      throw invalidArgument(`auto.${field}`, 'a non-empty string', o[field]);
    }
  }
  if (
    o.temperature !== undefined &&
    !(typeof o.temperature === 'number' && o.temperature >= 0 && o.temperature <= 2)
  ) {
    throw invalidArgument('auto.temperature', 'a number from 0 to 2', o.temperature);
  }
  return { ...(o as Auto) };
}

/** The input fields of a plan when the run starts at its entries (computed once per plan). */
const INPUT_SITES = new WeakMap<Plan, readonly InputFieldSite[]>();

/** The run input against the document's input definition, exactly as the registry checks it. */
function checkInput(plan: Plan, o: StartOptions): void {
  let sites: readonly InputFieldSite[] | undefined;
  if (o.from_step_key !== undefined) {
    sites = inputDefinitions(plan.document, { from_step_key: o.from_step_key });
  } else {
    sites = INPUT_SITES.get(plan);
    if (sites === undefined) {
      sites = inputDefinitions(plan.document);
      INPUT_SITES.set(plan, sites);
    }
  }
  if (sites.length === 0 && o.input === undefined) return;
  const problems = problemsFor(sites, plan.document, o.input);
  if (problems.length > 0) throw invalidInput(problems);
}

function checkPositive(parameter: string, value: number): void {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1))) {
    throw invalidArgument(parameter, 'a positive integer or Infinity', value);
  }
}

/** `options.tools`, checked: each a `{ handler }` under a name models accept. */
function readTools(registry: ToolRegistry | undefined): ReadonlyMap<string, ToolDefinition> {
  const tools = new Map<string, ToolDefinition>();
  if (registry === undefined) return tools;
  if (registry === null || typeof registry !== 'object' || Array.isArray(registry)) {
    throw invalidArgument('tools', 'an object { NAME: { description, input, handler } }', registry);
  }
  for (const [name, tool] of Object.entries(registry)) {
    if (!TOOL_WIRE_NAME.test(name)) {
      throw invalidArgument(
        `tools.${name}`,
        'a name of 1 to 64 letters, digits, "_" and "-" (what models accept)',
        name,
      );
    }
    if (tool === null || typeof tool !== 'object' || typeof tool.handler !== 'function') {
      throw invalidArgument(`tools.${name}`, 'an object with a handler(args, ctx) function', tool);
    }
    if (
      tool.input !== undefined &&
      (tool.input === null || typeof tool.input !== 'object' || Array.isArray(tool.input))
    ) {
      throw invalidArgument(`tools.${name}.input`, 'an input definition (an object of fields)', tool.input);
    }
    tools.set(name, tool);
  }
  return tools;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}
