/** The registry's coded errors; every message says what to do. */
import { ERROR_CODES, invalidArgument, WeftError } from '../errors.js';

export function notFound(what: string, id: string, hint: string): WeftError {
  return new WeftError(ERROR_CODES.NOT_FOUND, `${what} "${id}" was not found. ${hint}`, {
    details: { id },
    retryable: false,
  });
}

export const workflowNotFound = (id: string) =>
  notFound(
    'Workflow',
    id,
    'Check the id, and that the workflow belongs to this app (or, through discover, that it is discoverable).',
  );

export const runNotFound = (id: string) =>
  notFound('Run', id, 'Check the id; an app can only read and cancel its own runs.');

export const testNotFound = (id: string) =>
  notFound('Test', id, 'Check the id, and that the test belongs to a workflow of this app.');

export function conflict(message: string, details?: Record<string, unknown>): WeftError {
  return new WeftError(ERROR_CODES.CONFLICT, message, { retryable: false, ...(details ? { details } : {}) });
}

export function forbidden(message: string, details?: Record<string, unknown>): WeftError {
  return new WeftError(ERROR_CODES.FORBIDDEN, message, { retryable: false, ...(details ? { details } : {}) });
}

export function archived(id: string): WeftError {
  return conflict(`Workflow "${id}" is archived. Restore it (workflows.restore) first.`, { workflow_id: id });
}

/** Options objects: undefined is fine, anything but a plain object is INVALID_ARGUMENT. */
export function checkOptions(value: unknown, parameter: string): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw invalidArgument(parameter, 'an object', value);
  }
}
