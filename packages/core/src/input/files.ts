/**
 * File values in a run input (docs/files.md). A `file` field accepts, besides a URL, a data URL or a file
 * id (strings), and `{ url }` / `{ id }`:
 *
 * - raw bytes: a `Buffer` or `Uint8Array` (API callers; the CLI's `--file FIELD=PATH` reads a file into one);
 * - the platform's file data object `{ data, type?, name?, encoding? }` (`FileDataSchema`), `data` being
 *   base64 text (`encoding: "raw"`: the text itself), or raw bytes; `media_type` and `filename` are read as
 *   `type` and `name`.
 *
 * Bytes become `{ data: <base64>, type, name? }` before anything else looks at the input — JSON, so the run
 * input is journaled, stored (SQLite, PostgreSQL) and resumed like any other, and templates read
 * `input.FIELD.name`. `type` is the caller's if given, else sniffed from the bytes (files/sniff.ts). At most
 * MAX_INPUT_FILE_BYTES per file and MAX_INPUT_FILES_BYTES for all of an input's files. Bytes anywhere
 * else (a field that is not a `file` field, an undefined field, a `Float32Array`, an `ArrayBuffer`) are an
 * INVALID_INPUT problem at their JSON pointer: binary data has no JSON form Weft could guess.
 */
import { Buffer } from 'node:buffer';
import { isPlainObject as isPlainData, readingArguments } from '../arguments.js';
import { invalidArgument, type Problem } from '../errors.js';
import { sniffMediaType } from '../files/sniff.js';
import { checkedCopy, setOwn } from '../json-data.js';
import { type InputFieldSite, inputDefinitions, invalidInput } from './check.js';
import {
  describeInput,
  type FieldDefinition,
  INPUT_PROBLEM_CODES,
  InputProblemList,
  isFieldDefinition,
  isPlainObject,
  pointer,
} from './fields.js';

/** The most bytes one file of a run input may have (20 MiB, as a file in a model message). */
export const MAX_INPUT_FILE_BYTES = 20 * 1024 * 1024;
/** The most bytes all the files of one run input may have together. */
export const MAX_INPUT_FILES_BYTES = 50 * 1024 * 1024;
/** A file name longer than this is refused (file systems stop at 255 bytes). */
const MAX_NAME_LENGTH = 255;
/** Walking the input for stray binary data stops at this depth and count (checkedCopy bounds the rest). */
const MAX_SCAN_DEPTH = 256;
const MAX_SCAN_VALUES = 2_000_000;

/** `type/subtype`, as RFC 6838 restricts both names (parameters are not kept). */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** A file value as the run keeps it when it arrived as bytes. */
export interface InputFileData {
  data: string;
  type: string;
  name?: string;
}

/** Buffer and Uint8Array (a Buffer is one): the binary forms a file field takes. */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** Any binary data: a typed array, a DataView or an ArrayBuffer (for the "not here" problem). */
function isBinary(value: unknown): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)
  );
}

/** Base64 text of `length` characters decodes to about this many bytes. */
const base64Bytes = (length: number): number => Math.floor((length * 3) / 4);

interface Budget {
  bytes: number;
}

/** The document's `file` fields (and object fields holding some), by name: computed once per document. */
const FILE_SITES = new WeakMap<object, readonly InputFieldSite[]>();

function holdsFiles(field: FieldDefinition, depth = 0): boolean {
  if (field.type === 'file') return true;
  if (field.type !== 'object' || !isPlainObject(field.fields) || depth >= MAX_SCAN_DEPTH) return false;
  return Object.values(field.fields).some((sub) => isFieldDefinition(sub) && holdsFiles(sub, depth + 1));
}

/** The input definitions that hold a file field (first definition of each name), cached per document. */
export function fileSites(document: object): readonly InputFieldSite[] {
  let sites = FILE_SITES.get(document);
  if (sites === undefined) {
    const seen = new Set<string>();
    sites = inputDefinitions(document).filter((site) => {
      if (seen.has(site.name) || !holdsFiles(site.field)) return false;
      seen.add(site.name);
      return true;
    });
    FILE_SITES.set(document, sites);
  }
  return sites;
}

/**
 * The input with every file value given as bytes turned into `{ data: base64, type, name? }`, and every
 * problem of a file value (too large, a bad `type` or `name`) listed. Only file fields are visited; the
 * input itself is never changed: what is converted is copied along its path.
 */
export function normalizeFileInputs(
  sites: readonly InputFieldSite[],
  input: Record<string, unknown>,
): { input: Record<string, unknown>; problems: Problem[] } {
  if (sites.length === 0) return { input, problems: [] };
  const out = new InputProblemList();
  const budget: Budget = { bytes: 0 };
  let result = input;
  for (const { name, field } of sites) {
    if (!Object.hasOwn(input, name)) continue;
    const value = input[name];
    const next = normalizeField(field, value, [name], budget, out, 0);
    if (next !== value) {
      if (result === input) result = { ...input };
      setOwn(result, name, next);
    }
  }
  return { input: result, problems: out.finish() };
}

/**
 * The run input of `engine.start` and the registry: file values converted, then copied as plain JSON
 * (checkedCopy). INVALID_INPUT lists the file problems, or the binary data found outside file fields (at
 * their JSON pointers) when the copy refuses the input; any other refusal is checkedCopy's own error.
 */
export function copyRunInput(document: object, input: Record<string, unknown>): Record<string, unknown> {
  const normalized = normalizeFileInputs(fileSites(document), input);
  if (normalized.problems.length > 0) throw invalidInput(normalized.problems);
  try {
    return checkedCopy(normalized.input, 'input') as Record<string, unknown>;
  } catch (error) {
    const binary = binaryProblems(normalized.input);
    if (binary.length > 0) throw invalidInput(binary);
    throw error;
  }
}

/**
 * Run inputs copied by `handOverRunInput` and not yet taken by `engine.start`. Held by object, so the mark
 * names one copy that only Weft's own code has ever referenced (a caller never sees it), and it is taken
 * once: the copy becomes the run's input, never another run's.
 */
const HANDED_OVER = new WeakSet<object>();

/**
 * `copyRunInput`, for a caller that hands the copy to `engine.start` (the registry): the engine keeps
 * that copy as the run's input instead of copying it again (`ownRunInput`). One copy per run, taken where
 * the input enters Weft; the caller's object and the run's are never the same object.
 */
export function handOverRunInput(document: object, input: unknown): Record<string, unknown> {
  const copy = checkedRunInput(document, input);
  HANDED_OVER.add(copy);
  return copy;
}

/**
 * The input a run keeps (`engine.start`): a copy `handOverRunInput` made, as it is and only once; anything
 * else checked and copied — a direct caller of the engine has no copy before it.
 */
export function ownRunInput(document: object, input: unknown): Record<string, unknown> {
  if (input !== null && typeof input === 'object' && HANDED_OVER.delete(input)) {
    return input as Record<string, unknown>;
  }
  return checkedRunInput(document, input);
}

/**
 * The run input as `engine.start` and `runs.run` take it, so that both refuse the same inputs with the
 * same errors: a plain object (INVALID_ARGUMENT `input` otherwise, a Date or a Map included), copied by
 * `copyRunInput`; a getter or Proxy that throws while it is read is INVALID_ARGUMENT too.
 */
function checkedRunInput(document: object, input: unknown): Record<string, unknown> {
  return readingArguments('input', () => {
    if (!isPlainData(input)) throw invalidArgument('input', 'an object', input);
    return copyRunInput(document, input);
  });
}

/** One field's value (an array field's elements, a nested object's fields) with its files converted. */
function normalizeField(
  field: FieldDefinition,
  value: unknown,
  path: string[],
  budget: Budget,
  out: InputProblemList,
  depth: number,
): unknown {
  if (value === null || value === undefined || depth > MAX_SCAN_DEPTH) return value;
  if (field.array === true) {
    if (!Array.isArray(value)) return value;
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length && !out.full; i++) {
      const next = normalizeOne(field, value[i], [...path, String(i)], budget, out, depth + 1);
      if (next !== value[i]) {
        copy ??= [...value];
        copy[i] = next;
      }
    }
    return copy ?? value;
  }
  return normalizeOne(field, value, path, budget, out, depth);
}

function normalizeOne(
  field: FieldDefinition,
  value: unknown,
  path: string[],
  budget: Budget,
  out: InputProblemList,
  depth: number,
): unknown {
  if (field.type === 'file') return fileValue(value, path, budget, out);
  if (field.type !== 'object' || !isPlainObject(field.fields) || !isPlainObject(value)) return value;
  let copy: Record<string, unknown> | null = null;
  for (const [name, sub] of Object.entries(field.fields)) {
    if (!isFieldDefinition(sub) || !Object.hasOwn(value, name)) continue;
    const next = normalizeField(sub, value[name], [...path, name], budget, out, depth + 1);
    if (next !== value[name]) {
      copy ??= { ...value };
      setOwn(copy, name, next);
    }
  }
  return copy ?? value;
}

/** A file field's value: bytes or a file data object converted; strings and `{ url }`/`{ id }` as they are. */
function fileValue(value: unknown, path: string[], budget: Budget, out: InputProblemList): unknown {
  const at = pointer(...path);
  const label = path.join('.');
  if (typeof value === 'string') {
    checkDataUrlSize(value, at, label, budget, out);
    return value;
  }
  if (isBytes(value)) return fromBytes(value, undefined, undefined, at, label, budget, out);
  if (!isPlainObject(value) || !('data' in value)) return value;
  const data = value.data;
  const type = value.type ?? value.media_type;
  const name = value.name ?? value.filename;
  if (type !== undefined && (typeof type !== 'string' || !MEDIA_TYPE.test(type.trim().toLowerCase()))) {
    out.add(
      INPUT_PROBLEM_CODES.TYPE,
      pointer(...path, value.type !== undefined ? 'type' : 'media_type'),
      `The media type of file field "${label}" must be a string "type/subtype" such as "application/pdf"; got ${describeInput(type)}. Fix it, or leave it out to have Weft sniff it from the bytes.`,
    );
    return value;
  }
  if (
    name !== undefined &&
    (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)
  ) {
    out.add(
      INPUT_PROBLEM_CODES.TYPE,
      pointer(...path, value.name !== undefined ? 'name' : 'filename'),
      `The name of file field "${label}" must be a string of 1 to ${MAX_NAME_LENGTH} characters; got ${describeInput(name)}.`,
    );
    return value;
  }
  const mediaType = type === undefined ? undefined : (type as string).trim().toLowerCase();
  if (isBytes(data)) return fromBytes(data, mediaType, name as string | undefined, at, label, budget, out);
  if (typeof data !== 'string') {
    out.add(
      INPUT_PROBLEM_CODES.TYPE,
      pointer(...path, 'data'),
      `The data of file field "${label}" must be base64 text, a URL, or a Buffer/Uint8Array; got ${isBinary(data) ? 'binary data that is not a Uint8Array' : describeInput(data)}.`,
    );
    return value;
  }
  if (value.encoding !== undefined && value.encoding !== 'base64' && value.encoding !== 'raw') {
    out.add(
      INPUT_PROBLEM_CODES.OPTION,
      pointer(...path, 'encoding'),
      `The encoding of file field "${label}" must be "base64" (the default) or "raw"; got ${describeInput(value.encoding)}.`,
    );
    return value;
  }
  const size = value.encoding === 'raw' ? Buffer.byteLength(data, 'utf8') : base64Bytes(data.length);
  if (/^[a-z][a-z0-9+.-]*:/i.test(data)) checkDataUrlSize(data, pointer(...path, 'data'), label, budget, out);
  else charge(size, pointer(...path, 'data'), label, budget, out);
  return value;
}

function fromBytes(
  bytes: Uint8Array,
  type: string | undefined,
  name: string | undefined,
  at: string,
  label: string,
  budget: Budget,
  out: InputProblemList,
): unknown {
  if (!charge(bytes.byteLength, at, label, budget, out)) return bytes;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const file: InputFileData = {
    data: view.toString('base64'),
    type: type ?? sniffMediaType(bytes, name),
  };
  if (name !== undefined) file.name = name;
  return file;
}

/** A `data:` URL's payload counts against the caps too (other URLs are fetched under their own cap). */
function checkDataUrlSize(
  value: string,
  at: string,
  label: string,
  budget: Budget,
  out: InputProblemList,
): void {
  if (!value.startsWith('data:')) return;
  const comma = value.indexOf(',');
  const payload = comma < 0 ? 0 : value.length - comma - 1;
  const base64 = comma >= 0 && value.slice(0, comma).split(';').includes('base64');
  charge(base64 ? base64Bytes(payload) : payload, at, label, budget, out);
}

/** Counts a file's bytes; false (and a problem) when it is over a cap. */
function charge(size: number, at: string, label: string, budget: Budget, out: InputProblemList): boolean {
  if (size > MAX_INPUT_FILE_BYTES) {
    out.add(
      INPUT_PROBLEM_CODES.FILE_TOO_LARGE,
      at,
      `File field "${label}" holds ${size} bytes; a file in a run input may have at most ${MAX_INPUT_FILE_BYTES} bytes (20 MiB). Pass a URL to the file instead, or make it smaller.`,
    );
    return false;
  }
  budget.bytes += size;
  if (budget.bytes > MAX_INPUT_FILES_BYTES) {
    out.add(
      INPUT_PROBLEM_CODES.FILE_TOO_LARGE,
      at,
      `The files of the run input come to more than ${MAX_INPUT_FILES_BYTES} bytes (50 MiB) with field "${label}"; pass URLs to the files instead.`,
    );
    return false;
  }
  return true;
}

/**
 * Binary data that is still in the input (not in a file field, or not bytes a file field takes): one
 * problem at its pointer. Iterative and bounded; a value that throws when read is left to checkedCopy.
 */
export function binaryProblems(input: unknown): Problem[] {
  const out = new InputProblemList();
  const stack: Array<{ value: unknown; path: string[]; depth: number }> = [
    { value: input, path: [], depth: 0 },
  ];
  // Only containers and binary data are worth a stack entry (a million numbers cost nothing here).
  const push = (value: unknown, path: string[], depth: number) => {
    if (value !== null && typeof value === 'object') stack.push({ value, path, depth });
  };
  const seen = new Set<object>();
  let count = 0;
  try {
    while (stack.length > 0 && count++ < MAX_SCAN_VALUES && !out.full) {
      const { value, path, depth } = stack.pop()!;
      if (value === null || typeof value !== 'object') continue;
      if (isBinary(value)) {
        const first = path[0];
        out.add(
          INPUT_PROBLEM_CODES.BINARY,
          pointer(...path),
          `${path.length === 0 ? 'The run input' : `The value at ${pointer(...path)}`} is binary data (${value.constructor?.name ?? 'bytes'}), which only a file field takes${first === undefined ? '' : ` ("${first}" is not a file field here${path.length > 1 ? ', or this is not where its file goes' : ''})`}. Make the field a file field, or pass text (e.g. base64) instead.`,
        );
        continue;
      }
      if (seen.has(value) || depth >= MAX_SCAN_DEPTH) continue;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) push(value[i], [...path, String(i)], depth + 1);
      } else {
        const keys = Object.keys(value);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i]!;
          push((value as Record<string, unknown>)[key], [...path, key], depth + 1);
        }
      }
    }
  } catch {
    // A getter or Proxy that throws: checkedCopy reports it with its own words.
  }
  return out.finish();
}
