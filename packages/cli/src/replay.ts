/**
 * `weft run --from-run FILE`: a replay against a run exported by `weft run -o run` (the run object) or
 * `weft run --json` (its events: the run of the last `run.completed`/`run.failed`/`run.cancelled` line).
 * With `--from-step X`, the steps not downstream of X keep their recorded outputs (as the registry's
 * replay does); without it, the run is replayed whole with its input.
 */
import { downstreamKeys, type Run, type StepRecord, type VersionDocument } from '@weft/core';
import { CliError } from './errors.js';
import { isPlainObject, parseJson, readText } from './files.js';

const SETTLED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/** The run in a file of `weft run -o run` or `--json` output. */
export function readRunFile(file: string): Run {
  const text = readText(file, 'run file');
  const trimmed = text.trim();
  let run: unknown;
  if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
    run = parseJson(trimmed, file);
  } else {
    for (const line of trimmed.split('\n')) {
      if (line.trim() === '') continue;
      const event = parseJson(line, file) as Record<string, unknown>;
      if (typeof event.event === 'string' && event.event.startsWith('run.') && isPlainObject(event.run))
        run = event.run;
    }
  }
  if (!isPlainObject(run) || !isPlainObject(run.output) || typeof run.id !== 'string') {
    throw new CliError(
      `--from-run ${file}: expected a run — the output of \`weft run <file> -o run\`, or the events of \`weft run <file> --json\` (ending with run.completed, run.failed or run.cancelled).`,
    );
  }
  return run as unknown as Run;
}

/** The step records to keep when replaying `run` from `from` (every settled step not downstream of it). */
export function presetFor(
  document: VersionDocument,
  run: Run,
  from: string | undefined,
): Record<string, StepRecord> {
  if (from === undefined) return {};
  const downstream = downstreamKeys(document, from);
  const preset: Record<string, StepRecord> = {};
  for (const [key, record] of Object.entries(run.output)) {
    if (!downstream.has(key) && SETTLED.has(record.status)) preset[key] = record;
  }
  return preset;
}
