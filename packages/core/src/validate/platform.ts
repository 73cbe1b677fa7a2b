/**
 * The platform's fields that Weft reads differently or not at all: nothing is silently ignored. Each is an
 * UNSUPPORTED_FIELD warning naming the field and what Weft does instead (the document still runs). Also
 * here: input field definitions beyond the flat schema — nested `fields` of object fields (iteratively, to
 * MAX_FIELD_DEPTH) and `default`s that do not fit their field's type.
 *
 * The list (docs/errors.md, UNSUPPORTED_FIELD, keeps it for users):
 * - `model`: `provider.features` (web search);
 * - `input`: `webhook`; `allowed_modes` with "auto"/"all" on a nested field (only top-level fields are
 *   auto-filled);
 *   `allowed_types` of file and connection fields; `additional_fields` given as a list definition;
 * - `browser`: `wait_for_selector`, unless the host registered a browser handler.
 */
import { MAX_FIELD_DEPTH, typeMismatch } from '../input/fields.js';
import { INPUT_FIELD_TYPES } from '../model/schema.js';
import { toPointer } from '../model/template-fields.js';
import type { ProblemInput } from './problems.js';
import { describeGot, quote } from './problems.js';

type Obj = Record<string, unknown>;
type Add = (problem: ProblemInput) => void;

const isObject = (value: unknown): value is Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const FIELD_TYPES: ReadonlySet<string> = new Set(INPUT_FIELD_TYPES);

const present = (value: unknown): boolean =>
  value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0);

/** The document's own platform fields. */
export function documentPlatformProblems(doc: Obj, add: Add): void {
  checkInputFields(doc.input, ['input'], undefined, 'The workflow input', add);
}

/** One step's platform fields (the step is an object). */
export function stepPlatformProblems(
  step: Obj,
  i: number,
  key: string | undefined,
  subject: string,
  registered: ReadonlySet<string>,
  add: Add,
): void {
  const at = (...path: Array<string | number>) => toPointer(['steps', i, ...path]);
  const warn = (path: string, message: string) =>
    add({ code: 'UNSUPPORTED_FIELD', path, step_key: key, message: `${subject}: ${message}` });
  switch (step.type) {
    case 'model': {
      const provider = step.provider;
      if (!isObject(provider)) return;
      if (isObject(provider.features) && Object.keys(provider.features).length > 0) {
        warn(
          at('provider', 'features'),
          `\`provider.features\` (${Object.keys(provider.features).slice(0, 5).join(', ')}) is not supported: Weft ` +
            'enables no provider feature such as web search, so the model answers from its own knowledge.',
        );
      }
      return;
    }
    case 'input':
      if (present(step.webhook)) {
        warn(
          at('webhook'),
          '`webhook` is not supported: Weft listens for no webhook; the run input comes from whoever starts ' +
            'the run (engine.start, runs.run, weft run --input).',
        );
      }
      checkInputFields(step.input, ['steps', i, 'input'], key, subject, add);
      return;
    case 'browser':
      if (
        typeof step.wait_for_selector === 'string' &&
        step.wait_for_selector.trim() !== '' &&
        !registered.has('browser')
      ) {
        warn(
          at('wait_for_selector'),
          '`wait_for_selector` is not supported by the built-in browser step: it fetches the page without ' +
            'running it, so nothing is waited for. Register a browser handler (createEngine({ steps: { browser } })) ' +
            'to render pages.',
        );
      }
      return;
  }
}

/**
 * Input field definitions: nested `fields` (their `type`), `default`s that do not fit, and the platform
 * attributes Weft does not honour. Iterative, to MAX_FIELD_DEPTH.
 */
function checkInputFields(
  fields: unknown,
  base: Array<string | number>,
  key: string | undefined,
  subject: string,
  add: Add,
): void {
  if (!isObject(fields)) return;
  const stack: Array<{ fields: Obj; path: Array<string | number>; depth: number }> = [
    { fields, path: base, depth: 0 },
  ];
  while (stack.length > 0) {
    const { fields: level, path, depth } = stack.pop()!;
    for (const [name, field] of Object.entries(level)) {
      const here = [...path, name];
      const label = here
        .slice(base.length)
        .filter((_, n) => n % 2 === 0)
        .join('.');
      if (depth > 0) {
        // Top-level definitions are shape-checked by the schema; nested ones only here.
        if (!isObject(field) || typeof field.type !== 'string') {
          add({
            code: 'INVALID_TYPE',
            path: toPointer(here),
            step_key: key,
            message: `${subject}: the nested field ${quote(label)} must be a field definition such as {"type": "string"}, but it is ${describeGot(isObject(field) ? field.type : field)}.`,
          });
          continue;
        }
        if (!FIELD_TYPES.has(field.type)) {
          add({
            code: 'INVALID_VALUE',
            path: toPointer([...here, 'type']),
            step_key: key,
            message: `${subject}: the nested field ${quote(label)} has the type ${quote(field.type, 40)}. Use one of ${INPUT_FIELD_TYPES.join(', ')}.`,
          });
          continue;
        }
      }
      if (!isObject(field) || typeof field.type !== 'string' || !FIELD_TYPES.has(field.type)) continue;
      fieldAttributes(field as Obj & { type: string }, here, label, key, subject, add, depth);
      if (field.type === 'object' && isObject(field.fields)) {
        if (depth + 1 >= MAX_FIELD_DEPTH) {
          add({
            code: 'LIMIT',
            path: toPointer([...here, 'fields']),
            step_key: key,
            message: `${subject}: the field ${quote(label)} nests object fields more than ${MAX_FIELD_DEPTH} levels deep; deeper fields are not checked. Flatten the definition.`,
          });
          continue;
        }
        stack.push({ fields: field.fields, path: [...here, 'fields'], depth: depth + 1 });
      }
    }
  }
}

function fieldAttributes(
  field: Obj & { type: string },
  here: Array<string | number>,
  label: string,
  key: string | undefined,
  subject: string,
  add: Add,
  depth: number,
): void {
  const warn = (attribute: string, message: string) =>
    add({
      code: 'UNSUPPORTED_FIELD',
      path: toPointer([...here, attribute]),
      step_key: key,
      message: `${subject}: field ${quote(label)}: ${message}`,
    });
  if (field.default !== undefined && field.type !== 'content') {
    const values = field.array === true && Array.isArray(field.default) ? field.default : [field.default];
    const mismatch =
      field.array === true && !Array.isArray(field.default)
        ? { expected: `an array of ${field.type} values` }
        : values.map((v) => typeMismatch(field, v)).find((m) => m !== null);
    if (mismatch !== undefined && mismatch !== null) {
      add({
        code: 'INVALID_VALUE',
        path: toPointer([...here, 'default']),
        step_key: key,
        message: `${subject}: the default of field ${quote(label)} is ${describeGot(field.default)}, but it must be ${mismatch.expected}. Fix the default or remove it.`,
      });
    }
  }
  const modes = field.allowed_modes;
  if (depth > 0 && Array.isArray(modes) && (modes.includes('auto') || modes.includes('all'))) {
    warn(
      'allowed_modes',
      '`allowed_modes` on a nested field is not acted on: Weft fills only top-level fields left to a model ' +
        '(with the whole object). Put `allowed_modes` on the top-level field.',
    );
  }
  if ((field.type === 'file' || field.type === 'connection') && present(field.allowed_types)) {
    warn(
      'allowed_types',
      field.type === 'file'
        ? '`allowed_types` is not checked: Weft sees a file as a URL or an id, not its content type.'
        : '`allowed_types` is not checked: Weft has no connections of its own; the connection id is passed as it is.',
    );
  }
  if (isObject(field.additional_fields)) {
    warn(
      'additional_fields',
      '`additional_fields` given as a list definition is not supported: extra keys are allowed, and not checked.',
    );
  }
}
