/** Reading files and JSON: every failure becomes one clear CliError (exit 2), JSON errors with line and column. */
import { readFileSync } from 'node:fs';
import { type ParseError, parse as parseLenient, printParseErrorCode } from 'jsonc-parser';
import { CliError } from './errors.js';

/** Reads a UTF-8 text file; `what` names it in messages ("workflow", "fixtures", …). */
export function readText(file: string, what = 'file'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${file}: no such ${what} (the file does not exist).`);
    if (code === 'EISDIR') throw new CliError(`${file}: is a directory, expected a ${what} file.`);
    if (code === 'EACCES') throw new CliError(`${file}: permission denied reading the ${what}.`);
    throw new CliError(`${file}: cannot read the ${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** jsonc-parser's error codes (by name) in words. */
const MESSAGES: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' or a closing bracket",
  CloseBraceExpected: "expected ',' or '}'",
  CloseBracketExpected: "expected ',' or ']'",
  EndOfFileExpected: 'unexpected text after the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in a string (control characters must be escaped)',
};

export interface JsonLocation {
  line: number;
  column: number;
  message: string;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** Where and why `text` is not JSON (null when it is). jsonc-parser finds the spot; strict JSON rules apply. */
export function locateJsonError(text: string): JsonLocation | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    const errors: ParseError[] = [];
    parseLenient(text, errors, {
      disallowComments: true,
      allowTrailingComma: false,
      allowEmptyContent: false,
    });
    const first = errors[0];
    if (first === undefined) {
      // The lenient parser accepted what JSON.parse refused: report JSON.parse's own words.
      return { line: 1, column: 1, message: (error as Error).message };
    }
    const at = lineColumn(text, first.offset);
    let message = MESSAGES[printParseErrorCode(first.error)] ?? 'syntax error';
    if (text.trim() === '') message = 'the file is empty, expected a JSON value';
    return { ...at, message };
  }
}

/** A code frame: the offending line and a caret under the column. */
function frame(text: string, line: number, column: number): string[] {
  const source = text.split('\n')[line - 1];
  if (source === undefined) return [];
  const gutter = String(line);
  const shown = source.replace(/\t/g, ' ').slice(0, 200);
  return [
    `  ${gutter} | ${shown}`,
    `  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, column - 1))}^`,
  ];
}

/** Parses JSON; `source` names where the text came from (a path, or "--input"). */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const where = locateJsonError(text) ?? { line: 1, column: 1, message: 'syntax error' };
    throw new CliError(`${source}:${where.line}:${where.column}: invalid JSON: ${where.message}.`, {
      lines: frame(text, where.line, where.column),
    });
  }
}

export function readJson(file: string, what = 'file'): unknown {
  return parseJson(readText(file, what), file);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
