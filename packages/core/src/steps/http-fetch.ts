/**
 * The one call site through which `browser` steps and the built-in `FILES` service fetch a URL, under the
 * engine's `http` policy: http(s) only, the host's `http.allow` hook, the HTTP timeout (unless the step
 * has its own `timeout_ms`), and a bound on the bytes read. When the shared policy-checked fetch of the
 * hardening work lands, this function is the one place to switch to it.
 */
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import type { HttpOptions } from '../run/options.js';

export interface FetchedResource {
  ok: boolean;
  status: number;
  statusText: string;
  /** The final URL (after redirects). */
  url: string;
  headers: Record<string, string>;
  /** The media type of the content-type header, lower-cased, without parameters ("" when none). */
  mediaType: string;
  bytes: Uint8Array;
}

export interface FetchRequest {
  step_key: string;
  url: string;
  signal: AbortSignal;
  /** Past this many bytes the fetch fails with LIMIT. */
  maxBytes: number;
  /** False when the step has its own `timeout_ms` (the engine enforces that one). */
  useHttpTimeout: boolean;
}

export type PolicyFetch = (request: FetchRequest) => Promise<FetchedResource>;

export function policyFetch(options: HttpOptions & { timeoutMs: number }): PolicyFetch {
  return async ({ step_key: key, url: raw, signal: stepSignal, maxBytes, useHttpTimeout }) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WeftError(
        ERROR_CODES.STEP_FAILED,
        `Step "${key}": the url ${JSON.stringify(raw.slice(0, 200))} is not an absolute URL (after templates were resolved).`,
        { step_key: key, details: { field: 'url' }, retryable: false },
      );
    }
    const where = `${url.origin}${url.pathname}`;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new WeftError(
        ERROR_CODES.HTTP_FORBIDDEN,
        `Step "${key}": only http and https URLs can be fetched, got ${url.protocol}.`,
        { step_key: key, details: { url: url.protocol }, retryable: false },
      );
    }
    if (options.allow !== undefined && !(await options.allow(url))) {
      throw new WeftError(
        ERROR_CODES.HTTP_FORBIDDEN,
        `Step "${key}": the host does not allow requests to ${where}.`,
        {
          step_key: key,
          details: { url: where },
          retryable: false,
        },
      );
    }
    const timeout = useHttpTimeout ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const signal = timeout === undefined ? stepSignal : AbortSignal.any([stepSignal, timeout]);
    try {
      const response = await (options.fetch ?? fetch)(url, { method: 'GET', signal, redirect: 'follow' });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const bytes = await readBounded(response, maxBytes, key, where);
      return {
        ok: response.ok,
        status: response.status,
        statusText: response.statusText,
        url: response.url || url.href,
        headers,
        mediaType: (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase(),
        bytes,
      };
    } catch (error) {
      if (error instanceof WeftError) throw error;
      if (stepSignal.aborted) throw new CancelledError(`Step "${key}": the request was aborted.`);
      if (timeout?.aborted) {
        throw new WeftError(
          ERROR_CODES.STEP_TIMEOUT,
          `Step "${key}": GET ${where} timed out after ${options.timeoutMs} ms.`,
          { step_key: key, details: { timeout_ms: options.timeoutMs } },
        );
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new WeftError(
        ERROR_CODES.STEP_FAILED,
        `Step "${key}": GET ${where} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
        { step_key: key, details: { url: where }, retryable: true },
      );
    }
  };
}

/** The response body, failing with LIMIT past `maxBytes` (the rest is not read). */
async function readBounded(
  response: Response,
  maxBytes: number,
  key: string,
  where: string,
): Promise<Uint8Array> {
  const tooLarge = () =>
    new WeftError(
      ERROR_CODES.LIMIT,
      `Step "${key}": ${where} sent more than ${maxBytes} bytes, the most a step reads. Fetch a smaller resource.`,
      { step_key: key, details: { url: where, max_bytes: maxBytes }, retryable: false },
    );
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
