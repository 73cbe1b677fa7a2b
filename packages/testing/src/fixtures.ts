/**
 * The fixtures format (what `weft run --fixtures replies.json` loads):
 *
 * ```json
 * {
 *   "name": "openai",
 *   "replies": { "<step_key>": "text" | {json} | {"$error": "CODE"} | {"$sequence": [...]} },
 *   "models": { "<model>": ... },
 *   "default": ...,
 *   "latency_ms": 0,
 *   "auto_fill": { "<field>": value },
 *   "choose": { "<step_key>": "<model>" | { "provider", "model" } },
 *   "catalogue": [ { "model", "context_window", "max_output", "json"?, … } ]
 * }
 * ```
 * `auto_fill` answers input fields left to a model, `choose` pins the model automatic choice gives a step
 * (the CLI passes the provider's `autoModel` to the engine), `catalogue` replaces the scripted catalogue.
 * Every key is optional; unknown keys are rejected so that a typo does not silently fall back to the echo.
 */
import { type CatalogueModel, invalidArgument, WeftError } from '@weft/core';
import { checkChoices } from './auto.js';
import { isPlainObject, type ScriptedReply } from './reply.js';
import { type ScriptedProvider, type ScriptedProviderOptions, scriptedProvider } from './scripted.js';

export interface ScriptedFixtures {
  name?: string;
  replies?: Record<string, unknown>;
  models?: Record<string, unknown>;
  default?: unknown;
  latency_ms?: number;
  auto_fill?: Record<string, unknown>;
  choose?: Record<string, unknown>;
  catalogue?: unknown[];
}

const FIXTURE_KEYS = [
  'name',
  'replies',
  'models',
  'default',
  'latency_ms',
  'auto_fill',
  'choose',
  'catalogue',
];

/** Checks a fixtures document and turns it into scripted-provider options. */
export function fixturesToOptions(input: unknown): ScriptedProviderOptions {
  let doc = input;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (error) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `The fixtures are not valid JSON: ${(error as Error).message}`,
        {
          details: { parameter: 'fixtures' },
        },
      );
    }
  }
  if (!isPlainObject(doc)) throw invalidArgument('fixtures', 'a JSON object', doc);
  for (const key of Object.keys(doc)) {
    if (!FIXTURE_KEYS.includes(key)) {
      throw invalidArgument(`fixtures.${key}`, `absent (known keys: ${FIXTURE_KEYS.join(', ')})`, doc[key]);
    }
  }
  const options: ScriptedProviderOptions = {};
  if (doc.name !== undefined) {
    if (typeof doc.name !== 'string' || doc.name === '') {
      throw invalidArgument('fixtures.name', 'a non-empty string', doc.name);
    }
    options.name = doc.name;
  }
  for (const key of ['replies', 'models'] as const) {
    const table = doc[key];
    if (table === undefined) continue;
    if (!isPlainObject(table)) throw invalidArgument(`fixtures.${key}`, 'an object', table);
    for (const [k, reply] of Object.entries(table)) checkReply(reply, `fixtures.${key}.${k}`);
    options[key] = table as Record<string, ScriptedReply>;
  }
  if (doc.auto_fill !== undefined) {
    if (!isPlainObject(doc.auto_fill))
      throw invalidArgument('fixtures.auto_fill', 'an object of field → value', doc.auto_fill);
    for (const [k, reply] of Object.entries(doc.auto_fill)) checkReply(reply, `fixtures.auto_fill.${k}`);
    options.autoFill = doc.auto_fill as Record<string, ScriptedReply>;
  }
  if (doc.choose !== undefined) options.choose = checkChoices(doc.choose, 'fixtures.choose');
  if (doc.catalogue !== undefined) {
    if (!Array.isArray(doc.catalogue))
      throw invalidArgument('fixtures.catalogue', 'an array of catalogue models', doc.catalogue);
    options.catalogue = doc.catalogue as CatalogueModel[];
  }
  if (Object.hasOwn(doc, 'default')) {
    checkReply(doc.default, 'fixtures.default');
    options.default = doc.default as ScriptedReply;
  }
  if (doc.latency_ms !== undefined) {
    const ms = doc.latency_ms;
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) {
      throw invalidArgument('fixtures.latency_ms', 'a number ≥ 0', ms);
    }
    options.latencyMs = ms;
  }
  return options;
}

function checkReply(reply: unknown, path: string): void {
  if (!isPlainObject(reply)) return;
  if (Object.hasOwn(reply, '$error') && (typeof reply.$error !== 'string' || reply.$error === '')) {
    throw invalidArgument(
      `${path}.$error`,
      'an error code string such as "PROVIDER_RATE_LIMIT"',
      reply.$error,
    );
  }
  if (Object.hasOwn(reply, '$sequence')) {
    if (!Array.isArray(reply.$sequence) || reply.$sequence.length === 0) {
      throw invalidArgument(`${path}.$sequence`, 'a non-empty array of replies', reply.$sequence);
    }
    reply.$sequence.forEach((item, i) => {
      checkReply(item, `${path}.$sequence[${i}]`);
    });
  }
  if (Object.hasOwn(reply, '$response')) {
    const r = reply.$response;
    if (!isPlainObject(r) || !Object.hasOwn(r, 'message')) {
      throw invalidArgument(`${path}.$response`, 'an object with a `message`', r);
    }
  }
}

/** `scriptedProvider.fromFixtures(json, overrides?)`: a scripted provider from a fixtures document. */
export function fromFixtures(input: unknown, overrides: ScriptedProviderOptions = {}): ScriptedProvider {
  return scriptedProvider({ ...fixturesToOptions(input), ...overrides });
}
