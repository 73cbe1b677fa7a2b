/**
 * `weft run --file FIELD=PATH`: a file input from a path (docs/cli.md, "File inputs"). The file is read
 * into bytes and given to the run as `{ data: <bytes>, name: <base name> }`; the engine turns it into the
 * JSON the run keeps (`{ data: base64, type, name }`, the type sniffed from the bytes or the name) — the
 * same value `--input` could give as the platform's file data object. The path is the one typed (relative
 * to the current directory); a symbolic link is followed, but only a regular file is read: a directory, a
 * FIFO, a socket or a device is refused before a byte is read (opened non-blocking, checked on the open
 * descriptor, so nothing can swap it in between or block the open). At most MAX_INPUT_FILE_BYTES.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { MAX_INPUT_FILE_BYTES } from '@weft/core';
import { CliError } from './errors.js';
import { isPlainObject } from './files.js';

export interface FileInput {
  field: string;
  path: string;
}

/** `FIELD=PATH` pairs (the first `=` splits; FIELD is a top-level input field name). */
export function parseFileFlags(pairs: readonly string[]): FileInput[] {
  return pairs.map((pair) => {
    const at = pair.indexOf('=');
    const field = at < 0 ? '' : pair.slice(0, at);
    const path = at < 0 ? '' : pair.slice(at + 1);
    if (field === '' || path === '') {
      throw new CliError(
        `--file ${JSON.stringify(pair)}: expected FIELD=PATH, e.g. --file document=./contract.pdf.`,
      );
    }
    return { field, path };
  });
}

/** The bytes of the file at `path`, for input field `field`: a regular file of at most `maxBytes`. */
export function readInputFile(field: string, path: string, maxBytes = MAX_INPUT_FILE_BYTES): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ELOOP'
            ? 'too many levels of symbolic links'
            : (error as Error).message;
    throw new CliError(`--file ${field}=${path}: cannot read the file: ${why}.`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const kind = stat.isDirectory()
        ? 'a directory'
        : stat.isFIFO()
          ? 'a FIFO'
          : stat.isSocket()
            ? 'a socket'
            : stat.isCharacterDevice() || stat.isBlockDevice()
              ? 'a device'
              : 'not a regular file';
      throw new CliError(
        `--file ${field}=${path}: is ${kind}; a file input is read from a regular file only.`,
      );
    }
    const tooLarge = () =>
      new CliError(
        `--file ${field}=${path}: the file is larger than ${maxBytes} bytes (${Math.round(maxBytes / 1024 / 1024)} MiB), the most a file input may have. Pass a URL to it in --input instead, or make it smaller.`,
      );
    if (stat.size > maxBytes) throw tooLarge();
    // Read to the end (the size may have changed since fstat), never past the cap.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooLarge();
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * The run input with each `--file` read into its field: an array field (`array: true` in the document's
 * input definition) collects every `--file` for it in order; any other field takes one. A field given by
 * `--input` too is an error (which one should win?).
 */
export function withFileInputs(
  document: Record<string, unknown>,
  input: Record<string, unknown>,
  files: readonly FileInput[],
): Record<string, unknown> {
  if (files.length === 0) return input;
  const out: Record<string, unknown> = { ...input };
  const counts = new Map<string, number>();
  for (const { field } of files) counts.set(field, (counts.get(field) ?? 0) + 1);
  for (const [field, count] of counts) {
    if (Object.hasOwn(input, field)) {
      throw new CliError(
        `--file ${field}=…: the field "${field}" is given by --input too. Give it once: drop it from --input, or drop --file.`,
      );
    }
    if (count > 1 && !isArrayField(document, field)) {
      throw new CliError(
        `--file ${field}=… is given ${count} times, but "${field}" is not an array file field (\`array: true\`). Give it once.`,
      );
    }
  }
  for (const { field, path } of files) {
    const file = { data: readInputFile(field, path), name: basename(path) };
    if (isArrayField(document, field)) out[field] = [...((out[field] as unknown[] | undefined) ?? []), file];
    else out[field] = file;
  }
  return out;
}

/** Whether the document defines `field` (workflow input or an input step) with `array: true`. */
function isArrayField(document: Record<string, unknown>, field: string): boolean {
  const definitions: unknown[] = [document.input];
  if (Array.isArray(document.steps)) {
    for (const step of document.steps)
      if (isPlainObject(step) && step.type === 'input') definitions.push(step.input);
  }
  return definitions.some(
    (fields) => isPlainObject(fields) && isPlainObject(fields[field]) && fields[field].array === true,
  );
}
