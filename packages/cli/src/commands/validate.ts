/**
 * `weft validate <file…>`: every problem of every file; exit 1 on errors, 2 when a file cannot be read.
 * With `providers` (the ones `weft run` would use), also AUTO_UNSERVED warnings: `auto` they cannot serve.
 */
import { autoProblems, type Problem, type Provider, validateVersion } from '@weft/core';
import { problemLines } from '../common.js';
import { CliError, EXIT } from '../errors.js';
import { colorsFor, writeLine } from '../output.js';
import { loadWorkflow } from '../project.js';
import type { Io } from './run.js';

export interface ValidateFlags {
  json: boolean;
  /** Step types registered by `--plugin` modules (valid in addition to the built-in ones). */
  stepTypes?: readonly string[];
  /** The expression language of documents that do not say (`--language`). */
  language?: 'jsonata' | 'javascript';
  /** The providers `weft run` would use: a version's `auto` they cannot serve is a warning. */
  providers?: Record<string, Provider>;
}

interface FileReport {
  file: string;
  ok: boolean;
  /** Set when the file could not be read or parsed (exit 2). */
  error: string | null;
  problems: Problem[];
}

export function validateFile(
  file: string,
  stepTypes: readonly string[] = [],
  language?: 'jsonata' | 'javascript',
  providers?: Record<string, Provider>,
): FileReport {
  let document: Record<string, unknown>;
  try {
    document = loadWorkflow(file).document;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { file, ok: false, error: [error.message, ...error.lines].join('\n'), problems: [] };
  }
  const result = validateVersion(document, { stepTypes, ...(language === undefined ? {} : { language }) });
  const problems = [...result.problems];
  if (providers !== undefined) problems.push(...autoProblems(document, providers));
  return { file, ok: result.ok, error: null, problems };
}

export function validateCommand(files: readonly string[], flags: ValidateFlags, io: Io): number {
  const reports = files.map((file) => validateFile(file, flags.stepTypes, flags.language, flags.providers));
  if (flags.json) {
    writeLine(io.stdout, JSON.stringify(reports, null, 2));
  } else {
    const c = colorsFor(io.stdout, io.env);
    for (const report of reports) {
      if (report.error !== null) {
        writeLine(io.stdout, c.red(report.error));
        continue;
      }
      const errors = report.problems.filter((p) => p.severity === 'error').length;
      const warnings = report.problems.length - errors;
      for (const line of problemLines(report.file, report.problems)) {
        writeLine(io.stdout, line.includes(': warning ') ? c.yellow(line) : c.red(line));
      }
      const counts = [
        errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : '',
        warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '',
      ].filter((s) => s !== '');
      const verdict = report.ok ? c.green('✔ valid') : c.red('✖ invalid');
      writeLine(io.stdout, `${report.file}: ${verdict}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`);
    }
  }
  if (reports.some((r) => r.error !== null)) return EXIT.USAGE;
  return reports.every((r) => r.ok) ? EXIT.OK : EXIT.FAILED;
}
