/**
 * Auto-fill: input fields left to a model (docs/semantics.md, "Fields left to the model"). Before a
 * run's first step, once per run, every top-level input field whose `allowed_modes` allows "auto" (or
 * "all"), that has no `default` and that the caller (or `input_default`) left without a value is asked
 * of a model with structured output: the JSON Schema of those fields (input/json-schema.ts), and as
 * context the inputs that were given, the version's `description` and `notes`, and each field's `name` and
 * `desc`. Fields of the workflow-level input use the engine's `auto` config; fields of an input step use
 * that step's `auto` block over it. When the config names no model (or "auto"), the model is chosen like
 * a `model` step's (providers/auto-model.ts), for JSON output.
 *
 * The answer is checked like any input (input/fields.ts); an answer that does not fit is sent back once
 * with the problems, and a second one that does not fit (or a failed call) fails the run with
 * AUTO_FILL_FAILED. The values join the run input; the runner journals them in `run.started`
 * (`auto_fill`), so a resumed run reuses them and a replay, whose input is the original run's, asks nothing.
 *
 * `autoFillGroups` (which fields, which config) is pure; `autoFill` makes the calls.
 */
import { randomUUID } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import { ERROR_CODES, type ErrorRecord, ensureWeftError, type Problem, WeftError } from '../errors.js';
import type { InputFieldSite } from '../input/check.js';
import {
  allowsAuto,
  checkField,
  type FieldDefinition,
  InputProblemList,
  isPlainObject,
} from '../input/fields.js';
import { fieldsJsonSchema } from '../input/json-schema.js';
import { checkedCopy, setOwn } from '../json-data.js';
import type { Auto, Message } from '../model/types.js';
import { isAutoModel, type ModelNeeds, type ModelSelection, stepNeeds } from '../providers/auto-model.js';
import type { PricingTable, Provider } from '../providers/provider.js';
import { priceCall } from '../usage/pricing.js';
import { AUTO_FILL_USAGE_KEY } from './journal.js';
import type { UsageCall } from './types.js';

/** Context sent to the model is cut to this many characters per part (inputs, description, notes). */
export const AUTO_FILL_CONTEXT_CHARS = 20_000;

/** Fields filled by one call: those of one input definition (the workflow's, or one input step's). */
export interface AutoFillGroup {
  /** The input step whose fields these are; null for the workflow-level input. */
  step_key: string | null;
  /** The provider/model/temperature: the step's `auto` over the engine's. */
  config: Auto;
  fields: Record<string, FieldDefinition>;
}

/** What auto-fill did: the values, the fields filled, the calls made, or the error that failed the run. */
export interface AutoFillResult {
  values: Record<string, unknown>;
  fields: string[];
  calls: UsageCall[];
  error: ErrorRecord | null;
}

/**
 * The fields a model filled, from a stored run: the fields its auto-fill calls asked for that the input
 * holds (a field is asked only when the caller left it out, so one the input holds was filled).
 */
export function autoFilledOf(input: unknown, usage: unknown): string[] {
  const calls = (usage as { steps?: Record<string, { calls?: unknown }> } | null)?.steps?.[
    AUTO_FILL_USAGE_KEY
  ]?.calls;
  if (!Array.isArray(calls) || !isPlainObject(input)) return [];
  const out = new Set<string>();
  for (const call of calls) {
    const fields = isPlainObject(call) && Array.isArray(call.fields) ? call.fields : [];
    for (const field of fields) {
      if (typeof field === 'string' && input[field] !== undefined && input[field] !== null) out.add(field);
    }
  }
  return [...out];
}

/** The fields to fill for `input` (the run input, `input_default` merged), grouped by definition. */
export function autoFillGroups(
  sites: readonly InputFieldSite[],
  document: unknown,
  input: Readonly<Record<string, unknown>>,
  defaults: Auto | undefined,
): AutoFillGroup[] {
  const groups = new Map<string | null, AutoFillGroup>();
  const taken = new Set<string>();
  for (const site of sites) {
    const { name, field } = site;
    if (!allowsAuto(field) || field.type === 'content' || field.default !== undefined) continue;
    if (input[name] !== undefined && input[name] !== null) continue;
    // A name defined twice (workflow input and an input step) is one run input value: filled once.
    if (taken.has(name)) continue;
    taken.add(name);
    const key = site.step_key ?? null;
    let group = groups.get(key);
    if (group === undefined) {
      group = { step_key: key, config: { ...defaults, ...stepAuto(document, key) }, fields: {} };
      groups.set(key, group);
    }
    group.fields[name] = field;
  }
  return [...groups.values()];
}

function stepAuto(document: unknown, key: string | null): Auto {
  if (key === null || !isPlainObject(document) || !Array.isArray(document.steps)) return {};
  const step = document.steps.find((s) => isPlainObject(s) && s.key === key) as
    | Record<string, unknown>
    | undefined;
  const auto = step?.auto;
  if (!isPlainObject(auto)) return {};
  const out: Auto = {};
  if (typeof auto.provider === 'string' && auto.provider !== '') out.provider = auto.provider;
  if (typeof auto.model === 'string' && auto.model !== '') out.model = auto.model;
  if (typeof auto.temperature === 'number') out.temperature = auto.temperature;
  return out;
}

export interface AutoFillDeps {
  providers: ReadonlyMap<string, Provider>;
  providerLimit(name: string): LimitFunction;
  pricing: PricingTable;
  chooseModel(needs: ModelNeeds): Promise<ModelSelection>;
}

export interface AutoFillRequest {
  document: unknown;
  groups: readonly AutoFillGroup[];
  /** The inputs given (the context the model sees), secrets already redacted. */
  given: Readonly<Record<string, unknown>>;
  signal: AbortSignal;
}

/**
 * Fills every group (one after the other, so a later group sees nothing new: groups are independent).
 * Never throws but for a cancellation: a failure is the result's `error` (AUTO_FILL_FAILED).
 */
export async function autoFill(deps: AutoFillDeps, request: AutoFillRequest): Promise<AutoFillResult> {
  const result: AutoFillResult = { values: {}, fields: [], calls: [], error: null };
  for (const group of request.groups) {
    try {
      const values = await fillGroup(deps, request, group, result.calls);
      for (const [name, value] of Object.entries(values)) setOwn(result.values, name, value);
      result.fields.push(...Object.keys(group.fields).filter((name) => Object.hasOwn(values, name)));
    } catch (error) {
      const e = ensureWeftError(error);
      if (e.code === ERROR_CODES.CANCELLED || request.signal.aborted) throw e;
      result.error = (
        e.code === ERROR_CODES.AUTO_FILL_FAILED
          ? e
          : failed(group, `the model call failed: ${e.message}`, { cause: e.toJSON() })
      ).toJSON();
      return result;
    }
  }
  return result;
}

async function fillGroup(
  deps: AutoFillDeps,
  request: AutoFillRequest,
  group: AutoFillGroup,
  calls: UsageCall[],
): Promise<Record<string, unknown>> {
  const names = Object.keys(group.fields);
  const schema = fieldsJsonSchema(group.fields);
  const messages = prompt(request.document, request.given, group);
  const where = group.step_key ?? AUTO_FILL_USAGE_KEY;
  let provider = group.config.provider;
  let model = group.config.model;
  if (isAutoModel({}, group.config) || provider === undefined || provider === '') {
    const named = provider === undefined || provider === '' || provider === 'auto' ? null : provider;
    if (model !== undefined && model !== '' && model !== 'auto' && named === null) {
      throw failed(
        group,
        `its \`auto\` config names the model "${model}" but no provider: add \`auto.provider\`.`,
      );
    }
    const choice = await deps.chooseModel({
      ...stepNeeds(where, { messages, response_format: 'json' }, named),
    });
    provider = choice.provider;
    model = choice.model;
  }
  const chosen = deps.providers.get(provider);
  if (chosen === undefined) {
    throw failed(
      group,
      `its provider "${provider}" is not registered (registered: ${[...deps.providers.keys()].join(', ') || 'none'}).`,
    );
  }
  let problems: Problem[] = [];
  let answer = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const conversation =
      attempt === 1
        ? messages
        : [
            ...messages,
            { role: 'assistant' as const, content: answer.slice(0, AUTO_FILL_CONTEXT_CHARS) },
            {
              role: 'user' as const,
              content:
                'That answer does not fit the fields:\n' +
                problems
                  .slice(0, 20)
                  .map((p) => `- ${p.path || '/'}: ${p.message}`)
                  .join('\n') +
                '\nAnswer again with one JSON object that fits the schema.',
            },
          ];
    const response = await deps.providerLimit(provider)(() =>
      chosen.complete({
        provider: provider!,
        model: model!,
        messages: conversation,
        ...(group.config.temperature === undefined ? {} : { temperature: group.config.temperature }),
        response_format: 'json',
        json_schema: {
          name: 'input_fields',
          description: 'The values of the input fields left to the model.',
          schema,
        },
        auto_fill: { fields: names },
        signal: request.signal,
        step_key: where,
      }),
    );
    const usage = response.usage ?? { input_tokens: 0, output_tokens: 0 };
    calls.push({
      id: randomUUID(),
      total: priceCall(deps.pricing, provider, model!, usage).credits,
      type: 'auto',
      provider,
      model: model!,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      fields: names,
    });
    answer = typeof response.message === 'string' ? response.message : '';
    const checked = check(group, answer);
    if (checked.problems.length === 0) return checked.values;
    problems = checked.problems;
  }
  throw failed(
    group,
    `the model's answer did not fit the fields twice (${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
      .slice(0, 3)
      .map((p) => `${p.path || '/'}: ${p.message}`)
      .join(' ')}).`,
    { problems, answer: answer.slice(0, 10_000) },
  );
}

/** The answer's values for the group's fields, and every problem with them. */
export function check(
  group: AutoFillGroup,
  answer: string,
): { values: Record<string, unknown>; problems: Problem[] } {
  let parsed: unknown;
  try {
    // Plain JSON data within the data limits, "__proto__" keys kept as data (json-data.ts).
    parsed = checkedCopy(JSON.parse(stripFences(answer)), 'answer');
  } catch (error) {
    return {
      values: {},
      problems: [
        {
          severity: 'error',
          code: 'input.not_object',
          path: '',
          message: `The answer is not JSON (${(error as Error).message}).`,
        },
      ],
    };
  }
  if (!isPlainObject(parsed)) {
    return {
      values: {},
      problems: [
        {
          severity: 'error',
          code: 'input.not_object',
          path: '',
          message: 'The answer must be one JSON object of field values.',
        },
      ],
    };
  }
  const values: Record<string, unknown> = {};
  const out = new InputProblemList();
  const source = group.step_key === null ? 'the workflow input' : `input step "${group.step_key}"`;
  for (const [name, field] of Object.entries(group.fields)) {
    const value = Object.hasOwn(parsed, name) ? parsed[name] : undefined;
    // A field the model leaves out is only a problem when it is required of the model: not optional.
    const asked = field.optional === true ? field : { ...field, allowed_modes: ['manual'] };
    checkField(asked, value, { label: name, path: [name], source, depth: 0 }, out);
    if (value !== undefined && value !== null) setOwn(values, name, value);
  }
  return { values, problems: out.finish() };
}

function prompt(
  document: unknown,
  given: Readonly<Record<string, unknown>>,
  group: AutoFillGroup,
): Message[] {
  const doc = isPlainObject(document) ? document : {};
  const lines: string[] = [];
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, AUTO_FILL_CONTEXT_CHARS) : '');
  if (text(doc.name) !== '') lines.push(`Workflow: ${text(doc.name)}`);
  if (text(doc.description) !== '') lines.push(`Description: ${text(doc.description)}`);
  if (text(doc.notes) !== '') lines.push(`Notes: ${text(doc.notes)}`);
  const provided = JSON.stringify(given) ?? '{}';
  lines.push(
    `Inputs the caller gave: ${provided.length > AUTO_FILL_CONTEXT_CHARS ? `${provided.slice(0, AUTO_FILL_CONTEXT_CHARS)}… (cut)` : provided}`,
  );
  lines.push('Fields to fill:');
  for (const [name, field] of Object.entries(group.fields)) {
    const about = [field.name, field.desc, field.description].filter(
      (d) => typeof d === 'string' && d !== '',
    );
    lines.push(
      `- ${name} (${field.type}${field.array === true ? '[]' : ''}${field.optional === true ? ', optional' : ''})${about.length > 0 ? `: ${about.map(text).join(' — ')}` : ''}`,
    );
  }
  return [
    {
      role: 'system',
      content:
        'You fill in the input fields of a workflow run that the caller left for you to decide. Choose the values that best serve the workflow, given what the caller did provide. Answer with one JSON object holding exactly the fields listed, following the JSON Schema you are given; leave out an optional field you cannot decide.',
    },
    { role: 'user', content: lines.join('\n') },
  ];
}

function failed(group: AutoFillGroup, why: string, details: Record<string, unknown> = {}): WeftError {
  const names = Object.keys(group.fields);
  const where = group.step_key === null ? 'the workflow input' : `input step "${group.step_key}"`;
  return new WeftError(
    ERROR_CODES.AUTO_FILL_FAILED,
    `Could not fill ${names.map((n) => `"${n}"`).join(', ')} of ${where} (fields left to a model): ${why} Give ${names.length === 1 ? 'the field a value' : 'the fields values'} in the run input, or fix the \`auto\` config.`,
    {
      ...(group.step_key === null ? {} : { step_key: group.step_key }),
      details: { fields: names, ...details },
      retryable: false,
    },
  );
}

/** Models often wrap JSON in a ```json fence even in JSON mode; accept exactly that wrapping. */
function stripFences(text: string): string {
  const match = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return match === null ? text : match[1]!;
}
