/** Options of `createEngine` and `engine.start`, with their defaults. */
import type { ExpressionLanguage, ExpressionLimits } from '../expressions/jsonata.js';
import type { FileStore } from '../files/types.js';
import type { Auto, RetryPolicy, VersionDocument } from '../model/types.js';
import type { AutoModelPolicy } from '../providers/auto-model.js';
import type { PricingTable, Provider } from '../providers/provider.js';
import type { FileExtractor, FileImageExtractor } from '../steps/model-files.js';
import type { ServiceRegistry, StepHandler, ToolRegistry } from '../steps/types.js';
import type { JournalSink } from './journal.js';
import type { Retention, Run, RunOrigin } from './types.js';
import type { Variable } from './variables.js';

export interface EngineLimits {
  /** Item-form loops fail with LOOP_LIMIT past this many elements (collection form too). Default 10,000. */
  maxLoopIterations: number;
  /** Default loop `max_concurrency`. Default 8. */
  loopConcurrency: number;
  /** After cancellation, handlers that ignore their signal are abandoned after this long. Default 5,000 ms. */
  cancelGraceMs: number;
  /** A run that spends more fails with BUDGET_EXCEEDED. Default Infinity. */
  maxCredits: number;
  /** Default per-attempt timeout for every step (a step's `timeout_ms` wins). Default none. */
  stepTimeoutMs: number | undefined;
  /** Timeout of `http_request` steps without `timeout_ms`. Default 30,000 ms. */
  httpTimeoutMs: number;
  /**
   * Documents with more steps (notes included) are refused with LIMIT_EXCEEDED before they are read any
   * further: validating and compiling are synchronous and block the host's event loop (W9 in
   * docs/performance.md: 1.3–2.7 s for 100,000 steps on a loaded 2-core machine), so the default keeps a
   * compile to a fraction of a second. Infinity lifts it (the validator's own bound,
   * VALIDATION_LIMITS.maxSteps, still applies). Default 10,000.
   */
  maxSteps: number;
  /** Sub-workflows nested deeper than this fail their `workflow` step with SUBWORKFLOW_DEPTH. Default 16. */
  maxWorkflowDepth: number;
  /** Bounds on every expression evaluation. */
  expression: ExpressionLimits;
  /**
   * A journal append (`journal` sink) that has not settled by then counts as failed: its runs end FAILED
   * with STORE_ERROR rather than wait forever on a store that hangs. Default 30,000 ms.
   */
  journalTimeoutMs: number;
}

export interface ConcurrencyOptions {
  /** Step executions (attempts, loop iterations) in flight per run. Default 16. */
  run?: number;
  /** Step executions in flight across every run of the engine. Default 1,024. */
  engine?: number;
  /** Calls in flight per provider, across every run of the engine (a number applies to each). Default 64. */
  providers?: number | Record<string, number>;
}

/** Where `workflow` steps find their sub-workflow. The registry (engine.app) provides one. */
export interface WorkflowResolver {
  resolve(reference: {
    workflow_id: string;
    workflow_version_id: string | number;
    /** The app of the run that contains the `workflow` step. */
    app_id: string | null;
    /** The id of the run that contains the `workflow` step. */
    run_id?: string;
  }): Promise<ResolvedWorkflow> | ResolvedWorkflow;
  /**
   * Re-attaches to child run `runId`, which an interrupted execution of a `workflow` step started before
   * a crash (its id is journaled): resolves with the run once it has ended — resuming it if nobody holds
   * it — or null when there is no such run (it never reached the store: a new child is started). Without
   * `attach`, a resumed `workflow` step starts a new child.
   */
  attach?(runId: string, signal: AbortSignal): Promise<Run | null>;
}

export interface ResolvedWorkflow {
  document: VersionDocument;
  workflow_id?: string;
  app_id?: string | null;
  version?: number | null;
  /** Whether the document is a draft (the run then carries `workflow_version_draft`). */
  draft?: boolean;
  /**
   * The workflow belongs to another app than the calling run (`app_id`): its run belongs to that app, and
   * may start only at the document's entry steps.
   */
  foreign?: boolean;
  /**
   * Variables of the child's own home, layered over the parent's (which the child sees, secret flags
   * included, unless `isolated`).
   */
  variables?: Variable[];
  /** The child does not see the parent's variables (the registry isolates another app's workflows). */
  isolated?: boolean;
}

/** What `http.allow` learns about a request besides its URL. */
export interface HttpTarget {
  /** 0 for the step's own URL, n for the URL of the n-th redirect. */
  readonly hop: number;
  /** The addresses the URL's host resolves to (the host itself when it is an IP address). */
  readonly addresses: readonly string[];
}

/**
 * The policy of every request a document makes (`http_request`, `browser`): checked on the step's URL and
 * again on every redirect (steps/http-fetch.ts, docs/security.md).
 */
export interface HttpOptions {
  /**
   * Return false to forbid a URL (the step fails with HTTP_FORBIDDEN). Called for every hop, redirects
   * included, with the addresses the host resolves to.
   */
  allow?: (url: URL, target: HttpTarget) => boolean | Promise<boolean>;
  /**
   * Whether requests may reach loopback, private, link-local and other non-public addresses (checked on
   * the resolved address of every hop). Default true; set it to false when documents are not trusted.
   */
  allowPrivateNetwork?: boolean;
  /** Redirects followed per request; one more is LIMIT_EXCEEDED. Default 5. */
  maxRedirects?: number;
  /** Largest response body read; a larger one is RESPONSE_TOO_LARGE. Default 10 MB. */
  maxResponseBytes?: number;
  /**
   * Resolves a host name to its addresses. Default: node:dns `lookup` (all addresses). With
   * `allowPrivateNetwork: false` it is asked again when the connection is made, and that answer is checked
   * too (DNS rebinding, docs/security.md).
   */
  lookup?: (hostname: string) => Promise<readonly string[]> | readonly string[];
  /**
   * The fetch implementation. Default: global fetch; with `allowPrivateNetwork: false`, undici's fetch
   * through an Agent that checks the address of every connection. A fetch passed here resolves names
   * itself: only the check before each hop applies to it.
   */
  fetch?: typeof fetch;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface EngineOptions {
  /** LLM providers, by name (`provider.name`). */
  providers?: Provider[] | Record<string, Provider>;
  /**
   * Prices per provider and model (credits per million tokens), merged model by model over the prices the
   * providers declare (`provider.pricing`).
   */
  pricing?: PricingTable;
  /**
   * Replaces the default policy of automatic model choice (cheapest model that fits; docs/steps.md,
   * "auto"): `(needs, catalogue) => ({ provider, model, reason? }) | null`.
   */
  autoModel?: AutoModelPolicy;
  /**
   * The default `auto` config (provider, model, temperature) of auto-fill: input fields left to a model
   * are filled with it (an input step's own `auto` block wins field by field). No model, or "auto": Weft
   * chooses one.
   */
  auto?: Auto;
  /** Host step types: `{ [type]: handler }` (also overrides built-ins such as `browser`). */
  steps?: Record<string, StepHandler>;
  /**
   * `services[type][action]` handlers for `service` steps, over the built-in FILES and SCHEDULER actions
   * (a host action of the same name replaces the built-in one).
   */
  services?: ServiceRegistry;
  /**
   * Tools model steps may call (`provider.tools`: `"external:NAME"`, or a `{ name, description, input }`
   * object): `{ NAME: { description, input, handler(args, ctx) } }`. NAME is what the model sees, so it
   * must match `[a-zA-Z0-9_-]{1,64}` (docs/steps.md, "Tools").
   */
  tools?: ToolRegistry;
  /**
   * Text extractors by media type for `{{ input.FIELD:contents }}` in model messages, over the built-in
   * ones (text, Markdown, CSV, JSON, XML, HTML): e.g. `{ "application/pdf": async (file) => text }`.
   */
  fileExtractors?: Record<string, FileExtractor>;
  /**
   * Image extractors by media type for `{{ input.FIELD:images }}` of files that are not images, e.g.
   * `{ "application/pdf": async (file) => [{ bytes, media_type: "image/png" }] }` (docs/files.md).
   */
  fileImageExtractors?: Record<string, FileImageExtractor>;
  /** Keep each provider's raw reply in a model step's output (`raw`; it can be large). Default false. */
  includeRawModelOutput?: boolean;
  /** Where the built-in FILES service keeps the app's files. Default: a MemoryFileStore per engine. */
  files?: FileStore;
  /** Variables every run sees as `$vars` (runs can add or override). */
  variables?: Variable[];
  /** A number is the per-run cap. */
  concurrency?: number | ConcurrencyOptions;
  limits?: Partial<Omit<EngineLimits, 'expression'>> & { expression?: Partial<ExpressionLimits> };
  /** Default retry policy of every step (a step's `retry` overrides it field by field). Default: 1 attempt. */
  retry?: RetryPolicy;
  workflows?: WorkflowResolver;
  http?: HttpOptions;
  clock?: Clock;
  /** Run id generator. Default: crypto.randomUUID. */
  ids?: () => string;
  /** Randomness for retry jitter. Default Math.random. */
  random?: () => number;
  /** Called when an event listener throws. Default: a process warning. */
  onListenerError?: (error: unknown, event: string) => void;
  /**
   * Plans kept by content in the compile cache (docs/semantics.md, "Documents are read once"). Default 256.
   */
  planCacheSize?: number;
  /**
   * The most JSON text the compile cache keeps by content, summed over its plans, in UTF-16 code units
   * (bytes for ASCII). A document with more text than this is compiled for each new object with its
   * content. Default 33,554,432 (32 MiB).
   */
  planCacheBytes?: number;
  /**
   * The expression language of documents that do not say (`"language"` at the top of a version wins).
   * Default `jsonata`.
   */
  language?: ExpressionLanguage;
  /**
   * Where every run's journal goes (run/journal.ts): the facts of each run, in order, batched per
   * macrotask. A run's `done` then resolves once its entries are acknowledged; a sink that fails ends the
   * run FAILED with STORE_ERROR. `engine.resume` continues a run from them. Default: none.
   */
  journal?: JournalSink;
}

/**
 * Options of `engine.start` / `engine.run`. They are checked, and the run keeps a copy of exactly these
 * fields (run/check-options.ts): a new field must be added there too, or the run never sees it.
 */
export interface StartOptions {
  input?: Record<string, unknown>;
  variables?: Variable[];
  /** Start from this step only (it is the single entry). */
  from_step_key?: string;
  /**
   * Check `input` against the document's input definition before anything is created (INVALID_INPUT
   * listing every problem). Default true; replays pass false (their input is the original run's).
   */
  check_input?: boolean;
  /** Aborting it cancels the run. Must be a real AbortSignal (`instanceof AbortSignal`). */
  signal?: AbortSignal;
  origin?: RunOrigin;
  app_id?: string | null;
  workflow_app_id?: string | null;
  workflow_id?: string | null;
  collection_id?: string | null;
  record_id?: string | null;
  version?: number | null;
  retention?: Retention | number | null;
  /** Whether the document is a draft. Default: a draft unless it has a numeric `version` or an `id`. */
  draft?: boolean;
  /** Fixes the run id (the registry uses it). */
  id?: string;
  replay_of?: string | null;
  /**
   * Step results to keep instead of running (replay): these steps are settled with the given
   * record before the run starts, and are not run again.
   */
  preset?: Record<string, import('./types.js').StepRecord>;
  /** This run's journal sink (overrides the engine's `journal`; null: no journal for this run). */
  journal?: JournalSink | null;
}

/** Options of `engine.resume`: what a journal does not hold. */
export interface ResumeOptions {
  /** The run's variables (secrets are never journaled: give them again). */
  variables?: Variable[];
  signal?: AbortSignal;
  /** Where the resumed run's further entries go (overrides the engine's `journal`; null: none). */
  journal?: JournalSink | null;
}
