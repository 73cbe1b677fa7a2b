/**
 * Fixtures of a dry run: the `@weft/testing` scripted-provider format (`replies`, `models`, `default`,
 * `latency_ms`, `name`) plus a CLI key, `http`: canned answers for `http_request` steps.
 *
 * ```json
 * { "replies": { "classify": { "category": "billing" } },
 *   "latency_ms": 400,
 *   "http": { "GET https://status.example.com/api/v2/summary.json": { "status": 200, "body": { … } } } }
 * ```
 * An `http` key is `"<METHOD> <url>"` or just `"<url>"` (any method); the answer is
 * `{ status = 200, headers = {}, body, latency_ms = 0 }` (a non-string body is sent as JSON). Requests
 * that match no key go to the network as usual.
 */
import { STATUS_CODES } from 'node:http';
import { CliError } from './errors.js';
import { isPlainObject } from './files.js';

export interface HttpFixture {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  latency_ms: number;
}

export interface Fixtures {
  /** The scripted provider's part (passed to `scriptedProvider.fromFixtures`). */
  scripted: Record<string, unknown>;
  /** Canned HTTP answers by `"METHOD url"` or `"url"` (normalised). */
  http: Map<string, HttpFixture>;
}

export const emptyFixtures = (): Fixtures => ({ scripted: {}, http: new Map() });

function normaliseKey(key: string, source: string): string {
  const match = /^(?:(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+)?(\S+)$/i.exec(key.trim());
  let url: URL | null = null;
  try {
    url = match === null ? null : new URL(match[2]!);
  } catch {
    url = null;
  }
  if (match === null || url === null) {
    throw new CliError(
      `${source}: http fixture key ${JSON.stringify(key)} must be "<METHOD> <absolute url>" or "<absolute url>".`,
    );
  }
  return match[1] === undefined ? url.href : `${match[1].toUpperCase()} ${url.href}`;
}

function httpFixture(value: unknown, where: string): HttpFixture {
  if (!isPlainObject(value))
    throw new CliError(`${where}: expected { status?, headers?, body?, latency_ms? }.`);
  const { status = 200, headers = {}, body = null, latency_ms = 0, ...rest } = value;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new CliError(`${where}: unknown key "${unknown[0]}" (known: status, headers, body, latency_ms).`);
  }
  if (!(Number.isInteger(status) && (status as number) >= 200 && (status as number) <= 599)) {
    throw new CliError(`${where}.status: expected an HTTP status (200–599), got ${JSON.stringify(status)}.`);
  }
  if (!isPlainObject(headers) || !Object.values(headers).every((v) => typeof v === 'string')) {
    throw new CliError(`${where}.headers: expected an object of strings.`);
  }
  if (!(typeof latency_ms === 'number' && Number.isFinite(latency_ms) && latency_ms >= 0)) {
    throw new CliError(`${where}.latency_ms: expected a number ≥ 0.`);
  }
  return { status: status as number, headers: headers as Record<string, string>, body, latency_ms };
}

/** Checks a fixtures document (the provider part is checked by @weft/testing when it is used). */
export function parseFixtures(value: unknown, source: string): Fixtures {
  if (!isPlainObject(value)) throw new CliError(`${source}: fixtures must be a JSON object.`);
  const { http, ...scripted } = value;
  const out: Fixtures = { scripted, http: new Map() };
  if (http !== undefined) {
    if (!isPlainObject(http))
      throw new CliError(`${source}: "http" must be an object of "<METHOD> <url>": answer.`);
    for (const [key, answer] of Object.entries(http)) {
      out.http.set(normaliseKey(key, source), httpFixture(answer, `${source}: http[${JSON.stringify(key)}]`));
    }
  }
  return out;
}

/** `over` on top of `base`: replies, models and http answers merged by key, other keys replaced. */
export function mergeFixtures(base: Fixtures, over: Fixtures): Fixtures {
  const scripted: Record<string, unknown> = { ...base.scripted, ...over.scripted };
  for (const key of ['replies', 'models'] as const) {
    const a = base.scripted[key];
    const b = over.scripted[key];
    if (isPlainObject(a) && isPlainObject(b)) scripted[key] = { ...a, ...b };
  }
  return { scripted, http: new Map([...base.http, ...over.http]) };
}

/** A fetch that answers from the fixtures and sends anything else to `fallback`. */
export function fixtureFetch(fixtures: () => Fixtures, fallback: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url).href;
    const table = fixtures().http;
    const answer = table.get(`${request.method.toUpperCase()} ${url}`) ?? table.get(url);
    if (answer === undefined) return fallback(input, init);
    if (answer.latency_ms > 0) await sleep(answer.latency_ms, request.signal);
    request.signal.throwIfAborted();
    const headers = new Headers(answer.headers);
    let body: string | null;
    if (typeof answer.body === 'string') {
      body = answer.body;
      if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8');
    } else {
      body = answer.body === null ? null : JSON.stringify(answer.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return new Response(body, {
      status: answer.status,
      statusText: STATUS_CODES[answer.status] ?? '',
      headers,
    });
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
