/**
 * `http_request` steps: global fetch with the templated url, method, headers and body (built as the
 * platform documents them: http-request-build.ts); JSON responses are parsed. A non-2xx answer is not a step
 * failure: the output says `ok: false` with the status. Network errors fail the attempt (retryable).
 */
import { CancelledError, ERROR_CODES, WeftError } from '../errors.js';
import type { HttpOptions } from '../run/options.js';
import { buildRequest } from './http-request-build.js';
import type { StepContext } from './types.js';

export interface HttpRequestConfig {
  url: unknown;
  method?: unknown;
  /** An object of strings, or "Name: value" lines (http-request-build.ts). */
  headers?: unknown;
  body?: unknown;
}

export interface HttpResponseOutput {
  ok: boolean;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  error: string | null;
}

export function httpRequestStep(options: HttpOptions & { timeoutMs: number }) {
  return async (context: StepContext<HttpRequestConfig>): Promise<HttpResponseOutput> => {
    const key = context.step.key;
    const { config } = context;
    let url: URL;
    try {
      url = new URL(String(config.url));
    } catch {
      throw new WeftError(
        ERROR_CODES.STEP_FAILED,
        `Step "${key}": the url ${JSON.stringify(String(config.url))} is not an absolute URL (after templates were resolved).`,
        { step_key: key, details: { field: 'url' }, retryable: false },
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new WeftError(
        ERROR_CODES.HTTP_FORBIDDEN,
        `Step "${key}": only http and https URLs can be requested, got ${url.protocol}.`,
        {
          step_key: key,
          details: { url: url.origin },
          retryable: false,
        },
      );
    }
    if (options.allow !== undefined && !(await options.allow(url))) {
      throw new WeftError(
        ERROR_CODES.HTTP_FORBIDDEN,
        `Step "${key}": the host does not allow requests to ${url.origin}${url.pathname}.`,
        {
          step_key: key,
          details: { url: `${url.origin}${url.pathname}` },
          retryable: false,
        },
      );
    }
    const method = String(config.method ?? 'GET').toUpperCase();
    const { headers, body, dropped } = buildRequest(key, method, config);
    if (dropped !== null) context.log('warn', dropped);
    // The step's own timeout_ms (enforced by the engine) wins; otherwise the engine's http timeout applies.
    const timeout =
      context.step.timeout_ms === undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const signal = timeout === undefined ? context.signal : AbortSignal.any([context.signal, timeout]);
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, { method, headers, body, signal, redirect: 'follow' });
    } catch (error) {
      if (context.signal.aborted) throw new CancelledError(`Step "${key}": the request was aborted.`);
      if (timeout?.aborted) {
        throw new WeftError(
          ERROR_CODES.STEP_TIMEOUT,
          `Step "${key}": ${method} ${url.origin}${url.pathname} timed out after ${options.timeoutMs} ms.`,
          {
            step_key: key,
            details: { timeout_ms: options.timeoutMs },
          },
        );
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new WeftError(
        ERROR_CODES.STEP_FAILED,
        `Step "${key}": ${method} ${url.origin}${url.pathname} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
        { step_key: key, details: { url: `${url.origin}${url.pathname}` }, retryable: true },
      );
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        context.log('warn', 'The response says it is JSON but does not parse; the body is kept as text.');
      }
    }
    return {
      ok: response.ok,
      status: response.status,
      headers: responseHeaders,
      body: parsed,
      error: response.ok ? null : `HTTP ${response.status} ${response.statusText}`.trim(),
    };
  };
}
