/**
 * The built-in `FILES` service over the app's files (files/): UPLOAD_FILE, DOWNLOAD_FILE, DELETE_FILE and
 * EXTRACT_CONTENTS (text, Markdown, JSON, XML, CSV and HTML as text). URLs are fetched through the engine's
 * `http` policy. EXTRACT_PAGES, EXTRACT_IMAGES, MARKDOWN_TO_PDF and HTML_TO_PDF need document tooling Weft
 * does not ship: they are SERVICE_NOT_CONFIGURED until the host registers them.
 */
import { ERROR_CODES, WeftError } from '../errors.js';
import {
  type AppFile,
  FILE_STORAGES,
  FILE_URL_SCHEME,
  FILE_VISIBILITIES,
  type FileStore,
} from '../files/types.js';
import { htmlToText } from './browser.js';
import type { PolicyFetch } from './http-fetch.js';
import type { ServiceCallConfig, ServiceHandler, StepContext } from './types.js';

/** The most bytes one file may have. */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;

type Ctx = StepContext<{ service: ServiceCallConfig }>;

/** A service's `input`: an object, a JSON object written as a string, or nothing. */
export function serviceInput(context: Ctx): Record<string, unknown> {
  const { input } = context.config.service;
  if (input === undefined || input === null || input === '') return {};
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      value = undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw serviceError(
      context,
      'input',
      'the service `input` must be an object (or a JSON object as a string).',
    );
  }
  return value as Record<string, unknown>;
}

export function serviceError(
  context: Ctx,
  field: string,
  message: string,
  code: string = ERROR_CODES.STEP_FAILED,
): WeftError {
  const { type, action } = context.config.service;
  return new WeftError(code, `Step "${context.step.key}" (${type}.${action}): ${message}`, {
    step_key: context.step.key,
    details: { field: `service.input.${field}` },
    retryable: false,
  });
}

function oneOf<T extends string>(
  context: Ctx,
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw serviceError(
    context,
    field,
    `\`${field}\` must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}.`,
  );
}

const EXTENSION_TYPES: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  json: 'application/json',
  xml: 'application/xml',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
};

function typeFromName(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSION_TYPES[name.slice(dot + 1).toLowerCase()];
}

function isTextType(type: string): boolean {
  return type.startsWith('text/') || /[/+](json|xml)$/.test(type);
}

export function filesService(deps: { files: FileStore; fetch: PolicyFetch }): Record<string, ServiceHandler> {
  /** The bytes, name and type behind `file`: a URL to fetch, a data URI, or (upload only) the text itself. */
  async function source(context: Ctx, file: unknown, textAllowed: boolean) {
    if (typeof file !== 'string' || file === '') {
      throw serviceError(
        context,
        'file',
        '`file` must be a URL' + (textAllowed ? ' or the text of the file.' : '.'),
      );
    }
    if (/^https?:\/\//i.test(file)) {
      const fetched = await deps.fetch({
        step_key: context.step.key,
        url: file,
        signal: context.signal,
        maxBytes: MAX_FILE_BYTES,
        useHttpTimeout: context.step.timeout_ms === undefined,
      });
      if (!fetched.ok) {
        throw serviceError(
          context,
          'file',
          `downloading ${file.slice(0, 200)} answered HTTP ${fetched.status}.`,
        );
      }
      const last = decodeURIComponent(new URL(fetched.url).pathname.split('/').pop() ?? '');
      return { bytes: fetched.bytes, name: last || 'download', type: fetched.mediaType || undefined };
    }
    const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(file);
    if (data !== null) {
      const bytes =
        data[2] === undefined
          ? new TextEncoder().encode(decodeURIComponent(data[3]!))
          : Buffer.from(data[3]!, 'base64');
      return { bytes: new Uint8Array(bytes), name: 'file', type: data[1] || undefined };
    }
    if (!textAllowed) throw serviceError(context, 'file', '`file` must be an http(s) URL or a data URI.');
    return { bytes: new TextEncoder().encode(file), name: 'file.txt', type: 'text/plain' };
  }

  async function store(context: Ctx, input: Record<string, unknown>, textAllowed: boolean): Promise<AppFile> {
    const got = await source(context, input.file, textAllowed);
    if (got.bytes.byteLength > MAX_FILE_BYTES) {
      throw serviceError(
        context,
        'file',
        `the file has ${got.bytes.byteLength} bytes; the most is ${MAX_FILE_BYTES}.`,
        ERROR_CODES.LIMIT,
      );
    }
    const name = typeof input.name === 'string' && input.name !== '' ? input.name : got.name;
    const given =
      typeof input.mime_type === 'string' && input.mime_type !== 'auto' ? input.mime_type : undefined;
    return deps.files.put({
      app_id: context.run.app_id,
      name,
      mime_type: given ?? got.type ?? typeFromName(name) ?? 'application/octet-stream',
      data: got.bytes,
      storage: oneOf(context, 'storage', input.storage, FILE_STORAGES, 'TEMPORARY'),
      visibility: oneOf(context, 'visibility', input.visibility, FILE_VISIBILITIES, 'PRIVATE'),
    });
  }

  /** A stored file by id or `weft-file://` URL. */
  async function stored(context: Ctx, field: string, ref: unknown) {
    const id =
      typeof ref === 'string'
        ? ref.startsWith(FILE_URL_SCHEME)
          ? ref.slice(FILE_URL_SCHEME.length)
          : ref
        : '';
    const found = id === '' ? null : await deps.files.get(context.run.app_id, id);
    if (found === null) {
      throw serviceError(
        context,
        field,
        `no file ${JSON.stringify(String(ref).slice(0, 80))} in this app's files.`,
        ERROR_CODES.NOT_FOUND,
      );
    }
    return found;
  }

  return {
    UPLOAD_FILE: (context) => store(context, serviceInput(context), true),
    DOWNLOAD_FILE: (context) => store(context, serviceInput(context), false),
    async DELETE_FILE(context) {
      const input = serviceInput(context);
      const { file } = await stored(context, 'file_id', input.file_id);
      await deps.files.delete(context.run.app_id, file.id);
      return { id: file.id, deleted: true };
    },
    async EXTRACT_CONTENTS(context) {
      const input = serviceInput(context);
      const ref = input.file;
      const got =
        typeof ref === 'string' && /^(https?:|data:)/i.test(ref)
          ? await source(context, ref, false)
          : await stored(context, 'file', ref).then(({ file, data }) => ({
              bytes: data,
              name: file.file_filename,
              type: file.file_mimetype,
            }));
      const type = (got.type ?? typeFromName(got.name) ?? '').toLowerCase();
      if (!isTextType(type)) {
        throw serviceError(
          context,
          'file',
          `Weft extracts the contents of text files only (text, Markdown, CSV, JSON, XML, HTML); this one is ${type || 'of an unknown type'}. Register services.FILES.EXTRACT_CONTENTS to extract others.`,
          ERROR_CODES.SERVICE_NOT_CONFIGURED,
        );
      }
      const text = new TextDecoder().decode(got.bytes);
      return {
        contents: type === 'text/html' ? await htmlToText(text) : text,
        mime_type: type,
        name: got.name,
      };
    },
  };
}
