/**
 * File inputs in model messages: the file markers `{{ input.FIELD:contents }}` and
 * `{{ input.FIELD:images }}` leave in rendered messages (expressions/file-directive.ts) are resolved here
 * (docs/files.md). A file value is an http(s) URL (fetched through the engine's policy-checked fetch), a
 * `data:` URL, `{ url }`, the file data object `{ data, type | media_type, name | filename, encoding? }`,
 * or a Node Buffer as JSON carries it; at most MAX_FILE_PART_BYTES. An array of them (a file field with
 * `array: true`) is every file in order. `:contents` is replaced by the files' text — plain text,
 * Markdown, CSV, JSON and XML as they are, HTML converted to text, other types through the host's
 * `fileExtractors` (PDF, …), else UNSUPPORTED_FILE_TYPE; `:images` becomes image parts after the text (an
 * image file is one image; other types through the host's `fileImageExtractors`, e.g. a PDF's embedded
 * images). For a `file` field of the run's input definition, the field's `extract_contents` /
 * `extract_images` flag decides, as on the platform: off, the directive yields nothing (no text, no
 * images); on, the extraction is made once per run and reused by every step that asks for it.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import { FILE_MARKER_KEY, type FileMarker, findFileMarkers } from '../expressions/file-directive.js';
import { sniffMediaType } from '../files/sniff.js';
import { fileSites } from '../input/files.js';
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

/**
 * Turns a file into images (`createEngine({ fileImageExtractors: { "application/pdf": extractor } })`):
 * each `{ bytes, media_type }` with an `image/*` type; at most MAX_IMAGES_PER_FILE are kept.
 */
export type FileImageExtractor = (
  file: FileData,
  signal: AbortSignal,
) => readonly FileData[] | Promise<readonly FileData[]>;

export interface FileDeps {
  fetch: PolicyFetch | undefined;
  extractors: Readonly<Record<string, FileExtractor>>;
  imageExtractors?: Readonly<Record<string, FileImageExtractor>>;
}

interface Site {
  step: { key: string };
  signal: AbortSignal;
  /** The run's input definition (its file flags); none for a context outside a run. */
  document?: unknown;
  /** One object per run: extractions of flagged input fields are cached on it. */
  run?: object;
}

/** The most files one directive may name (an array field), and the most images one file may give. */
export const MAX_FILES_PER_DIRECTIVE = 32;
export const MAX_IMAGES_PER_FILE = 100;

/** Extractions of flagged input fields, per run (the key is the run's host object): `mode:path` → result. */
const RUN_CACHE = new WeakMap<object, Map<string, Promise<string | ModelContentPart[]>>>();

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
        const result = await resolveMarker(marker, deps, site);
        if (typeof result === 'string') rewritten += result;
        else images.push(...result);
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

/** What the flag of the input field a marker names says: true/false, or null when no flag applies. */
function inputFlag(marker: FileMarker, document: unknown): boolean | null {
  const match = /^input\.(?:([A-Za-z_$][\w$]*)|`([^`]+)`)$/.exec(marker.path);
  if (match === null || document === undefined) return null;
  const name = match[1] ?? match[2]!;
  const site = fileSites(document as object).find((s) => s.name === name && s.field.type === 'file');
  if (site === undefined) return null;
  return site.field[marker.mode === 'contents' ? 'extract_contents' : 'extract_images'] === true;
}

/** One marker's text (`:contents`) or image parts (`:images`), honouring the field's flag and the cache. */
async function resolveMarker(
  marker: FileMarker,
  deps: FileDeps,
  site: Site,
): Promise<string | ModelContentPart[]> {
  const flag = inputFlag(marker, site.document);
  if (flag === false) return marker.mode === 'contents' ? '' : [];
  if (flag === null || site.run === undefined) return extract(marker, deps, site);
  let cache = RUN_CACHE.get(site.run);
  if (cache === undefined) {
    cache = new Map();
    RUN_CACHE.set(site.run, cache);
  }
  const key = `${marker.mode}:${marker.path}`;
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = extract(marker, deps, site);
    cache.set(key, pending);
    // A failure is not kept: a retry of the step extracts again (a fetch may have failed for a while).
    pending.catch(() => cache.delete(key));
  }
  const result = await pending;
  return typeof result === 'string' ? result : result.slice();
}

/** The files a marker's value holds: one, or each element of an array (at most MAX_FILES_PER_DIRECTIVE). */
async function extract(marker: FileMarker, deps: FileDeps, site: Site): Promise<string | ModelContentPart[]> {
  const values = Array.isArray(marker.value) ? marker.value : [marker.value];
  if (values.length > MAX_FILES_PER_DIRECTIVE) {
    throw new WeftError(
      ERROR_CODES.LIMIT_EXCEEDED,
      `Step "${site.step.key}": \`${marker.path}:${marker.mode}\` names ${values.length} files; at most ${MAX_FILES_PER_DIRECTIVE} can go into one message.`,
      {
        step_key: site.step.key,
        details: { count: values.length, limit: MAX_FILES_PER_DIRECTIVE },
        retryable: false,
      },
    );
  }
  if (marker.mode === 'contents') {
    const texts: string[] = [];
    for (const value of values) texts.push(await extractText(await loadFile(value, deps, site), deps, site));
    return texts.join('\n\n');
  }
  const parts: ModelContentPart[] = [];
  for (const value of values)
    parts.push(...(await imageParts(await loadFile(value, deps, site), deps, site)));
  return parts;
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
    const name = value.name ?? value.filename;
    const filename = typeof name === 'string' ? name : undefined;
    const given = value.type ?? value.media_type;
    const type = typeof given === 'string' ? given : '';
    // The platform's file data object: `data` may be a URL, raw text (`encoding: "raw"`) or base64.
    if (/^(?:data:|https?:\/\/)/i.test(value.data)) {
      const file = await loadFile(value.data, deps, site);
      return checked(file.bytes, type || file.media_type, filename ?? file.filename, site);
    }
    const bytes = value.encoding === 'raw' ? Buffer.from(value.data, 'utf8') : decode(value.data);
    return checked(bytes, type, filename, site);
  }
  if (isObject(value) && value.type === 'Buffer' && Array.isArray(value.data)) {
    if (value.data.length > MAX_FILE_PART_BYTES) throw tooLarge(site, value.data.length);
    return checked(Uint8Array.from(value.data as number[]), '', undefined, site);
  }
  throw new WeftError(
    ERROR_CODES.INVALID_INPUT,
    `Step "${key}": a file template got ${value === null || value === undefined ? 'no value' : `a ${typeof value}`}; a file is an http(s) URL, a data: URL, { url }, or { data (base64), type?, name? }.`,
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

/** The media type from the first bytes (PDF, PNG, JPEG, GIF, WebP), the file name, else text or octet-stream. */
function sniff(bytes: Uint8Array, filename: string | undefined): string {
  return sniffMediaType(bytes, filename);
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

/** A file's image parts: an image is one; other types through the host's image extractor for the type. */
async function imageParts(file: FileData, deps: FileDeps, site: Site): Promise<ModelContentPart[]> {
  if (file.media_type.startsWith('image/')) return [imagePart(file)];
  const extractor = deps.imageExtractors?.[file.media_type];
  if (extractor === undefined) {
    throw unsupported(
      site,
      `\`:images\` of a ${file.media_type} file: Weft takes an image file as one image, and other types through an image extractor for the type (createEngine({ fileImageExtractors: { "${file.media_type}": (file) => images } }); the weft CLI registers one for PDFs). Send the file itself as a { "type": "file", "url": … } part, or use \`:contents\` for its text.`,
      { media_type: file.media_type },
    );
  }
  const images = await extractor(file, site.signal);
  if (!Array.isArray(images)) {
    throw new WeftError(
      ERROR_CODES.STEP_FAILED,
      `Step "${site.step.key}": the image extractor for ${file.media_type} returned ${typeof images}, not an array of images.`,
      { step_key: site.step.key, retryable: false },
    );
  }
  const parts: ModelContentPart[] = [];
  for (const image of images.slice(0, MAX_IMAGES_PER_FILE)) {
    const bytes = isObject(image) ? image.bytes : undefined;
    const type = isObject(image) ? image.media_type : undefined;
    if (!(bytes instanceof Uint8Array) || typeof type !== 'string' || !type.startsWith('image/')) {
      throw new WeftError(
        ERROR_CODES.STEP_FAILED,
        `Step "${site.step.key}": the image extractor for ${file.media_type} returned an element that is not { bytes: Uint8Array, media_type: "image/…" }.`,
        { step_key: site.step.key, retryable: false },
      );
    }
    if (bytes.length > MAX_FILE_PART_BYTES) throw tooLarge(site, bytes.length);
    parts.push(imagePart({ bytes, media_type: type }));
  }
  return parts;
}

function imagePart(file: FileData): ModelContentPart {
  return { type: 'image', data: Buffer.from(file.bytes).toString('base64'), media_type: file.media_type };
}
