/**
 * Failures of PostgreSQL or of the connection to it, as `STORE_ERROR`: what failed, the cause
 * (`details.cause`: the SQLSTATE, such as `40P01`, or the socket's code, such as `ECONNREFUSED`), whether
 * retrying may help, and a hint. A connection string is never quoted: it may hold a password.
 */
import { ERROR_CODES, WeftError } from '@weft/core';

/** SQLSTATEs (and classes) after which the same call may succeed: connection, contention, shutdown. */
const RETRYABLE_STATES = new Set(['40001', '40P01', '55P03', '53300', '57014', '57P01', '57P02', '57P03']);
const RETRYABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/** node-postgres reports a lost or refused connection with a message and no code. */
const CONNECTION_MESSAGE =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Query read timeout|Client was closed/i;

function causeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  const message = error instanceof Error ? error.message : String(error);
  if (CONNECTION_MESSAGE.test(message)) return 'CONNECTION';
  return error instanceof SyntaxError ? 'CORRUPT_JSON' : 'UNKNOWN';
}

function hintOf(cause: string): string {
  if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND' || cause === 'EAI_AGAIN') {
    return ' Is PostgreSQL running, and are the host and port of the connection string right?';
  }
  if (cause === 'CONNECTION' || cause.startsWith('08') || RETRYABLE_SOCKET.has(cause)) {
    return ' The connection to PostgreSQL was lost or could not be made in time. A write cut off this way may or may not have committed: read before retrying (a journal append that did commit is refused with JOURNAL_CONFLICT when retried, never written twice).';
  }
  if (cause === '28P01' || cause === '28000') return ' Check the user and password of the connection string.';
  if (cause === '3D000') return ' Create the database first (CREATE DATABASE), or fix its name.';
  if (cause === '42501') {
    return ' The role needs the CREATE privilege on the database (to create the schema) and all privileges on the schema.';
  }
  if (cause === '40P01') return ' Two transactions waited on each other (a deadlock); retry.';
  if (cause === '57014')
    return ' A statement ran longer than statement_timeout; retry, or raise statementTimeoutMs.';
  if (cause === '53300')
    return ' PostgreSQL has no connection slot left: lower `max` here or raise max_connections.';
  if (cause === '22021' || cause === '22P05') {
    return ' A text value holds a character PostgreSQL cannot store (such as NUL, \\u0000).';
  }
  if (cause === 'CORRUPT_JSON') return ' A stored JSON value is corrupt.';
  return '';
}

export function storeError(error: unknown, operation: string, schema: string): WeftError {
  if (error instanceof WeftError) return error;
  const cause = causeOf(error);
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
  return new WeftError(
    ERROR_CODES.STORE_ERROR,
    `The PostgreSQL store (schema "${schema}") failed (${operation}): ${message}.${hintOf(cause)}`,
    {
      details: { schema, operation, cause },
      retryable:
        RETRYABLE_STATES.has(cause) ||
        RETRYABLE_SOCKET.has(cause) ||
        cause === 'CONNECTION' ||
        cause.startsWith('08'),
      cause: error,
    },
  );
}

export function closedError(operation: string, schema: string): WeftError {
  return new WeftError(
    ERROR_CODES.STORE_ERROR,
    `The PostgreSQL store (schema "${schema}") is closed (${operation}). Open a new one.`,
    { details: { schema, operation, cause: 'CLOSED' }, retryable: false },
  );
}
