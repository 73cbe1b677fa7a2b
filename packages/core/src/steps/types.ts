/** The one context every step handler receives, built-in or host-registered. */
import type { WeftEventMap } from '../events/events.js';
import type { Step } from '../model/types.js';
import type { RunOrigin, UsageCall } from '../run/types.js';

/** What an expression sees of the run: `$run`. */
export interface RunInfo {
  readonly id: string;
  readonly origin: RunOrigin;
  readonly app_id: string | null;
  readonly workflow_id: string | null;
  readonly version: number | null;
}

/** Events a handler may emit itself (the engine adds run_id, seq, time, step_key). */
export type HandlerEventName = 'model.delta' | 'model.selected';
export type HandlerEventData<K extends HandlerEventName> = Omit<
  WeftEventMap[K],
  'run_id' | 'seq' | 'time' | 'step_key'
>;

export interface StepContext<TConfig = Record<string, unknown>> {
  /** The step as written in the document (read-only). */
  readonly step: Readonly<Step>;
  /** The step's own fields (common fields such as key and destinations removed), templates resolved. */
  readonly config: TConfig;
  /**
   * The read-only expression scope (docs/semantics.md, rule 7): `{ input, <step key>: { status, output,
   * error } }` for every settled step.
   */
  readonly scope: Readonly<Record<string, unknown>>;
  /** The loop element, when the step loops. */
  readonly item: unknown;
  /** The loop index, when the step loops. */
  readonly index: number | undefined;
  /**
   * 1 for the first attempt, 2 for the next, … An execution interrupted by a crash runs again after
   * `engine.resume` with the next number (it does not count against `retry.max_attempts`).
   */
  readonly attempt: number;
  /**
   * The same for every attempt of this step (or loop iteration) in this run, across retries and resumes:
   * `run id:step key[:iteration]`, URI-encoded parts. Pass it to an API that deduplicates requests, so
   * that an execution run twice (a retry after a timeout, a resume after a crash) has its effect once.
   */
  readonly idempotency_key: string;
  /** Fires when the step must stop: run cancelled or failed, step timed out, a sibling iteration failed. */
  readonly signal: AbortSignal;
  /** The run's variables (`$vars`), secrets included: never echo them into outputs or logs. */
  readonly vars: Readonly<Record<string, unknown>>;
  readonly run: RunInfo;
  /** The run's usage ledger: record every billable call here. */
  readonly usage: { record(call: UsageCall): void };
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: unknown): void;
  emit<K extends HandlerEventName>(event: K, data: HandlerEventData<K>): void;
}

/** A step handler returns the step's output (or a promise of it), or throws. */
export type StepHandler<TConfig = any> = (context: StepContext<TConfig>) => unknown;

/** `services[type][action]` handlers behind `service` steps. */
export type ServiceHandler = (context: StepContext<{ service: ServiceCallConfig }>) => unknown;
export type ServiceRegistry = Record<string, Record<string, ServiceHandler>>;

export interface ServiceCallConfig {
  type: string;
  action: string;
  input?: unknown;
  connection_id?: string | null;
}
