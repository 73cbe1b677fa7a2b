/**
 * `browser` steps without a browser: the page is fetched through the engine's `http` policy (http-fetch.ts)
 * and returned as the platform's StepBrowserOutputSchema `{ ok, status, headers, body, error }`. With
 * `strip_html`, an HTML body becomes readable text (html-to-text: links kept as `text [url]`, scripts and
 * styles dropped). Nothing runs in the page, so `wait_for_selector` cannot be honoured: the step logs a
 * warning and the validator reports UNSUPPORTED_FIELD — unless the host registers a browser of its own,
 * `createEngine({ steps: { browser: handler } })`, which replaces this handler.
 */
import type { PolicyFetch } from './http-fetch.js';
import type { StepContext } from './types.js';

/** The most bytes a browser step reads of a page. */
export const MAX_PAGE_BYTES = 10 * 1024 * 1024;

export interface BrowserConfig {
  url: unknown;
  strip_html?: unknown;
  wait_for_selector?: unknown;
}

export interface BrowserOutput {
  ok: boolean;
  status: number;
  headers: Record<string, string>;
  body: string;
  error: string | null;
}

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

export function browserStep(fetchResource: PolicyFetch) {
  return async (context: StepContext<BrowserConfig>): Promise<BrowserOutput> => {
    const { config, step } = context;
    const selector = config.wait_for_selector;
    if (typeof selector === 'string' && selector.trim() !== '') {
      context.log(
        'warn',
        `wait_for_selector ${JSON.stringify(selector.slice(0, 80))} was not waited for: the built-in browser step fetches the page without running it. Register a browser handler (createEngine({ steps: { browser } })) to render pages.`,
      );
    }
    const page = await fetchResource({
      step_key: step.key,
      url: String(config.url ?? ''),
      signal: context.signal,
      maxBytes: MAX_PAGE_BYTES,
      useHttpTimeout: step.timeout_ms === undefined,
    });
    let body = new TextDecoder().decode(page.bytes);
    if (config.strip_html === true && (HTML_TYPES.has(page.mediaType) || looksLikeHtml(body))) {
      body = await htmlToText(body);
    }
    return {
      ok: page.ok,
      status: page.status,
      headers: page.headers,
      body,
      error: page.ok ? null : `HTTP ${page.status} ${page.statusText}`.trim(),
    };
  };
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html[\s>])/i.test(text);
}

/** HTML to readable text, with the converter loaded on first use (a run without browser steps never loads it). */
export async function htmlToText(html: string): Promise<string> {
  const { convert } = await import('html-to-text');
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
    ],
  });
}
