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

/** A page query's own fields (the store checks the rest: `limit`'s range, the cursor's content). */
export function checkPageQuery(query: unknown, parameter = 'query'): void {
  checkOptions(query, parameter);
  const q = (query ?? {}) as Record<string, unknown>;
  if (q.limit !== undefined && !Number.isInteger(q.limit)) {
    throw invalidArgument('limit', 'an integer from 1 to 100', q.limit);
  }
  if (q.cursor !== undefined && q.cursor !== null && typeof q.cursor !== 'string') {
    throw invalidArgument('cursor', 'the `next_cursor` of a previous page, or null', q.cursor);
  }
  if (q.include_archived !== undefined && typeof q.include_archived !== 'boolean') {
    throw invalidArgument('include_archived', 'true or false', q.include_archived);
  }
}

/** `value` is undefined, one of `allowed`, or an array of them. */
export function checkOneOrMany(value: unknown, parameter: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  const list = Array.isArray(value) ? value : [value];
  for (const item of list) {
    if (typeof item !== 'string' || !allowed.includes(item)) {
      throw invalidArgument(parameter, `one of ${allowed.join(', ')} (or an array of them)`, value);
    }
  }
}

/** Options objects: undefined is fine, anything but a plain object is INVALID_ARGUMENT. */
export function checkOptions(value: unknown, parameter: string): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw invalidArgument(parameter, 'an object', value);
  }
}

/**
 * Options of the platform's API that the in-process API does not honour: refused loudly (INVALID_ARGUMENT
 * naming the option and what to do instead) rather than dropped. `unsupported` maps each option to a test
 * of the values that would change the result, and the reason.
 */
export function refuseUnsupported(
  options: object | undefined,
  unsupported: Record<string, { when: (value: unknown) => boolean; instead: string }>,
): void {
  if (options === undefined) return;
  for (const [name, { when, instead }] of Object.entries(unsupported)) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && when(value)) {
      throw new WeftError(ERROR_CODES.INVALID_ARGUMENT, `\`${name}\` is not supported here: ${instead}`, {
        details: { parameter: name },
      });
    }
  }
}

/** `stream: true` (TODO(issue 17): the HTTP server streams). */
export const STREAM_OPTION = {
  stream: {
    when: (value: unknown) => value === true,
    instead:
      'the in-process API returns the run when it ends (or at once with `background: true`). Follow it live with handle.on(...) / weft.engine.on(...) events.',
  },
};

/** `search` and `tags` filters of the platform's list queries. */
export const FILTER_OPTIONS = {
  search: {
    when: (value: unknown) => value !== '',
    instead: 'Weft lists workflows newest first without a text search; filter the page yourself.',
  },
  tags: {
    when: (value: unknown) => !(Array.isArray(value) && value.length === 0),
    instead: 'Weft workflows have no tags.',
  },
};
