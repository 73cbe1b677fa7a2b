/** Terminal helpers: colours per stream (picocolors), durations, short values. */
import pc from 'picocolors';
import prettyMs from 'pretty-ms';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours for `stream`: on for a terminal, off for pipes and files; NO_COLOR and FORCE_COLOR win. */
export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Colors {
  let enabled: boolean;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false;
  else if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') enabled = env.FORCE_COLOR !== '0';
  else enabled = stream.isTTY === true && env.TERM !== 'dumb';
  return pc.createColors(enabled);
}

/**
 * `850ms`, `1.2s`, `1m 59s`, `1h 2m`: pretty-ms, which carries minutes over correctly (a hand-written
 * version printed `1m 60s` for 119,600 ms). Tenths of a second under a minute, whole seconds above.
 */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const rounded = Math.round(ms);
  return prettyMs(rounded, { secondsDecimalDigits: rounded < 60_000 ? 1 : 0 });
}

/** One line of at most `max` characters for any value. */
export function short(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Writes a line to a stream. */
export function writeLine(stream: NodeJS.WritableStream, line = ''): void {
  stream.write(`${line}\n`);
}
