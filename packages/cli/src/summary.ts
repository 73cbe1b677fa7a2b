/** What `weft run` prints when the run has ended. */
import type { Run, UsageCall } from '@weft/core';
import wrapAnsi from 'wrap-ansi';
import type { OutputMode } from './choices.js';
import { type Colors, duration } from './output.js';

export type { OutputMode } from './choices.js';

/** Model calls and tokens of a usage tree (sub-workflow calls included). */
export function usageTotals(calls: readonly UsageCall[]): { calls: number; tokens: number } {
  let count = 0;
  let tokens = 0;
  const walk = (list: readonly UsageCall[]) => {
    for (const call of list) {
      if (typeof call.input_tokens === 'number' || typeof call.output_tokens === 'number') {
        count++;
        tokens += (Number(call.input_tokens) || 0) + (Number(call.output_tokens) || 0);
      }
      if (Array.isArray(call.calls)) walk(call.calls);
    }
  };
  walk(calls);
  return { calls: count, tokens };
}

export function runMs(run: Run): number | null {
  if (run.started_at === null || run.ended_at === null) return null;
  return Date.parse(run.ended_at) - Date.parse(run.started_at);
}

/** Where to look when a run fails for want of a handler (the CLI can load them). */
const HINTS: Record<string, string> = {
  HANDLER_NOT_FOUND:
    'hint: load host step handlers with --plugin ./handlers.mjs (export const steps = { my_type: async (ctx) => … }).',
  SERVICE_NOT_CONFIGURED:
    'hint: load services with --plugin ./handlers.mjs (export const services = { TYPE: { ACTION: async (ctx) => … } }).',
};

/** `✔ COMPLETED in 1.9s · 3 model calls · 1,204 tokens · 0.00041 credits` */
export function statusLine(run: Run, c: Colors, dryRun: boolean): string {
  const ms = runMs(run);
  const parts: string[] = [];
  const icon =
    run.status === 'COMPLETED' ? c.green('✔') : run.status === 'FAILED' ? c.red('✖') : c.yellow('⊘');
  const status =
    run.status === 'COMPLETED'
      ? c.green(c.bold(run.status))
      : run.status === 'FAILED'
        ? c.red(c.bold(run.status))
        : c.yellow(c.bold(run.status));
  parts.push(`${icon} ${status}${ms === null ? '' : ` in ${duration(ms)}`}`);
  const totals = usageTotals(run.usage.calls);
  if (totals.calls > 0) {
    parts.push(`${totals.calls} model call${totals.calls === 1 ? '' : 's'}`);
    parts.push(`${totals.tokens.toLocaleString('en-US')} tokens${dryRun ? ' (estimated)' : ''}`);
  }
  if (run.usage.total > 0) parts.push(`${Number(run.usage.total.toPrecision(3))} credits`);
  return parts.join(c.dim(' · '));
}

/** The run as `--output` says: the human summary and result, the result as JSON, or the whole run. */
export function renderRun(
  run: Run,
  mode: OutputMode,
  c: Colors,
  dryRun: boolean,
  columns = Number.POSITIVE_INFINITY,
): string {
  if (mode === 'run') return JSON.stringify(run, null, 2);
  if (mode === 'json') return JSON.stringify(run.result ?? null, null, 2);
  const lines = [statusLine(run, c, dryRun)];
  if (run.error !== null) {
    const at = run.error.step_key === undefined ? '' : ` (step ${run.error.step_key})`;
    lines.push(`${c.red(run.error.code)}${at}: ${run.error.message}`);
    const hint = HINTS[run.error.code];
    if (hint !== undefined) lines.push(c.dim(hint));
  }
  const codeCompleted = Object.values(run.output).some((r) => r.type === 'code' && r.status === 'COMPLETED');
  const result = run.result ?? null;
  if (!codeCompleted && (result === null || run.status !== 'COMPLETED')) {
    lines.push(c.dim('no result (no code step completed)'));
  } else if (run.status !== 'COMPLETED') {
    // A failed or cancelled run: what its last completed code step gave, clearly not a final result.
    lines.push(c.dim('result so far (the run did not complete):'), humanValue(result, c, columns));
  } else {
    lines.push(
      c.dim(codeCompleted ? 'result:' : 'result (no code step completed: the last completed step’s output):'),
      humanValue(result, c, columns),
    );
  }
  return lines.join('\n');
}

/**
 * A result for people: an object's fields one per line, aligned, strings as they are (multi-line ones
 * indented under their key), anything else as JSON. `--output json` gives the exact JSON.
 */
export function humanValue(value: unknown, c: Colors, columns = Number.POSITIVE_INFINITY): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return indent(wrap(jsonOrText(value), columns - 2), '  ');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '  {}';
  const width = Math.min(24, Math.max(...entries.map(([k]) => k.length)));
  return entries
    .map(([key, v]) => {
      const pad = ' '.repeat(width + 4);
      const text = indent(wrap(jsonOrText(v), columns - pad.length), pad).slice(pad.length);
      return `  ${c.cyan(key.padEnd(width))}  ${text}`;
    })
    .join('\n');
}

function jsonOrText(value: unknown): string {
  if (typeof value === 'string') return value;
  const compact = JSON.stringify(value) ?? 'null';
  return compact.length <= 80 ? compact : JSON.stringify(value, null, 2);
}

/** Word-wraps text to `columns` (a terminal's width; no wrapping when it is unknown or too narrow). */
function wrap(text: string, columns: number): string {
  if (!Number.isFinite(columns) || columns < 20) return text;
  return wrapAnsi(text, columns, { hard: true, trim: false });
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : pad + line))
    .join('\n');
}
