/**
 * File values in a run input (docs/files.md). A `file` field accepts, besides a URL, a data URL or a file
 * id (strings), and `{ url }` / `{ id }`:
 *
 * - raw bytes: a `Buffer` or `Uint8Array` (API callers; the CLI's `--file FIELD=PATH` reads a file into one);
 * - the platform's file data object `{ data, type?, name?, encoding? }` (`FileDataSchema`), `data` being
 *   base64 text (`encoding: "raw"`: the text itself), or raw bytes; `media_type` and `filename` are read as
 *   `type` and `name`.
 *
 * Taking an input is two steps: `captureRunInput` copies it when the call is made (binary data kept as
 * CapturedBinary, its bytes copied), then, once the document is known, bytes in file fields become
 * `{ data: <base64>, type, name? }` before anything else looks at the input — JSON, so the run input is
 * journaled, stored (SQLite, PostgreSQL) and resumed like any other, and templates read
 * `input.FIELD.name`. `type` is the caller's if given, else sniffed from the bytes (files/sniff.ts). At most
 * MAX_INPUT_FILE_BYTES per file and MAX_INPUT_FILES_BYTES for all of an input's files. Bytes anywhere
 * else (a field that is not a `file` field, an undefined field, a `Float32Array`, an `ArrayBuffer`) are an
 * INVALID_INPUT problem at their JSON pointer: binary data has no JSON form Weft could guess.
 */
import { Buffer } from 'node:buffer';
import { isPlainObject as isPlainData, readingArguments } from '../arguments.js';
import { invalidArgument, type Problem } from '../errors.js';
import { sniffMediaType } from '../files/sniff.js';
import { checkedCopy, DATA_LIMITS, setOwn } from '../json-data.js';
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

/**
 * Binary data of a run input, as it was when the input was captured (`captureRunInput`), before the
 * document says whether it sits in a file field: its size and kind, and a copy of its bytes when it is a
 * Uint8Array the caps allow. Every later check reads this, never the caller's object.
 */
class CapturedBinary {
  constructor(
    /** The constructor's name, for the "binary data here" problem ("Buffer", "Float32Array"…). */
    readonly name: string,
    readonly byteLength: number,
    /**
     * The bytes, copied; null when the value is not a Uint8Array, or when copying it would pass a cap
     * (one file over MAX_INPUT_FILE_BYTES, all of them over MAX_INPUT_FILES_BYTES): such an input is
     * refused anyway, whatever its document, and its bytes are never read.
     */
    readonly bytes: Uint8Array | null,
    /** A Uint8Array (or Buffer): what a file field takes. */
    readonly isBytes: boolean,
  ) {}
}

/** The intrinsic getters: a subclass or a hostile object cannot answer for the bytes it holds. */
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsic = (name: string) => Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, name)!.get!;
const typedBuffer = intrinsic('buffer');
const typedByteOffset = intrinsic('byteOffset');
const typedByteLength = intrinsic('byteLength');

function binaryName(value: object): string {
  try {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'bytes';
  } catch {
    return 'bytes';
  }
}

/** Binary data met while capturing one input, and the bytes copied so far (bounded by the caps). */
interface Capture {
  binary: boolean;
  copied: number;
}

/** `checkedCopy`'s LeafCopier for a run input: binary data becomes a CapturedBinary. */
function captureBinary(capture: Capture, value: object): CapturedBinary | undefined {
  if (!isBinary(value)) return undefined;
  capture.binary = true;
  if (!isBytes(value)) return new CapturedBinary(binaryName(value), 0, null, false);
  const size = Reflect.apply(typedByteLength, value, []) as number;
  let bytes: Uint8Array | null = null;
  if (size <= MAX_INPUT_FILE_BYTES && capture.copied + size <= MAX_INPUT_FILES_BYTES) {
    capture.copied += size;
    const buffer = Reflect.apply(typedBuffer, value, []) as ArrayBufferLike;
    const offset = Reflect.apply(typedByteOffset, value, []) as number;
    bytes = new Uint8Array(size);
    bytes.set(new Uint8Array(buffer, offset, size));
  }
  return new CapturedBinary(binaryName(value), size, bytes, true);
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
 * The captured input (`captureRunInput`) with every file value given as bytes turned into
 * `{ data: base64, type, name? }`, and every problem of a file value (too large, a bad `type` or `name`)
 * listed. Only file fields are visited; the input itself is never changed: what is converted is copied
 * along its path.
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
 * A run input taken from its caller (`captureRunInput`): a copy made at the call, plain JSON data except
 * for the binary data in it, which waits for the document to say which of it is a file. Opaque: only
 * this file makes one or reads it.
 */
export class CapturedRunInput {
  /** @internal */
  constructor(
    /** @internal The copy: JSON data, and CapturedBinary values wherever the caller had binary data. */
    readonly copy: Record<string, unknown>,
    /** @internal Whether the copy holds a CapturedBinary (else no binary data can be left to refuse). */
    readonly binary: boolean,
  ) {}
}

/**
 * Step one of taking a run input, which needs no document, so the registry takes it when it is called,
 * before any await (docs/api.md, "The run input is the run's own"): a plain object (INVALID_ARGUMENT
 * `input` otherwise, a Date or a Map included) copied as JSON data (checkedCopy: INVALID_ARGUMENT naming
 * the path of a function, BigInt, cycle, class instance or throwing getter/Proxy; LIMIT_EXCEEDED past
 * DATA_LIMITS), binary data kept as it is now — its bytes copied, within the caps — for step two. From
 * here on nothing the caller does to its object reaches the run.
 */
export function captureRunInput(input: unknown): CapturedRunInput {
  return readingArguments('input', () => {
    if (!isPlainData(input)) throw invalidArgument('input', 'an object', input);
    const capture: Capture = { binary: false, copied: 0 };
    const copy = checkedCopy(input, 'input', DATA_LIMITS, (value) => captureBinary(capture, value));
    return new CapturedRunInput(copy as Record<string, unknown>, capture.binary);
  });
}

/**
 * Step two, against the run's document: file values given as bytes converted (INVALID_INPUT lists their
 * problems), then any binary data left — outside a file field, or not bytes a file field takes —
 * INVALID_INPUT at its JSON pointer. The result is plain JSON data, the copy step one made (copied again
 * only along the path of a converted file).
 */
function finishRunInput(document: object, captured: CapturedRunInput): Record<string, unknown> {
  const normalized = normalizeFileInputs(fileSites(document), captured.copy);
  if (normalized.problems.length > 0) throw invalidInput(normalized.problems);
  if (!captured.binary) return normalized.input;
  const binary = binaryProblems(normalized.input);
  if (binary.length > 0) throw invalidInput(binary);
  return normalized.input;
}

/**
 * The run input of `engine.start` and the registry, in one call: `captureRunInput`, then its check against
 * `document`. Errors in that order: the input's own (INVALID_ARGUMENT, LIMIT_EXCEEDED) before its
 * document's (INVALID_INPUT: file problems, then binary data outside file fields).
 */
export function copyRunInput(document: object, input: Record<string, unknown>): Record<string, unknown> {
  return finishRunInput(document, captureRunInput(input));
}

/**
 * Run inputs finished by `handOverRunInput` and not yet taken by `engine.start`. Held by object, so the
 * mark names one copy that only Weft's own code has ever referenced (a caller never sees it), and it is
 * taken once: the copy becomes the run's input, never another run's.
 */
const HANDED_OVER = new WeakSet<object>();

/**
 * Step two of a captured input, for a caller that hands the result to `engine.start` (the registry): the
 * engine keeps it as the run's input instead of copying it again (`ownRunInput`). One copy per run, taken
 * where the input enters Weft; the caller's object and the run's are never the same object.
 */
export function handOverRunInput(document: object, captured: CapturedRunInput): Record<string, unknown> {
  const copy = finishRunInput(document, captured);
  HANDED_OVER.add(copy);
  return copy;
}

/**
 * The input a run keeps (`engine.start`): a copy `handOverRunInput` made, as it is and only once; anything
 * else captured and checked here (`copyRunInput`) — a direct caller of the engine has no copy before it.
 * Both paths refuse the same inputs with the same errors.
 */
export function ownRunInput(document: object, input: unknown): Record<string, unknown> {
  if (input !== null && typeof input === 'object' && HANDED_OVER.delete(input)) {
    return input as Record<string, unknown>;
  }
  return finishRunInput(document, captureRunInput(input));
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
  if (value instanceof CapturedBinary && value.isBytes) {
    return fromBytes(value, undefined, undefined, at, label, budget, out);
  }
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
  if (data instanceof CapturedBinary && data.isBytes) {
    return fromBytes(data, mediaType, name as string | undefined, at, label, budget, out);
  }
  if (typeof data !== 'string') {
    out.add(
      INPUT_PROBLEM_CODES.TYPE,
      pointer(...path, 'data'),
      `The data of file field "${label}" must be base64 text, a URL, or a Buffer/Uint8Array; got ${data instanceof CapturedBinary ? 'binary data that is not a Uint8Array' : describeInput(data)}.`,
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
  captured: CapturedBinary,
  type: string | undefined,
  name: string | undefined,
  at: string,
  label: string,
  budget: Budget,
  out: InputProblemList,
): unknown {
  const bytes = captured.bytes;
  // Bytes not copied were over a cap: this charge, or another file's, fails — the input is refused.
  if (!charge(captured.byteLength, at, label, budget, out) || bytes === null) return captured;
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
      if (value instanceof CapturedBinary || isBinary(value)) {
        const first = path[0];
        out.add(
          INPUT_PROBLEM_CODES.BINARY,
          pointer(...path),
          `${path.length === 0 ? 'The run input' : `The value at ${pointer(...path)}`} is binary data (${value instanceof CapturedBinary ? value.name : binaryName(value)}), which only a file field takes${first === undefined ? '' : ` ("${first}" is not a file field here${path.length > 1 ? ', or this is not where its file goes' : ''})`}. Make the field a file field, or pass text (e.g. base64) instead.`,
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
