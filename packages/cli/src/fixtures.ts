/**
 * Fixtures of a dry run: the `@weft/testing` scripted-provider format (`replies`, `models`, `default`,
 * `latency_ms`, `name`) plus two CLI keys: `http`, canned answers for `http_request` steps, and `tools`,
 * canned answers of external tools (`"refund": {"refunded": true}`, or `{"$error": "CODE", "message"}` for a
 * tool that fails): a dry run registers each as an engine tool unless a `--plugin` module has one.
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
import { ERROR_CODES, type ToolRegistry, WeftError } from '@weft/core';
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
  /** Canned answers of external tools, by tool name. */
  tools: Record<string, unknown>;
}

export const emptyFixtures = (): Fixtures => ({ scripted: {}, http: new Map(), tools: {} });

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
  const { http, tools, ...scripted } = value;
  const out: Fixtures = { scripted, http: new Map(), tools: {} };
  if (tools !== undefined) {
    if (!isPlainObject(tools))
      throw new CliError(`${source}: "tools" must be an object of tool name: answer.`);
    for (const [name, answer] of Object.entries(tools)) {
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
        throw new CliError(
          `${source}: tools[${JSON.stringify(name)}]: a tool name is 1 to 64 letters, digits, "_" and "-".`,
        );
      }
      if (
        isPlainObject(answer) &&
        Object.hasOwn(answer, '$error') &&
        (typeof answer.$error !== 'string' || answer.$error === '')
      ) {
        throw new CliError(
          `${source}: tools.${name}.$error: expected an error code string such as "STEP_FAILED".`,
        );
      }
      out.tools[name] = answer;
    }
  }
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
  return { scripted, http: new Map([...base.http, ...over.http]), tools: { ...base.tools, ...over.tools } };
}

/**
 * The engine tools of a dry run: each fixture tool (answering from the current fixtures: its JSON value, or
 * the WeftError of an `{"$error": CODE}` answer), then the `--plugin` tools over them.
 */
export function fixtureTools(fixtures: () => Fixtures, names: Iterable<string>): ToolRegistry {
  const tools: ToolRegistry = {};
  for (const name of names) {
    tools[name] = {
      description: `The tool "${name}" (answered from the fixtures in this dry run).`,
      handler: () => {
        const table = fixtures().tools;
        if (!Object.hasOwn(table, name)) {
          throw new WeftError(
            ERROR_CODES.STEP_FAILED,
            `No fixture answers the tool "${name}": add "tools": { "${name}": … } to the fixtures.`,
            { retryable: false },
          );
        }
        const answer = table[name];
        if (isPlainObject(answer) && typeof answer.$error === 'string') {
          throw new WeftError(
            answer.$error,
            typeof answer.message === 'string' ? answer.message : `The tool "${name}" failed (fixture).`,
            { retryable: false },
          );
        }
        return answer;
      },
    };
  }
  return tools;
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
