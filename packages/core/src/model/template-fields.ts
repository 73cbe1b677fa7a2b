/**
 * Which step fields are templates. One definition, used by the validator (syntax checks) and the
 * compiler (templates parsed once per plan):
 * - built-in step types: the type's own configuration fields, at any depth, except those that are
 *   structure or expressions themselves (note text, input field definitions, branch conditions, code);
 * - host-registered types: every field that is not a common step field.
 * Common step fields (key, conditional, loop, destinations, auto, …) and unknown extra fields of
 * built-in steps (editors' own) are never templates.
 */
import { stepCommonFields, stepTypeFields } from './schema.js';

const COMMON_FIELDS: ReadonlySet<string> = new Set(Object.keys(stepCommonFields));

const TEMPLATED_FIELDS_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  note: [],
  input: [],
  branch: [],
  code: [],
  model: ['provider'],
  http_request: ['url', 'method', 'headers', 'body'],
  workflow: ['workflow_id', 'workflow_version_id', 'step_key', 'input'],
  service: ['service'],
  browser: ['url', 'wait_for_selector'],
};

/** Deepest nesting walked inside a templated field; deeper values are reported by the validator. */
export const MAX_TEMPLATE_DEPTH = 64;

export function isBuiltinStepType(type: string): boolean {
  return Object.hasOwn(stepTypeFields, type);
}

/** The top-level fields of a step whose string values (at any depth) are templates. */
export function templatedFieldNames(step: Record<string, unknown>): string[] {
  const type = typeof step.type === 'string' ? step.type : '';
  const known = TEMPLATED_FIELDS_BY_TYPE[type];
  if (known !== undefined) return known.filter((name) => Object.hasOwn(step, name));
  return Object.keys(step).filter((name) => !COMMON_FIELDS.has(name));
}

/**
 * Whether the step has any field `collectTemplateStrings` reads (cheap, allocates nothing): most steps of
 * big documents (a `code` step, a `branch`) have none.
 */
export function mayHaveTemplates(step: Record<string, unknown>): boolean {
  const known = TEMPLATED_FIELDS_BY_TYPE[typeof step.type === 'string' ? step.type : ''];
  if (known === undefined) return true;
  for (let i = 0; i < known.length; i++) if (Object.hasOwn(step, known[i]!)) return true;
  return false;
}

export interface TemplateString {
  /** Path segments from the step, e.g. ["provider", "messages", 0, "content"]. */
  path: Array<string | number>;
  text: string;
}

/**
 * Every string containing `{{` inside the step's templated fields, iteratively (no recursion, so hostile
 * nesting cannot overflow the stack). In a `model` step, an object with `disable_variables: true` (a
 * message or a content part, as the platform has it) holds no templates, and neither does `provider.tools`. `onTooDeep` is told of values nested past MAX_TEMPLATE_DEPTH.
 */
export function collectTemplateStrings(
  step: Record<string, unknown>,
  onTooDeep?: (path: Array<string | number>) => void,
): TemplateString[] {
  const found: TemplateString[] = [];
  const literal = step.type === 'model';
  const stack: Array<{ value: unknown; path: Array<string | number> }> = templatedFieldNames(step).map(
    (name) => ({
      value: step[name],
      path: [name],
    }),
  );
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('{{')) found.push({ path, text: value });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length > MAX_TEMPLATE_DEPTH) {
      onTooDeep?.(path);
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else if (literal && (value as { disable_variables?: unknown }).disable_variables === true) {
    } else if (literal && path.length === 1 && path[0] === 'provider') {
      // A model step's tool definitions (`provider.tools`) are structure, read when the plan is compiled.
      const keys = Object.keys(value).filter((k) => k !== 'tools');
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        stack.push({ value: (value as Record<string, unknown>)[k], path: [...path, k] });
      }
    } else {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        stack.push({ value: (value as Record<string, unknown>)[k], path: [...path, k] });
      }
    }
  }
  return found;
}

/** RFC 6901 JSON pointer from path segments. */
export function toPointer(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) out += `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return out;
}
