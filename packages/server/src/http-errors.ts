/**
 * Every non-2xx answer has the platform's error body `{ status, message, errors? }`, plus Weft's `code`.
 * This file turns whatever failed — a WeftError from the registry, a request that did not match its
 * schema, a body too large, a rate limit — into that body and its HTTP status.
 */
import { ERROR_CODES, type ErrorCode, isWeftError, type Problem, WeftError } from '@weft/core';

export interface ErrorItem {
  validation: string;
  code: string;
  message: string;
  path: string[];
}

export interface ErrorBody {
  status: number;
  message: string;
  code: string;
  errors?: ErrorItem[];
}

/** The HTTP status of each Weft code a request can fail with; any other code is a 500. */
export const HTTP_STATUS_OF: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_INPUT: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_CANCELLABLE: 409,
  IMMUTABLE_VERSION: 409,
  LIMIT: 413,
  // Run data (a draft, an input) nested or sized past the engine's bounds, a document past limits.maxSteps.
  LIMIT_EXCEEDED: 413,
  RATE_LIMITED: 429,
};

/** A JSON pointer ("/a/b~1c") as path segments (["a", "b/c"]). */
export function pointerPath(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function problemItems(error: WeftError, prefix: string[]): ErrorItem[] | undefined {
  const problems = error.details?.problems;
  if (!Array.isArray(problems)) return undefined;
  return (problems as Array<Partial<Problem>>)
    .filter((p) => p.severity === undefined || p.severity === 'error')
    .slice(0, 1000)
    .map((p) => ({
      validation: String(p.code ?? error.code),
      code: String(error.code),
      message: String(p.message ?? ''),
      path: [...prefix, ...pointerPath(String(p.path ?? ''))],
    }));
}

/** The status and body of a WeftError. */
export function weftErrorBody(error: WeftError): ErrorBody {
  const status = HTTP_STATUS_OF[error.code as ErrorCode] ?? 500;
  const body: ErrorBody = { status, message: error.message, code: String(error.code) };
  // Input problems are about the request's `input`; document problems about the workflow document.
  const items =
    error.code === ERROR_CODES.INVALID_INPUT
      ? problemItems(error, ['body', 'input'])
      : error.code === ERROR_CODES.VALIDATION_FAILED
        ? problemItems(error, ['document'])
        : undefined;
  if (items !== undefined && items.length > 0) body.errors = items;
  else if (error.code === ERROR_CODES.INVALID_ARGUMENT && typeof error.details?.parameter === 'string') {
    body.errors = [
      {
        validation: 'argument',
        code: String(error.code),
        message: error.message,
        path: String(error.details.parameter).split('.'),
      },
    ];
  }
  return body;
}

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

const CONTEXT_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'headers',
};

/** Every problem of a request that did not match its route's schema. */
export function requestValidationBody(errors: readonly AjvError[], context: string): ErrorBody {
  const where = CONTEXT_NAMES[context] ?? context;
  const items: ErrorItem[] = errors.slice(0, 1000).map((e) => {
    const path = [where, ...pointerPath(e.instancePath)];
    const params = e.params ?? {};
    let message = e.message ?? e.keyword;
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      path.push(params.missingProperty);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      path.push(params.additionalProperty);
      message = 'is not a known field (leave it out)';
    } else if (e.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      message = `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return { validation: e.keyword, code: ERROR_CODES.INVALID_ARGUMENT, message, path };
  });
  const list = items
    .slice(0, 5)
    .map((i) => `${i.path.join('.')} ${i.message}`)
    .join('; ');
  return {
    status: 400,
    code: ERROR_CODES.INVALID_ARGUMENT,
    message: `The request is invalid (${items.length} problem${items.length === 1 ? '' : 's'}): ${list}${items.length > 5 ? '; …' : ''}.`,
    errors: items,
  };
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
  validation?: AjvError[];
  validationContext?: string;
}

/** The status and body of anything a request failed with; `internal` is true for a 500 to log. */
export function errorBody(error: unknown): { body: ErrorBody; internal: boolean } {
  if (isWeftError(error)) {
    const body = weftErrorBody(error);
    return { body, internal: body.status >= 500 };
  }
  const e = (error ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    return { body: requestValidationBody(e.validation, e.validationContext ?? 'body'), internal: false };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        body: {
          status: 413,
          code: ERROR_CODES.LIMIT,
          message: 'The request body is larger than the server accepts (its bodyLimit): send a smaller body.',
        },
        internal: false,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        body: {
          status: 415,
          code: ERROR_CODES.INVALID_ARGUMENT,
          message: 'The request body must be JSON: send it with `content-type: application/json`.',
        },
        internal: false,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        body: {
          status: 400,
          code: ERROR_CODES.INVALID_ARGUMENT,
          message: 'The body is empty but `content-type` says JSON: send a JSON value, or no content-type.',
        },
        internal: false,
      };
    default:
      break;
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors: malformed JSON, bad headers…
    return {
      body: {
        status,
        code: status === 429 ? ERROR_CODES.RATE_LIMITED : ERROR_CODES.INVALID_ARGUMENT,
        message: e.message.endsWith('.') ? e.message : `${e.message}.`,
      },
      internal: false,
    };
  }
  return {
    body: {
      status: 500,
      code: ERROR_CODES.INTERNAL,
      message:
        'The server failed on this request (a bug in Weft or in a host step); its log has the details, under this request’s id.',
    },
    internal: true,
  };
}

export function unauthorized(message: string): WeftError {
  return new WeftError(ERROR_CODES.UNAUTHORIZED, message, { retryable: false });
}

export function appNotFound(appId: string): WeftError {
  return new WeftError(
    ERROR_CODES.NOT_FOUND,
    `App "${appId}" was not found. Use the app of your API key (or "c", which stands for it).`,
    { details: { id: appId }, retryable: false },
  );
}
