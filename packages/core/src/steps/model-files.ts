/**
 * File inputs in model messages: the file markers `{{ input.FIELD:contents }}` and
 * `{{ input.FIELD:images }}` leave in rendered messages (expressions/file-directive.ts) are resolved here.
 * A file value is an http(s) URL (fetched through the engine's policy-checked fetch), a `data:` URL,
 * `{ url }`, `{ data: base64, media_type, filename? }`, or a Node Buffer as JSON carries it; at most
 * MAX_FILE_PART_BYTES. `:contents` is replaced by the file's text — plain text, Markdown, CSV, JSON and XML
 * as they are, HTML converted to text, other types through the host's `fileExtractors` (PDF, …), else
 * UNSUPPORTED_FILE_TYPE; `:images` becomes image parts after the text (an image file is one image).
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import { FILE_MARKER_KEY, findFileMarkers } from '../expressions/file-directive.js';
import type { ModelContentPart, ModelMessage } from '../providers/provider.js';
import { htmlToText } from './browser.js';
import type { PolicyFetch } from './http-fetch.js';
import { fromDataUrl, MAX_FILE_PART_BYTES } from './model-messages.js';

/** A file's bytes and type, as an extractor gets them. */
export interface FileData {
  bytes: Uint8Array;
  media_type: string;
  filename?: string;
}

/** Turns a file into text (`createEngine({ fileExtractors: { "application/pdf": extractor } })`). */
export type FileExtractor = (file: FileData, signal: AbortSignal) => string | Promise<string>;

export interface FileDeps {
  fetch: PolicyFetch | undefined;
  extractors: Readonly<Record<string, FileExtractor>>;
}

interface Site {
  step: { key: string };
  signal: AbortSignal;
}

type Obj = Record<string, unknown>;
const isObject = (value: unknown): value is Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Whether any message may hold a file marker (a cheap test first: most steps have none). */
function mayHaveMarkers(messages: readonly ModelMessage[]): boolean {
  for (const m of messages) {
    const text = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
    if (text.includes(FILE_MARKER_KEY)) return true;
  }
  return false;
}

/** The messages with every file marker resolved. */
export async function resolveFileMarkers(
  messages: ModelMessage[],
  deps: FileDeps,
  site: Site,
): Promise<ModelMessage[]> {
  if (!mayHaveMarkers(messages)) return messages;
  const out: ModelMessage[] = [];
  for (const message of messages) {
    if (message.role === 'tool') {
      out.push(message);
      continue;
    }
    const parts: ModelContentPart[] =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    const next: ModelContentPart[] = [];
    let changed = false;
    for (const part of parts) {
      if (part.type !== 'text' || typeof (part as { text?: unknown }).text !== 'string') {
        next.push(part);
        continue;
      }
      const text = (part as { text: string }).text;
      const markers = findFileMarkers(text);
      if (markers.length === 0) {
        next.push(part);
        continue;
      }
      changed = true;
      let rewritten = '';
      let last = 0;
      const images: ModelContentPart[] = [];
      for (const marker of markers) {
        rewritten += text.slice(last, marker.start);
        last = marker.end;
        const file = await loadFile(marker.value, deps, site);
        if (marker.mode === 'contents') rewritten += await extractText(file, deps, site);
        else images.push(imagePart(file, site));
      }
      rewritten += text.slice(last);
      if (rewritten.trim() !== '' || images.length === 0) next.push({ type: 'text', text: rewritten });
      next.push(...images);
    }
    if (!changed) {
      out.push(message);
      continue;
    }
    const onlyText = next.length === 1 && next[0]!.type === 'text';
    out.push({ ...message, content: onlyText ? (next[0] as { text: string }).text : next });
  }
  return out;
}

const unsupported = (site: Site, message: string, details: Obj): WeftError =>
  new WeftError(ERROR_CODES.UNSUPPORTED_FILE_TYPE, `Step "${site.step.key}": ${message}`, {
    step_key: site.step.key,
    details,
    retryable: false,
  });

/** A file value as bytes and a media type. */
export async function loadFile(value: unknown, deps: FileDeps, site: Site): Promise<FileData> {
  const key = site.step.key;
  let url: string | undefined;
  if (typeof value === 'string') url = value;
  else if (isObject(value) && typeof value.url === 'string') url = value.url;
  if (url !== undefined) {
    const inline = fromDataUrl(url);
    if (inline !== null) return checked(decode(inline.data), inline.media_type, undefined, site);
    if (/^https?:\/\//i.test(url) && deps.fetch !== undefined) {
      const fetched = await deps.fetch({
        step_key: key,
        url,
        signal: site.signal,
        maxBytes: MAX_FILE_PART_BYTES,
        useHttpTimeout: true,
      });
      if (!fetched.ok) {
        throw new WeftError(
          ERROR_CODES.STEP_FAILED,
          `Step "${key}": the file ${url} could not be fetched (HTTP ${fetched.status} ${fetched.statusText}).`,
          { step_key: key, details: { url, status: fetched.status }, retryable: fetched.status >= 500 },
        );
      }
      const name = decodeURIComponent(new URL(fetched.url).pathname.split('/').pop() ?? '');
      return checked(fetched.bytes, fetched.mediaType, name === '' ? undefined : name, site);
    }
  }
  if (isObject(value) && typeof value.data === 'string') {
    const filename = typeof value.filename === 'string' ? value.filename : undefined;
    const type = typeof value.media_type === 'string' ? value.media_type : '';
    return checked(decode(value.data), type, filename, site);
  }
  if (isObject(value) && value.type === 'Buffer' && Array.isArray(value.data)) {
    if (value.data.length > MAX_FILE_PART_BYTES) throw tooLarge(site, value.data.length);
    return checked(Uint8Array.from(value.data as number[]), '', undefined, site);
  }
  throw new WeftError(
    ERROR_CODES.INVALID_INPUT,
    `Step "${key}": a file template got ${value === null || value === undefined ? 'no value' : `a ${typeof value}`}; a file is an http(s) URL, a data: URL, { url }, or { data (base64), media_type, filename? }.`,
    { step_key: key, retryable: false },
  );
}

function decode(base64: string): Uint8Array {
  return Buffer.from(base64, 'base64');
}

function tooLarge(site: Site, size: number): WeftError {
  return new WeftError(
    ERROR_CODES.LIMIT_EXCEEDED,
    `Step "${site.step.key}": a file in its messages is ${size} bytes; the most is ${MAX_FILE_PART_BYTES}.`,
    { step_key: site.step.key, details: { size, limit: MAX_FILE_PART_BYTES }, retryable: false },
  );
}

function checked(bytes: Uint8Array, mediaType: string, filename: string | undefined, site: Site): FileData {
  if (bytes.length > MAX_FILE_PART_BYTES) throw tooLarge(site, bytes.length);
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  const media_type = type === '' || type === 'application/octet-stream' ? sniff(bytes, filename) : type;
  return filename === undefined ? { bytes, media_type } : { bytes, media_type, filename };
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** The media type from the first bytes (PDF, PNG, JPEG, GIF, WebP), else from the file name's extension. */
function sniff(bytes: Uint8Array, filename: string | undefined): string {
  const head = Buffer.from(bytes.subarray(0, 12));
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head[0] === 0x89 && head.subarray(1, 4).toString('latin1') === 'PNG') return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (
    head.subarray(0, 4).toString('latin1') === 'RIFF' &&
    head.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'image/webp';
  }
  const extension = filename?.split('.').pop()?.toLowerCase();
  return (extension === undefined ? undefined : EXTENSIONS[extension]) ?? 'application/octet-stream';
}

const TEXT_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/x-ndjson',
  'application/yaml',
]);

/** The file's text: built-in for text types and HTML, else the host's extractor for its type. */
export async function extractText(file: FileData, deps: FileDeps, site: Site): Promise<string> {
  const type = file.media_type;
  const extractor = deps.extractors[type];
  if (extractor !== undefined) return String(await extractor(file, site.signal));
  if (type === 'text/html' || type === 'application/xhtml+xml') {
    return htmlToText(Buffer.from(file.bytes).toString('utf8'));
  }
  if (type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json')) {
    return Buffer.from(file.bytes).toString('utf8');
  }
  throw unsupported(
    site,
    `the text of a ${type} file cannot be extracted: Weft reads text, Markdown, CSV, JSON, XML and HTML. Register an extractor for it with createEngine({ fileExtractors: { "${type}": (file) => text } }), or send the file itself as a { "type": "file", "url": … } part.`,
    { media_type: type },
  );
}

function imagePart(file: FileData, site: Site): ModelContentPart {
  if (!file.media_type.startsWith('image/')) {
    throw unsupported(
      site,
      `\`:images\` needs an image file; this one is ${file.media_type} (Weft renders no pages of documents). Send it as a { "type": "file", "url": … } part, or use \`:contents\` for its text.`,
      { media_type: file.media_type },
    );
  }
  return { type: 'image', data: Buffer.from(file.bytes).toString('base64'), media_type: file.media_type };
}
