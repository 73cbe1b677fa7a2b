/**
 * `stream: true`: a run as server-sent events, the platform's way — `run` (the run object) first,
 * `step` (a step's record) each time a step changes, `chunk` (a model step's text as it arrives, in the
 * platform's partial-record form that its SDK merges), and a last `run` with the final run (the same
 * object `GET …/runs/{id}` answers), then the stream closes.
 *
 * The client going away does not cancel the run: it goes on, is stored, and can be read or cancelled
 * through the other routes.
 */
import type { RunHandle, RunRecord, VersionDocument, WeftEventName } from '@weft/core';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { errorBody } from './http-errors.js';
import { SseWriter } from './sse.js';
import { toWireRun, toWireStep } from './wire-runs.js';

export interface StreamOptions {
  maxBufferedBytes: number;
  heartbeatMs: number;
  /** Where a failure after the stream began is logged (it is also sent as an `error` event). */
  log: FastifyBaseLogger;
}

/** Step events after which the step's record has changed. */
const STEP_EVENTS = [
  'step.started',
  'step.retrying',
  'loop.iteration',
  'step.completed',
  'step.failed',
  'step.skipped',
  'step.cancelled',
] as const satisfies readonly WeftEventName[];

/** The model name of each model step (the platform's chunks carry it; its SDK keys on it). */
function modelNames(document: VersionDocument | null): Map<string, string> {
  const names = new Map<string, string>();
  for (const step of document?.steps ?? []) {
    const s = step as {
      type?: unknown;
      key?: unknown;
      provider?: { model?: unknown };
      auto?: { model?: unknown };
    };
    if (s.type !== 'model' || typeof s.key !== 'string') continue;
    const model = s.provider?.model ?? s.auto?.model;
    names.set(s.key, typeof model === 'string' && model !== '' ? model : 'model');
  }
  return names;
}

function subscribe(handle: RunHandle, sse: SseWriter): () => void {
  const snapshot = handle.snapshot();
  const models = modelNames(snapshot.workflow_version ?? snapshot.workflow_version_draft);
  const onStep = (e: { step_key: string }) => {
    const record = handle.snapshot().output[e.step_key];
    if (record !== undefined) sse.send('step', toWireStep(record), e.step_key);
  };
  const onDelta = (e: { step_key: string; delta: string; index?: number; tool_call?: unknown }) => {
    const output: Record<string, unknown> = { model: models.get(e.step_key) ?? 'model', message: e.delta };
    if (e.index !== undefined) output.index = e.index;
    // A fragment of a streamed tool call (issue 15): `message` is empty, the fragment is beside it.
    if (e.tool_call !== undefined) output.tool_call = e.tool_call;
    sse.send('chunk', { key: e.step_key, type: 'model', status: 'RUNNING', output }, e.step_key, e.index);
  };
  for (const event of STEP_EVENTS) handle.on(event, onStep);
  handle.on('model.delta', onDelta);
  return () => {
    for (const event of STEP_EVENTS) handle.off(event, onStep);
    handle.off('model.delta', onDelta);
  };
}

/**
 * Starts a run through `start` (which passes `onStart` to the registry) and streams it on `reply`.
 * Errors before the run exists (not found, invalid input…) propagate: they are answered as JSON.
 */
export async function streamRun(
  reply: FastifyReply,
  start: (onStart: (handle: RunHandle) => void) => Promise<RunRecord>,
  options: StreamOptions,
): Promise<void> {
  let sse: SseWriter | null = null;
  let unsubscribe: () => void = () => {};
  const onStart = (handle: RunHandle) => {
    reply.hijack();
    const writer = new SseWriter(reply.raw, {
      maxBufferedBytes: options.maxBufferedBytes,
      heartbeatMs: options.heartbeatMs,
      onClose: () => unsubscribe(),
    });
    sse = writer;
    writer.start({ 'x-weft-run-id': handle.id });
    writer.send('run', toWireRun(handle.snapshot()));
    // A client already gone gets no listeners (the run goes on without it).
    if (writer.open) unsubscribe = subscribe(handle, writer);
  };
  let final: RunRecord;
  try {
    final = await start(onStart);
  } catch (error) {
    const writer = sse as SseWriter | null;
    if (writer === null) throw error;
    unsubscribe();
    const { body, internal } = errorBody(error);
    if (internal) options.log.error({ err: error }, 'a streamed run failed after it started');
    writer.send('error', body);
    writer.end();
    return;
  }
  const writer = sse as SseWriter | null;
  if (writer === null) return;
  unsubscribe();
  writer.send('run', toWireRun(final));
  writer.end();
}
