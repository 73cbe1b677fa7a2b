/**
 * Progress of a run: on a terminal one live line per step (log-update), elsewhere one plain line per
 * event. Both read the run handle's events; the final frame is rebuilt from the finished run.
 */
import type { ErrorRecord, Run, RunHandle, SkipReason } from '@weft/core';
import { createLogUpdate } from 'log-update';
import { type Colors, duration, short, writeLine } from './output.js';

type ViewStatus = 'PENDING' | 'RUNNING' | 'RETRYING' | 'COMPLETED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';

export interface StepView {
  key: string;
  type: string;
  isLoop: boolean;
  status: ViewStatus;
  startedAt: number | null;
  endedAt: number | null;
  attempt: number;
  loop: { count: number | null; completed: number; failed: number; cancelled: number } | null;
  detail: string;
}

const SKIP_TEXT: Record<SkipReason, string> = {
  not_reached: 'not on the path taken',
  conditional: 'conditional is false',
  run_stopped: 'run stopped',
};

export function skipText(reason: SkipReason | string | undefined): string {
  return reason === undefined ? '' : (SKIP_TEXT[reason as SkipReason] ?? reason);
}

function errorText(error: ErrorRecord | null | undefined): string {
  return error == null ? '' : `${error.code}: ${error.message}`;
}

/** The state of every runnable step, updated from events. */
export class RunView {
  readonly steps: StepView[];
  readonly #byKey = new Map<string, StepView>();
  readonly startedAt = Date.now();
  endedAt: number | null = null;

  constructor(document: Record<string, unknown>) {
    const steps = Array.isArray(document.steps) ? document.steps : [];
    this.steps = [];
    for (const step of steps) {
      if (step === null || typeof step !== 'object') continue;
      const { key, type, loop } = step as Record<string, unknown>;
      if (typeof key !== 'string' || typeof type !== 'string' || type === 'note' || this.#byKey.has(key))
        continue;
      const isLoop = typeof loop === 'string' && loop.trim() !== '';
      const view: StepView = {
        key,
        type,
        isLoop,
        status: 'PENDING',
        startedAt: null,
        endedAt: null,
        attempt: 0,
        loop: isLoop ? { count: null, completed: 0, failed: 0, cancelled: 0 } : null,
        detail: '',
      };
      this.steps.push(view);
      this.#byKey.set(key, view);
    }
  }

  get(key: string): StepView | undefined {
    return this.#byKey.get(key);
  }

  /** Subscribes to the handle; `onChange` is told the step that changed and a plain description. */
  attach(handle: RunHandle, onChange: (step: StepView, line: string) => void = () => {}): void {
    const now = () => Date.now();
    handle.on('step.started', (e) => {
      const s = this.get(e.step_key);
      if (s === undefined) return;
      s.status = 'RUNNING';
      s.startedAt ??= now();
      s.attempt = e.attempt;
      onChange(s, `▸ ${s.key} (${s.type}) started${s.isLoop ? ' (loop)' : ''}`);
    });
    handle.on('step.retrying', (e) => {
      const s = this.get(e.step_key);
      if (s === undefined) return;
      if (!s.isLoop) s.status = 'RETRYING';
      s.attempt = e.attempt;
      s.detail = `retry ${e.attempt} in ${duration(e.delay_ms)}: ${short(e.error.message, 60)}`;
      const at = e.index === undefined ? '' : ` item ${e.index}`;
      onChange(
        s,
        `↻ ${s.key}${at} retrying (attempt ${e.attempt} in ${duration(e.delay_ms)}): ${e.error.message}`,
      );
      if (!s.isLoop) {
        setTimeout(() => {
          if (s.status === 'RETRYING') s.status = 'RUNNING';
        }, e.delay_ms).unref();
      }
    });
    handle.on('loop.iteration', (e) => {
      const s = this.get(e.step_key);
      if (s?.loop == null) return;
      s.loop.count = e.count;
      if (e.status === 'COMPLETED') s.loop.completed++;
      else if (e.status === 'FAILED') s.loop.failed++;
      else s.loop.cancelled++;
      const done = s.loop.completed + s.loop.failed + s.loop.cancelled;
      const why = e.error === undefined ? '' : `: ${errorText(e.error)}`;
      onChange(s, `  ${s.key} [${done}/${e.count}] item ${e.index} ${e.status.toLowerCase()}${why}`);
    });
    handle.on('step.completed', (e) => {
      const s = this.get(e.step_key);
      if (s === undefined) return;
      s.status = 'COMPLETED';
      s.endedAt = now();
      s.detail = completedDetail(s, e.output);
      onChange(
        s,
        `✔ ${s.key} completed in ${duration(s.endedAt - (s.startedAt ?? s.endedAt))}${s.detail === '' ? '' : ` (${s.detail})`}`,
      );
    });
    handle.on('step.failed', (e) => {
      const s = this.get(e.step_key);
      if (s === undefined) return;
      s.status = 'FAILED';
      s.endedAt = now();
      s.detail = errorText(e.error);
      onChange(s, `✖ ${s.key} failed after ${duration(s.endedAt - (s.startedAt ?? s.endedAt))}: ${s.detail}`);
    });
    handle.on('step.skipped', (e) => {
      const s = this.get(e.step_key);
      if (s === undefined) return;
      s.status = 'SKIPPED';
      s.detail = skipText(e.reason);
      onChange(s, `○ ${s.key} skipped (${s.detail})`);
    });
    handle.on('step.cancelled', (e) => {
      const s = this.get(e.step_key);
      if (s === undefined) return;
      s.status = 'CANCELLED';
      s.endedAt = now();
      s.detail = e.reason;
      onChange(s, `⊘ ${s.key} cancelled (${e.reason})`);
    });
  }

  /** Settles every step from the finished run's records (exact statuses, whatever events were seen). */
  finish(run: Run): void {
    this.endedAt = Date.now();
    for (const s of this.steps) {
      const record = run.output[s.key];
      if (record === undefined) continue;
      s.status = record.status;
      if (record.start !== null && record.end !== null) {
        const start = Date.parse(record.start);
        const end = Date.parse(record.end);
        if (Number.isFinite(start) && Number.isFinite(end)) {
          s.startedAt = start;
          s.endedAt = end;
        }
      }
      if (record.status === 'SKIPPED') s.detail = skipText(record.skip_reason);
      else if (record.status === 'FAILED') s.detail = errorText(record.error);
      else if (record.status === 'CANCELLED') s.detail = record.error?.message ?? s.detail;
      else if (record.status === 'COMPLETED') s.detail = completedDetail(s, record.output);
      if (s.loop !== null && record.iterations !== undefined) {
        s.loop.count = record.iterations.count;
        s.loop.failed = record.iterations.errors.length;
        if (record.status === 'COMPLETED') s.loop.completed = record.iterations.count - s.loop.failed;
      }
    }
  }
}

function completedDetail(s: StepView, output: unknown): string {
  if (s.type === 'branch' && output !== null && typeof output === 'object') {
    const selected = (output as { selected?: unknown }).selected;
    if (typeof selected === 'string') return `→ ${selected}`;
  }
  return '';
}

export interface Progress {
  start(handle: RunHandle): void;
  /** A line for the user (e.g. "Cancelling…"). */
  note(message: string): void;
  stop(run: Run): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The live view on a terminal: one line per step, redrawn in place by log-update. */
export class LiveProgress implements Progress {
  readonly #view: RunView;
  readonly #c: Colors;
  readonly #log: ReturnType<typeof createLogUpdate>;
  readonly #rows: () => number;
  #timer: NodeJS.Timeout | null = null;
  #frame = 0;
  #note = '';

  constructor(view: RunView, stream: NodeJS.WriteStream, colors: Colors) {
    this.#view = view;
    this.#c = colors;
    this.#log = createLogUpdate(stream);
    // The live frame must fit the terminal, or it could not be redrawn in place.
    this.#rows = () => Math.max(5, (stream.rows ?? 24) - 1);
  }

  start(handle: RunHandle): void {
    this.#view.attach(handle);
    this.#timer = setInterval(() => this.#render(), 80);
    this.#render();
  }

  note(message: string): void {
    this.#note = message;
    this.#render();
  }

  stop(run: Run): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#view.finish(run);
    this.#note = '';
    this.#render(true);
    this.#log.done();
  }

  #render(final = false): void {
    this.#frame = (this.#frame + 1) % SPINNER.length;
    const rows = this.#rows();
    this.#log(renderFrame(this.#view, this.#c, SPINNER[this.#frame]!, final, this.#note, rows));
  }
}

/** The live frame: pure, so it can be tested. */
export function renderFrame(
  view: RunView,
  c: Colors,
  spinner: string,
  final: boolean,
  note = '',
  maxLines = Number.POSITIVE_INFINITY,
): string {
  const now = Date.now();
  const keyWidth = Math.min(28, Math.max(4, ...view.steps.map((s) => s.key.length)));
  const typeWidth = Math.min(14, Math.max(4, ...view.steps.map((s) => s.type.length)));
  const lines: string[] = [];
  const { shown, folded, more } = visibleSteps(view.steps, final ? Number.POSITIVE_INFINITY : maxLines - 2);
  if (folded !== null) {
    lines.push(
      `${c.green('✔')} ${c.dim(`${folded.completed} completed · ${folded.skipped} skipped (folded)`)}`,
    );
  }
  for (const s of shown) {
    const icon = iconOf(s.status, c, spinner);
    const key = s.key.length > keyWidth ? `${s.key.slice(0, keyWidth - 1)}…` : s.key.padEnd(keyWidth);
    const statusWord = colorStatus(s.status, c, s.status.toLowerCase().padEnd(9));
    const parts: string[] = [];
    if (s.loop !== null && s.loop.count !== null) {
      const done = s.loop.completed + s.loop.failed + s.loop.cancelled;
      parts.push(
        `${done}/${s.loop.count} items${s.loop.failed > 0 ? c.red(` (${s.loop.failed} failed)`) : ''}`,
      );
    }
    if (s.detail !== '') parts.push(s.status === 'FAILED' ? c.red(short(s.detail, 70)) : short(s.detail, 70));
    let elapsed = '';
    if (s.startedAt !== null && s.status !== 'SKIPPED' && s.status !== 'PENDING') {
      elapsed = duration((s.endedAt ?? now) - s.startedAt);
    }
    const line = `${icon} ${c.bold(key)}  ${c.dim(s.type.padEnd(typeWidth))}  ${statusWord} ${c.dim(elapsed.padStart(6))}`;
    lines.push(parts.length > 0 ? `${line}  ${parts.join(' · ')}` : line);
  }
  if (more > 0) lines.push(c.dim(`… ${more} more`));
  if (!final) {
    const settled = view.steps.filter(
      (s) => s.status !== 'PENDING' && s.status !== 'RUNNING' && s.status !== 'RETRYING',
    ).length;
    const footer = `${c.cyan(spinner)} ${settled}/${view.steps.length} steps settled · ${duration(now - view.startedAt)}`;
    lines.push('', note === '' ? c.dim(footer) : `${c.dim(footer)}  ${c.yellow(note)}`);
  }
  return lines.join('\n');
}

/**
 * The steps shown in a live frame of at most `room` lines: all of them when they fit; otherwise the
 * completed and skipped steps from the top are folded into one line, and the steps that still do not fit
 * at the bottom are counted in another.
 */
export function visibleSteps(
  steps: readonly StepView[],
  room: number,
): { shown: StepView[]; folded: { completed: number; skipped: number } | null; more: number } {
  if (steps.length <= room) return { shown: [...steps], folded: null, more: 0 };
  const budget = Math.max(1, room - 2);
  const shown = [...steps];
  let completed = 0;
  let skipped = 0;
  for (let i = 0; i < shown.length && shown.length > budget; ) {
    const status = shown[i]!.status;
    if (status === 'COMPLETED' || status === 'SKIPPED') {
      if (status === 'COMPLETED') completed++;
      else skipped++;
      shown.splice(i, 1);
    } else i++;
  }
  const more = Math.max(0, shown.length - budget);
  shown.length -= more;
  return { shown, folded: completed + skipped > 0 ? { completed, skipped } : null, more };
}

function iconOf(status: ViewStatus, c: Colors, spinner: string): string {
  switch (status) {
    case 'PENDING':
      return c.dim('·');
    case 'RUNNING':
      return c.cyan(spinner);
    case 'RETRYING':
      return c.yellow('↻');
    case 'COMPLETED':
      return c.green('✔');
    case 'FAILED':
      return c.red('✖');
    case 'SKIPPED':
      return c.dim('○');
    case 'CANCELLED':
      return c.yellow('⊘');
  }
}

function colorStatus(status: ViewStatus, c: Colors, text: string): string {
  switch (status) {
    case 'COMPLETED':
      return c.green(text);
    case 'FAILED':
      return c.red(text);
    case 'RUNNING':
      return c.cyan(text);
    case 'RETRYING':
    case 'CANCELLED':
      return c.yellow(text);
    default:
      return c.dim(text);
  }
}

/** Without a terminal: one plain line per step event. */
export class PlainProgress implements Progress {
  readonly #view: RunView;
  readonly #stream: NodeJS.WritableStream;

  constructor(view: RunView, stream: NodeJS.WritableStream) {
    this.#view = view;
    this.#stream = stream;
  }

  start(handle: RunHandle): void {
    this.#view.attach(handle, (_, line) => writeLine(this.#stream, line));
    handle.on('log', (e) => {
      if (e.level === 'warn' || e.level === 'error') {
        writeLine(
          this.#stream,
          `  ${e.level}${e.step_key === undefined ? '' : ` ${e.step_key}`}: ${e.message}`,
        );
      }
    });
  }

  note(message: string): void {
    writeLine(this.#stream, message);
  }

  stop(run: Run): void {
    this.#view.finish(run);
  }
}

/** No progress at all (`--json` prints events instead). */
export const silentProgress: Progress = { start() {}, note() {}, stop() {} };
