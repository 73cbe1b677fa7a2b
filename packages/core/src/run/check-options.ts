/**
 * The options of `createEngine` and `engine.start`, checked synchronously: a wrong option throws
 * INVALID_ARGUMENT naming it before any run exists (docs/api.md). `checkStartOptions` also returns a
 * copy holding only what the run reads, its data (input, variables, replay records) copied as plain
 * JSON — so nothing the caller changes afterwards, and no `__proto__` key, can reach the run.
 */
import { Value } from '@sinclair/typebox/value';
import {
  isPlainObject,
  nullableString,
  optionalBoolean,
  optionalFunction,
  optionalInteger,
  optionalNonEmptyString,
  optionalNumber,
  optionalOneOf,
  optionalRecord,
  optionalSignal,
  optionsObject,
  readingArguments,
} from '../arguments.js';
import type { Plan } from '../compile/plan.js';
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import { EXPRESSION_LANGUAGES } from '../expressions/jsonata.js';
import { ownRunInput } from '../input/files.js';
import { checkedCopy } from '../json-data.js';
import { RetrySchema } from '../model/schema.js';
import { STEP_STATUSES } from '../statuses.js';
import type { EngineOptions, StartOptions } from './options.js';
import { normalizeRetention } from './retention.js';
import { RUN_ORIGINS, type StepRecord } from './types.js';
import { checkVariables } from './variables.js';

/** Checks every option of `createEngine`; returns the options with `variables` copied. */
export function checkEngineOptions(options: unknown): EngineOptions {
  return readingArguments('options', () => {
    const o = optionsObject(options, 'options');
    checkProviders(o.providers);
    optionalRecord(o.pricing, 'pricing', (models, parameter) =>
      optionalRecord(models, parameter, (price, at) => {
        if (!isPlainObject(price)) {
          throw invalidArgument(at, '{ input_per_million: number, output_per_million: number }', price);
        }
        optionalNumber(price.input_per_million ?? 0, `${at}.input_per_million`, 0);
        optionalNumber(price.output_per_million ?? 0, `${at}.output_per_million`, 0);
      }),
    );
    optionalRecord(o.steps, 'steps', (handler, parameter) =>
      optionalFunction(handler, parameter, 'a function (context) => output'),
    );
    optionalRecord(o.services, 'services', (actions, parameter) =>
      optionalRecord(actions, parameter, (handler, at) =>
        optionalFunction(handler, at, 'a function (context) => output'),
      ),
    );
    const variables = o.variables === undefined ? undefined : checkVariables(o.variables, 'variables');
    checkConcurrency(o.concurrency);
    checkLimits(o.limits);
    if (o.retry !== undefined && !(isPlainObject(o.retry) && Value.Check(RetrySchema, o.retry))) {
      throw invalidArgument(
        'retry',
        '{ max_attempts?: 1–100, interval_ms?: ≥ 0, backoff_rate?: ≥ 1, max_delay_ms?: ≥ 0, jitter?: boolean }',
        o.retry,
      );
    }
    if (o.workflows !== undefined) {
      if (o.workflows === null || typeof o.workflows !== 'object') {
        throw invalidArgument('workflows', 'a resolver { resolve(reference) }', o.workflows);
      }
      optionalFunction((o.workflows as { resolve?: unknown }).resolve ?? 0, 'workflows.resolve');
    }
    const http = optionsObject(o.http, 'http');
    optionalFunction(http.allow, 'http.allow', 'a function (url) => boolean');
    optionalFunction(http.fetch, 'http.fetch', 'a fetch function');
    optionalFunction(http.lookup, 'http.lookup', 'a DNS lookup function (hostname) => addresses');
    optionalInteger(http.maxResponseBytes, 'http.maxResponseBytes', 1, { infinity: true });
    optionalInteger(http.maxRedirects, 'http.maxRedirects', 0, { max: 100 });
    optionalBoolean(http.allowPrivateNetwork, 'http.allowPrivateNetwork');
    if (o.clock !== undefined) {
      if (o.clock === null || typeof o.clock !== 'object')
        throw invalidArgument('clock', '{ now(): number }', o.clock);
      optionalFunction(
        (o.clock as { now?: unknown }).now ?? 0,
        'clock.now',
        'a function () => epoch milliseconds',
      );
    }
    if (o.files !== undefined) {
      if (o.files === null || typeof o.files !== 'object')
        throw invalidArgument('files', 'a FileStore', o.files);
      for (const method of FILE_STORE_METHODS) {
        optionalFunction(
          (o.files as Record<string, unknown>)[method] ?? 0,
          `files.${method}`,
          'a function (a FileStore method)',
        );
      }
    }
    optionalFunction(o.ids, 'ids', 'a function () => string');
    optionalFunction(o.random, 'random', 'a function () => number in [0, 1)');
    optionalFunction(o.onListenerError, 'onListenerError', 'a function (error, event) => void');
    optionalInteger(o.planCacheSize, 'planCacheSize', 0);
    optionalInteger(o.planCacheBytes, 'planCacheBytes', 0);
    optionalOneOf(o.language, 'language', EXPRESSION_LANGUAGES);
    optionalBoolean(o.includeRawModelOutput, 'includeRawModelOutput');
    optionalRecord(o.fileExtractors, 'fileExtractors', (extractor, parameter) =>
      optionalFunction(extractor, parameter, 'a function (file, signal) => text'),
    );
    optionalRecord(o.fileImageExtractors, 'fileImageExtractors', (extractor, parameter) =>
      optionalFunction(extractor, parameter, 'a function (file, signal) => images'),
    );
    if (o.journal !== undefined) checkJournalSink(o.journal, 'journal');
    return (variables === undefined ? o : { ...o, variables }) as EngineOptions;
  });
}

/** The FileStore methods the FILES service calls. */
const FILE_STORE_METHODS = ['put', 'get', 'delete'] as const;

function checkProviders(providers: unknown): void {
  if (providers === undefined) return;
  const check = (provider: unknown, parameter: string) => {
    if (
      provider === null ||
      typeof provider !== 'object' ||
      typeof (provider as { name?: unknown }).name !== 'string' ||
      typeof (provider as { complete?: unknown }).complete !== 'function'
    ) {
      throw invalidArgument(parameter, 'a provider { name: string, complete(request) }', provider);
    }
  };
  // An indexed loop: forEach would skip the holes of a sparse array.
  if (Array.isArray(providers))
    for (let i = 0; i < providers.length; i++) check(providers[i], `providers[${i}]`);
  else optionalRecord(providers, 'providers', check);
}

function checkConcurrency(concurrency: unknown): void {
  if (typeof concurrency === 'number') {
    optionalInteger(concurrency, 'concurrency', 1, { infinity: true });
    return;
  }
  const c = optionsObject(concurrency, 'concurrency');
  optionalInteger(c.run, 'concurrency.run', 1, { infinity: true });
  optionalInteger(c.engine, 'concurrency.engine', 1, { infinity: true });
  if (typeof c.providers === 'number')
    optionalInteger(c.providers, 'concurrency.providers', 1, { infinity: true });
  else {
    optionalRecord(c.providers, 'concurrency.providers', (cap, parameter) =>
      optionalInteger(cap, parameter, 1, { infinity: true }),
    );
  }
}

function checkLimits(limits: unknown): void {
  const l = optionsObject(limits, 'limits');
  optionalInteger(l.maxLoopIterations, 'limits.maxLoopIterations', 1, { infinity: true });
  optionalInteger(l.loopConcurrency, 'limits.loopConcurrency', 1, { infinity: true });
  optionalNumber(l.cancelGraceMs, 'limits.cancelGraceMs', 0);
  optionalNumber(l.maxCredits, 'limits.maxCredits', 0, { infinity: true });
  optionalNumber(l.stepTimeoutMs, 'limits.stepTimeoutMs', 1);
  optionalNumber(l.httpTimeoutMs, 'limits.httpTimeoutMs', 1);
  optionalInteger(l.maxSteps, 'limits.maxSteps', 1, { infinity: true });
  optionalInteger(l.maxWorkflowDepth, 'limits.maxWorkflowDepth', 1, { infinity: true });
  optionalNumber(l.journalTimeoutMs, 'limits.journalTimeoutMs', 1, { infinity: true });
  const e = optionsObject(l.expression, 'limits.expression');
  optionalNumber(e.timeoutMs, 'limits.expression.timeoutMs', 1);
  optionalInteger(e.maxDepth, 'limits.expression.maxDepth', 1);
  optionalInteger(e.maxSequence, 'limits.expression.maxSequence', 1);
  optionalInteger(e.maxStringLength, 'limits.expression.maxStringLength', 1);
  optionalInteger(e.maxMemoryBytes, 'limits.expression.maxMemoryBytes', 1);
  optionalInteger(e.maxResultChars, 'limits.expression.maxResultChars', 1);
  optionalNumber(e.inlineBudgetMs, 'limits.expression.inlineBudgetMs', 0);
  optionalInteger(e.maxLogEntries, 'limits.expression.maxLogEntries', 0);
  optionalInteger(e.maxLogChars, 'limits.expression.maxLogChars', 0);
}

/** The start options that are ids (a string or null). */
const ID_FIELDS = [
  'app_id',
  'workflow_app_id',
  'workflow_id',
  'collection_id',
  'record_id',
  'replay_of',
] as const;

/** What `RunExecution` may receive besides the public options (engine.ts adds it for child runs). */
type CheckedStartOptions = StartOptions;

/**
 * Checks `engine.start(document, options)`'s options against the compiled plan and returns the copy the
 * run keeps.
 */
export function checkStartOptions(plan: Plan, options: unknown): CheckedStartOptions {
  // No options (`engine.run(doc)`): nothing to read, and no closure to read it in (W2: per-run cost).
  if (options === undefined) return {};
  return readingArguments('options', () => {
    if (options !== undefined && !isPlainObject(options))
      throw invalidArgument('options', 'an object', options);
    const o = (options ?? {}) as Record<string, unknown>;
    const out: CheckedStartOptions = {};
    if (o.input !== undefined) {
      // File fields given as bytes become JSON first (input/files.ts); other binary data is INVALID_INPUT.
      // The registry's copy is kept as it is (it made it with the same function): one copy per run.
      out.input = ownRunInput(plan.document, o.input);
    }
    if (o.variables !== undefined) out.variables = checkVariables(o.variables, 'variables');
    if (o.from_step_key !== undefined) {
      if (typeof o.from_step_key !== 'string' || !plan.byKey.has(o.from_step_key)) {
        const keys = [...plan.byKey.keys()];
        throw new WeftError(
          ERROR_CODES.INVALID_ARGUMENT,
          `Expected \`from_step_key\` to name a runnable step of the version, got ${describe(o.from_step_key)}. ` +
            `Steps: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', …' : ''}.`,
          { details: { parameter: 'from_step_key' } },
        );
      }
      out.from_step_key = o.from_step_key;
    }
    optionalSignal(o.signal, 'signal');
    if (o.signal !== undefined) out.signal = o.signal as AbortSignal;
    optionalOneOf(o.origin, 'origin', RUN_ORIGINS);
    if (o.origin !== undefined) out.origin = o.origin as StartOptions['origin'] & string;
    for (let f = 0; f < ID_FIELDS.length; f++) {
      const field = ID_FIELDS[f]!;
      nullableString(o[field], field);
      if (o[field] !== undefined) out[field] = o[field] as string | null;
    }
    if (o.version !== undefined && o.version !== null) optionalInteger(o.version, 'version', 0);
    if (o.version !== undefined) out.version = o.version as number | null;
    if (o.retention !== undefined) {
      normalizeRetention(o.retention as never);
      out.retention = o.retention as StartOptions['retention'];
    }
    optionalBoolean(o.draft, 'draft');
    if (o.draft !== undefined) out.draft = o.draft as boolean;
    optionalBoolean(o.check_input, 'check_input');
    if (o.check_input !== undefined) out.check_input = o.check_input as boolean;
    optionalNonEmptyString(o.id, 'id');
    if (o.id !== undefined) out.id = o.id as string;
    if (o.preset !== undefined) out.preset = checkPreset(plan, o.preset);
    if (o.journal !== undefined) {
      if (o.journal !== null) checkJournalSink(o.journal, 'journal');
      out.journal = o.journal as StartOptions['journal'];
    }
    return out;
  });
}

const FINAL_STATUSES: readonly string[] = STEP_STATUSES.filter((s) => s !== 'PENDING' && s !== 'RUNNING');

/** Replay records: each names a step of the plan and has the shape of a settled step record. */
function checkPreset(plan: Plan, preset: unknown): Record<string, StepRecord> {
  if (!isPlainObject(preset))
    throw invalidArgument('preset', 'an object of step records by step key', preset);
  const copy = checkedCopy(preset, 'preset') as Record<string, unknown>;
  for (const key of Object.keys(copy)) {
    const at = `preset.${key}`;
    if (!plan.byKey.has(key)) throw invalidArgument(at, 'the record of a step of the version', key);
    const record = copy[key];
    if (!isPlainObject(record)) throw invalidArgument(at, 'a step record { status, output, … }', record);
    optionalOneOf(record.status ?? null, `${at}.status`, FINAL_STATUSES);
    optionalInteger(record.attempts, `${at}.attempts`, 0);
    if (record.logs !== undefined && !Array.isArray(record.logs))
      throw invalidArgument(`${at}.logs`, 'an array', record.logs);
    const calls = record.calls;
    if (calls !== undefined) {
      if (!Array.isArray(calls)) throw invalidArgument(`${at}.calls`, 'an array of usage calls', calls);
      for (let i = 0; i < calls.length; i++) {
        const call = calls[i];
        if (!isPlainObject(call) || typeof call.id !== 'string') {
          throw invalidArgument(`${at}.calls[${i}]`, 'a usage call { id: string, total: number }', call);
        }
      }
    }
    const iterations = record.iterations;
    if (iterations !== undefined && !(isPlainObject(iterations) && Array.isArray(iterations.errors))) {
      throw invalidArgument(`${at}.iterations`, '{ count, errors: [...] }', iterations);
    }
  }
  return copy as Record<string, StepRecord>;
}

/** A journal sink: `{ append(entries) }` (run/journal.ts). */
export function checkJournalSink(sink: unknown, parameter: string): void {
  if (
    sink === null ||
    typeof sink !== 'object' ||
    typeof (sink as { append?: unknown }).append !== 'function'
  ) {
    throw invalidArgument(parameter, 'a journal sink { append(entries) }', sink);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
