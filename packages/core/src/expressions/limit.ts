/**
 * The limits of one evaluation and the EXPRESSION_LIMIT error that names which one was hit, where (step,
 * field) and how to fix it. Both languages and both sides of the boundary (main thread, worker) report
 * through `limitFailure`, so a limit reads the same wherever it was hit.
 */
import { ERROR_CODES, WeftError } from '../errors.js';

export const LIMIT_KINDS = {
  /** The wall-clock deadline (`timeoutMs`). */
  TIME: 'time',
  /** The heap cap (`maxMemoryBytes`). */
  MEMORY: 'memory',
  /** The size of the value returned (`maxResultChars`). */
  RESULT: 'result',
  /** Nesting or recursion (`maxDepth` for JSONata, the sandbox's stack for JavaScript). */
  DEPTH: 'depth',
  /** A sequence longer than `maxSequence` (JSONata). */
  SEQUENCE: 'sequence',
  /** A string longer than the limit (`maxStringLength`, or the engine's own). */
  STRING: 'string',
} as const;

export type LimitKind = (typeof LIMIT_KINDS)[keyof typeof LIMIT_KINDS];

/** What the error says about each limit: what was exceeded and the option that raises it. */
const DESCRIPTIONS: Record<LimitKind, { what: (value: number | undefined) => string; option: string }> = {
  time: { what: (v) => `ran longer than its ${v ?? '?'} ms deadline`, option: 'limits.expression.timeoutMs' },
  memory: {
    what: (v) =>
      `used more than its ${v === undefined ? '' : `${Math.round(v / 1024 / 1024)} MB `}memory cap`,
    option: 'limits.expression.maxMemoryBytes',
  },
  result: {
    what: (v) => `returned a value larger than ${v ?? '?'} characters of JSON`,
    option: 'limits.expression.maxResultChars',
  },
  depth: { what: () => 'nested or recursed too deeply', option: 'limits.expression.maxDepth' },
  sequence: {
    what: (v) => `built a sequence longer than ${v ?? 'the limit'}`,
    option: 'limits.expression.maxSequence',
  },
  string: { what: () => 'built a string longer than the limit', option: 'limits.expression.maxStringLength' },
};

export interface LimitSite {
  step_key?: string;
  field: string;
}

/** The EXPRESSION_LIMIT error for `kind`, hit by the expression `source` at `site`. */
export function limitFailure(
  kind: LimitKind,
  site: LimitSite,
  source: string,
  value?: number,
  detail?: string,
): WeftError {
  const d = DESCRIPTIONS[kind];
  const where =
    site.step_key === undefined ? `\`${site.field}\`` : `\`${site.field}\` of step "${site.step_key}"`;
  const details: Record<string, unknown> = {
    field: site.field,
    limit: kind,
    expression: truncate(source, 500),
  };
  if (value !== undefined) details.limit_value = value;
  return new WeftError(
    ERROR_CODES.EXPRESSION_LIMIT,
    `The expression in ${where} ${d.what(value)}${detail === undefined ? '' : ` (${detail})`} ` +
      `(expression: ${truncate(source, 120)}). Simplify it, or raise ${d.option}.`,
    { ...(site.step_key === undefined ? {} : { step_key: site.step_key }), details, retryable: false },
  );
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
