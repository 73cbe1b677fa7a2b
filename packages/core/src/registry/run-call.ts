/**
 * What a call that starts a run (`runs.run`, `discover.run`, `runs.replay`) takes from its caller, taken
 * when it is called, before any await (docs/api.md, "The run input is the run's own"): the run input
 * copied (captureRunInput), and every option read once and checked. What the caller does to its objects
 * once the call has returned its promise changes nothing in the run, and a wrong argument is
 * INVALID_ARGUMENT before anything is looked up (NOT_FOUND, FORBIDDEN, CONFLICT come after).
 */
import {
  nullableString,
  optionalBoolean,
  optionalFunction,
  optionalOneOf,
  optionalSignal,
} from '../arguments.js';
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';
import { type CapturedRunInput, captureRunInput } from '../input/files.js';
import type { RunHandle } from '../run/handle.js';
import { normalizeRetention } from '../run/retention.js';
import { type Retention, RUN_ORIGINS, type RunOrigin } from '../run/types.js';
import type { VersionRef } from './client.js';
import type { RegistryContext } from './context.js';
import { checkOptions, refuseUnsupported, STREAM_OPTION } from './errors.js';
import { refuseOnClient } from './start.js';

/** The options every run-starting call shares, as the call found them. */
interface CallOptions {
  /** Normalized: null is "the default" (the workflow's, or the original run's for a replay). */
  retention: Retention | null | undefined;
  origin: RunOrigin | undefined;
  background: boolean;
  signal: AbortSignal | undefined;
  onStart: ((handle: RunHandle) => void) | undefined;
}

/** `runs.run` / `discover.run`. */
export interface RunCall extends CallOptions {
  version: VersionRef | undefined;
  /** The run input, captured; undefined when none was given (the run's input is then `{}`). */
  input: CapturedRunInput | undefined;
  from_step_key: string | undefined;
  collection_id: string | null | undefined;
  record_id: string | null | undefined;
}

/** `runs.replay`: `from_step_key` is the step to replay from (or the platform's `stepKey`). */
export interface ReplayCall extends CallOptions {
  from_step_key: string | undefined;
}

/** A non-empty string id argument (`workflowId`, `runId`), checked before the options, in argument order. */
export function checkIdArgument(value: unknown, parameter: string): asserts value is string {
  if (typeof value !== 'string' || value === '')
    throw invalidArgument(parameter, 'a non-empty string', value);
}

/**
 * `runs.run(workflowId, options)` and `discover.run`: the options object (INVALID_ARGUMENT `input` if it
 * is not one), `stream`, the run input, then each option in the order of RunWorkflowInput.
 */
export function takeRunCall(ctx: RegistryContext, options: unknown): RunCall {
  const o = optionsOf(options);
  const version = read(o, 'version');
  checkVersion(version);
  const input = read(o, 'input');
  const captured = input === undefined ? undefined : captureRunInput(input);
  const from = read(o, 'from_step_key');
  if (from !== undefined && (typeof from !== 'string' || from === '')) {
    throw invalidArgument('from_step_key', 'a step key (a non-empty string)', from);
  }
  const common = callOptions(o);
  const collection = read(o, 'collection_id');
  nullableString(collection, 'collection_id');
  const record = read(o, 'record_id');
  nullableString(record, 'record_id');
  if (ctx.enqueue) refuseOnClient({ from_step_key: from, onStart: common.onStart });
  // One literal with every field, not a spread of `common`: the spread built this object in a slow
  // shape, and every read of it was slow after (~4% of a W10 run, measured with w10-probe's profile).
  return {
    retention: common.retention,
    origin: common.origin,
    background: common.background,
    signal: common.signal,
    onStart: common.onStart,
    version: version as VersionRef | undefined,
    input: captured,
    from_step_key: from as string | undefined,
    collection_id: collection as string | null | undefined,
    record_id: record as string | null | undefined,
  };
}

/** `runs.replay(runId, options)`: the options object, `stream`, the step to replay from, then the rest. */
export function takeReplayCall(ctx: RegistryContext, options: unknown): ReplayCall {
  const o = optionsOf(options);
  const from = replayStepKey(read(o, 'from_step_key'), read(o, 'stepKey'));
  const common = callOptions(o);
  if (ctx.enqueue) refuseOnClient({ from_step_key: from, onStart: common.onStart });
  return {
    retention: common.retention,
    origin: common.origin,
    background: common.background,
    signal: common.signal,
    onStart: common.onStart,
    from_step_key: from,
  };
}

function optionsOf(options: unknown): Record<string, unknown> {
  checkOptions(options, 'input');
  const o = (options ?? {}) as Record<string, unknown>;
  guarded('stream', () => refuseUnsupported(o, STREAM_OPTION));
  return o;
}

/** `options[name]`, read once; a getter or Proxy trap that throws is INVALID_ARGUMENT naming it. */
function read(options: Record<string, unknown>, name: string): unknown {
  return guarded(name, () => options[name]);
}

function guarded<T>(parameter: string, get: () => T): T {
  try {
    return get();
  } catch (error) {
    if (error instanceof WeftError) throw error;
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`${parameter}\` to be readable, but reading it threw (${error instanceof Error ? error.message : typeof error}).`,
      { details: { parameter } },
    );
  }
}

function callOptions(o: Record<string, unknown>): CallOptions {
  const retention = read(o, 'retention');
  const normalized = retention === undefined ? undefined : normalizeRetention(retention as never);
  const origin = read(o, 'origin');
  optionalOneOf(origin, 'origin', RUN_ORIGINS);
  const background = read(o, 'background');
  optionalBoolean(background, 'background');
  const signal = read(o, 'signal');
  optionalSignal(signal, 'signal');
  const onStart = read(o, 'onStart');
  optionalFunction(onStart, 'onStart', 'a function (handle) => void');
  return {
    retention: normalized,
    origin: origin as RunOrigin | undefined,
    background: background === true,
    signal: signal as AbortSignal | undefined,
    onStart: onStart as CallOptions['onStart'],
  };
}

/** As `publishedVersion` reads a reference (access.ts): the same errors, before the workflow is looked up. */
function checkVersion(ref: unknown): void {
  if (ref === undefined || ref === 'latest' || ref === 'draft') return;
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 1) throw invalidArgument('version', 'a version number ≥ 1', ref);
    return;
  }
  if (typeof ref !== 'string' || ref === '') {
    throw invalidArgument('version', '"latest", "draft", a version number or a version id', ref);
  }
}

/** `from_step_key`, or the platform's `stepKey`; both given and different is INVALID_ARGUMENT. */
function replayStepKey(weft: unknown, platform: unknown): string | undefined {
  for (const [name, value] of [
    ['from_step_key', weft],
    ['stepKey', platform],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw invalidArgument(name, 'a step key (a non-empty string)', value);
    }
  }
  if (weft !== undefined && platform !== undefined && weft !== platform) {
    throw new WeftError(
      ERROR_CODES.INVALID_ARGUMENT,
      `Expected \`from_step_key\` and \`stepKey\` to name the same step, got ${JSON.stringify(weft)} and ${JSON.stringify(platform)}. They are two names for the step to replay from: give one of them.`,
      { details: { parameter: 'stepKey' } },
    );
  }
  return (weft ?? platform) as string | undefined;
}
