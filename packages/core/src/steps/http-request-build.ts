/**
 * Building an `http_request` step's request from its (templated) fields, as the platform documents them:
 * - `headers`: an object of strings, or a string — `"Name: value"` lines (blank lines ignored), or a JSON
 *   object written as a string;
 * - `body`: a string is sent as it is, typed `application/json` when it is JSON text (an object or an
 *   array) and `text/plain` otherwise; any other value is sent as JSON. With a `content-type` of
 *   `application/x-www-form-urlencoded` or `multipart/form-data`, an object (or a JSON object as a string)
 *   is encoded as that form. A `content-type` header the document sets is always kept (for multipart, fetch
 *   writes it with the boundary). GET requests carry no body.
 * Only request building lives here; sending it is http-request.ts's.
 */
import { ERROR_CODES, WeftError } from '../errors.js';

export interface BuiltRequest {
  headers: Headers;
  body: string | URLSearchParams | FormData | undefined;
  /** Why a given body was not sent (logged as a warning), or null. */
  dropped: string | null;
}

function fieldError(
  key: string,
  field: string,
  message: string,
  details: Record<string, unknown> = {},
): WeftError {
  return new WeftError(ERROR_CODES.STEP_FAILED, `Step "${key}": ${message}`, {
    step_key: key,
    details: { field, ...details },
    retryable: false,
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));

/** The request headers from an object or a string of `Name: value` lines (or JSON). */
export function buildHeaders(key: string, value: unknown): Headers {
  const headers = new Headers();
  if (value === undefined || value === null || value === '') return headers;
  const set = (name: string, v: string, line?: number) => {
    try {
      headers.set(name, v);
    } catch {
      throw fieldError(
        key,
        'headers',
        `the header ${JSON.stringify(name.slice(0, 60))}${line === undefined ? '' : ` (line ${line})`} is not a valid HTTP header name and value (no spaces or line breaks in a name, no line breaks in a value).`,
        line === undefined ? { header: name.slice(0, 60) } : { header: name.slice(0, 60), line },
      );
    }
  };
  let fields: unknown = value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('{')) {
      try {
        fields = JSON.parse(trimmed);
      } catch {
        throw fieldError(
          key,
          'headers',
          '`headers` starts with "{" but is not a JSON object. Write a JSON object, or "Name: value" lines.',
        );
      }
    } else {
      const lines = value.split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.trim() === '') continue;
        const colon = line.indexOf(':');
        if (colon <= 0) {
          throw fieldError(
            key,
            'headers',
            `line ${i + 1} of \`headers\` is not "Name: value" (got ${JSON.stringify(line.slice(0, 60))}). Write one header per line, e.g. "Authorization: Bearer …".`,
            { line: i + 1 },
          );
        }
        set(line.slice(0, colon).trim(), line.slice(colon + 1).trim(), i + 1);
      }
      return headers;
    }
  }
  if (!isPlainObject(fields)) {
    throw fieldError(key, 'headers', '`headers` must be an object of strings or "Name: value" lines.');
  }
  for (const [name, v] of Object.entries(fields)) if (v !== undefined && v !== null) set(name, text(v));
  return headers;
}

/** The media type of a content-type header, lower-cased, parameters dropped. */
function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A JSON object from an object or a JSON string; null when it is neither. */
function objectOf(body: unknown): Record<string, unknown> | null {
  if (isPlainObject(body)) return body;
  if (typeof body !== 'string' || !body.trim().startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    return isPlainObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function isJsonText(body: string): boolean {
  const t = body.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** Each form value as strings: arrays repeat the key, objects are JSON, null/undefined are left out. */
function formEntries(fields: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null) out.push([name, text(v)]);
    }
  }
  return out;
}

/** The request body for `method`, with the content-type it implies (set on `headers` if missing). */
export function buildBody(key: string, body: unknown, headers: Headers): BuiltRequest['body'] {
  if (body === undefined || body === null || body === '') return undefined;
  const type = mediaType(headers);
  if (type === 'application/x-www-form-urlencoded') {
    const fields = objectOf(body);
    if (fields !== null) return new URLSearchParams(formEntries(fields));
    if (typeof body === 'string') return body;
    throw fieldError(
      key,
      'body',
      'a form-encoded `body` must be an object of fields (or a string already encoded).',
    );
  }
  if (type === 'multipart/form-data') {
    const fields = objectOf(body);
    if (fields === null) {
      throw fieldError(
        key,
        'body',
        'a `multipart/form-data` `body` must be an object of fields (or a JSON object as a string).',
      );
    }
    const form = new FormData();
    for (const [name, value] of formEntries(fields)) form.append(name, value);
    // fetch writes the content-type itself, with the boundary it chose.
    headers.delete('content-type');
    return form;
  }
  if (typeof body === 'string') {
    if (type === '')
      headers.set('content-type', isJsonText(body) ? 'application/json' : 'text/plain;charset=UTF-8');
    return body;
  }
  if (type === '') headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

/** Headers and body of the request; a body given with GET is dropped (fetch cannot send one). */
export function buildRequest(
  key: string,
  method: string,
  fields: { headers?: unknown; body?: unknown },
): BuiltRequest {
  const headers = buildHeaders(key, fields.headers);
  const given = fields.body !== undefined && fields.body !== null && fields.body !== '';
  if (method === 'GET' || method === 'HEAD') {
    return {
      headers,
      body: undefined,
      dropped: given
        ? `The body was not sent: a ${method} request has no body. Use POST, PUT or PATCH to send one.`
        : null,
    };
  }
  return { headers, body: buildBody(key, fields.body, headers), dropped: null };
}
