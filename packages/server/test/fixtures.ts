/** Documents and host steps the HTTP tests share. */
import { readFileSync } from 'node:fs';
import type { StepContext, WeftOptions } from '@weft/core';
import { scriptedProvider } from '@weft/testing';

/** A host step that waits until the run is cancelled. */
export const waitForCancel = (ctx: StepContext) =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));

/** Gates: `hold` steps wait until the test opens the gate named by their input `gate`. */
export function createGates() {
  const waiting = new Map<string, () => void>();
  const opened = new Set<string>();
  const arrivals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const arrival = (name: string) => {
    let found = arrivals.get(name);
    if (found === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      found = { promise, resolve };
      arrivals.set(name, found);
    }
    return found;
  };
  return {
    hold: (ctx: StepContext) =>
      new Promise<string>((resolve, reject) => {
        const name = String((ctx.config as { input?: { gate?: unknown } }).input?.gate ?? 'default');
        arrival(name).resolve();
        if (opened.has(name)) return resolve(`passed ${name}`);
        waiting.set(name, () => resolve(`passed ${name}`));
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      }),
    /** Resolves once a `hold` step has reached gate `name`: wait for this, not for a fixed time. */
    reached(name = 'default'): Promise<void> {
      return arrival(name).promise;
    },
    open(name = 'default') {
      opened.add(name);
      waiting.get(name)?.();
      waiting.delete(name);
    },
  };
}

export function engineOptions(extra: Partial<WeftOptions> = {}): WeftOptions {
  return {
    providers: [scriptedProvider({ default: 'Hello there from the scripted model' })],
    steps: { wait_for_cancel: waitForCancel },
    ...extra,
  };
}

export const greeter = {
  input: { name: { type: 'string' } },
  steps: [{ type: 'code', key: 'greet', code: '"Hello, " & input.name' }],
};

/** code → model → code: exercises step events and model chunks. */
export const withModel = {
  steps: [
    { type: 'code', key: 'topic', code: '"the sea"', destinations: ['write'] },
    {
      type: 'model',
      key: 'write',
      provider: {
        provider: 'scripted',
        model: 'scripted-1',
        messages: [{ role: 'user', content: 'Write about {{ topic.output }}' }],
      },
      destinations: ['shout'],
    },
    { type: 'code', key: 'shout', code: '$uppercase(write.output.message)' },
  ],
};

/** The project's seed (the platform's Workflows API reference page), copied verbatim. */
const SEED = new URL('./seed/workflows-api-seed.txt', import.meta.url);

/** The seed's example run object (the Run Discoverable Workflow response). */
export function seedRunExample(): Record<string, unknown> {
  const text = readFileSync(SEED, 'utf8');
  const marker = 'The response is of type object\n.\n';
  const start = text.indexOf(marker);
  if (start < 0) throw new Error('the seed has no example response');
  return JSON.parse(text.slice(start + marker.length).trim()) as Record<string, unknown>;
}

/** The seed's operation names. */
export function seedText(): string {
  return readFileSync(SEED, 'utf8');
}

const NEVER_NULL = new Set([
  'id',
  'input',
  'output',
  'status',
  'origin',
  'app_id',
  'workflow_app_id',
  'workflow_id',
  'usage',
  'created_at',
  'updated_at',
]);

/**
 * Where `value` differs from the seed's example: every field of the example is present with the
 * example's JSON type (`"<any>"` is anything; fields the platform types optional or nullable may be
 * null), timestamps parse, nested objects recursively.
 */
export function differencesFromExample(example: unknown, value: unknown, path = ''): string[] {
  if (example === '<any>') return [];
  if (value === null) return NEVER_NULL.has(path) ? [`${path} is null`] : [];
  if (Array.isArray(example)) return Array.isArray(value) ? [] : [`${path} is not an array`];
  if (typeof example === 'object' && example !== null) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path} is not an object`];
    const out: string[] = [];
    for (const [key, sub] of Object.entries(example)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!(key in (value as object))) {
        out.push(`${at} is missing`);
        continue;
      }
      // `output` and `input` are open maps in the example ({}), `steps` of usage too.
      if (typeof sub === 'object' && sub !== null && !Array.isArray(sub) && Object.keys(sub).length === 0) {
        if (typeof (value as Record<string, unknown>)[key] !== 'object') out.push(`${at} is not an object`);
        continue;
      }
      out.push(...differencesFromExample(sub, (value as Record<string, unknown>)[key], at));
    }
    return out;
  }
  if (typeof example === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(example)) {
    return typeof value === 'string' && Number.isFinite(Date.parse(value)) ? [] : [`${path} is not a date`];
  }
  if (typeof example === 'string' && example.startsWith('<') && typeof value === 'string') return [];
  if (typeof example !== typeof value) return [`${path} is ${typeof value}, not ${typeof example}`];
  return [];
}
