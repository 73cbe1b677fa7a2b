/**
 * A cancel's reason, as a run records it (its `error.message`, code CANCELLED): the caller's text,
 * bounded. One function for every way in — `handle.cancel(reason)`, `runs.cancel(id, reason)`, a
 * `signal`'s reason (in-process or through a client) — so a run records the same text wherever it runs.
 */
import { ERROR_CODES } from '../errors.js';

/** A reason is kept to this many characters (UTF-16 code units): longer ones end with "…". */
export const MAX_CANCEL_REASON_LENGTH = 1_000;

/** The reason a cancel without one records. */
export const DEFAULT_CANCEL_REASON = 'Cancelled by the caller.';

/** `text` kept to MAX_CANCEL_REASON_LENGTH characters: cut, with "…", never in the middle of a surrogate pair. */
export function boundCancelReason(text: string): string {
  if (text.length <= MAX_CANCEL_REASON_LENGTH) return text;
  let end = MAX_CANCEL_REASON_LENGTH - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate whose pair would be cut off
  return `${text.slice(0, end)}…`;
}

/**
 * The reason an aborted signal gives (its `reason`, of any type): an Error's message, a string, else
 * `fallback`. Hostile values (a Proxy whose traps throw, a `message` getter that throws or is not a
 * string) give `fallback`: reading a reason never throws.
 */
export function cancelReasonOf(reason: unknown, fallback = DEFAULT_CANCEL_REASON): string {
  let text: unknown = fallback;
  try {
    if (typeof reason === 'string') text = reason;
    else if (reason instanceof Error) text = reason.message;
  } catch {
    text = fallback;
  }
  return boundCancelReason(typeof text === 'string' ? text : fallback);
}

/**
 * The reason a cancel's error record holds (`{ code: "CANCELLED", message }`, as a run records it, or as
 * another process wrote it on a run's row), bounded; null for anything else. Read as hostile (a row
 * comes from outside): a non-object, another code, a message that is not a string give null.
 */
export function reasonOfCancelError(error: unknown): string | null {
  if (error === null || typeof error !== 'object') return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === ERROR_CODES.CANCELLED && typeof message === 'string' ? boundCancelReason(message) : null;
}
