/**
 * `http_request` steps: the engine's policy-checked fetch (http-fetch.ts: redirects followed by hand and
 * re-checked, resolved addresses, size limit, one deadline) with the templated url, method, headers and
 * body (built as the platform documents them: http-request-build.ts); JSON responses are parsed. A non-2xx
 * answer is not a step failure: the output says `ok: false` with the status. Network errors fail the
 * attempt (retryable).
 */
import type { HttpFetch } from './http-fetch.js';
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

export interface HttpRequestStepDeps {
  /** The engine's policy-checked fetch (http-fetch.ts): redirects, `http.allow`, addresses, size. */
  fetch: HttpFetch;
  /** Deadline of a step without its own `timeout_ms` (limits.httpTimeoutMs). */
  timeoutMs: number;
}

export function httpRequestStep(deps: HttpRequestStepDeps) {
  return async (context: StepContext<HttpRequestConfig>): Promise<HttpResponseOutput> => {
    const key = context.step.key;
    const { config } = context;
    const method = String(config.method ?? 'GET').toUpperCase();
    const { headers, body, dropped } = buildRequest(key, method, config);
    if (dropped !== null) context.log('warn', dropped);
    // The step's own timeout_ms (enforced by the engine) wins; otherwise the engine's http timeout applies.
    const response = await deps.fetch({
      url: String(config.url),
      method,
      headers: new Headers(headers),
      body,
      timeoutMs: context.step.timeout_ms === undefined ? deps.timeoutMs : null,
      signal: context.signal,
      step_key: key,
    });
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    const text = new TextDecoder().decode(response.body);
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        context.log('warn', 'The response says it is JSON but does not parse; the body is kept as text.');
      }
    }
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      status: response.status,
      headers: responseHeaders,
      body: parsed,
      error: ok ? null : `HTTP ${response.status} ${response.statusText}`.trim(),
    };
  };
}
