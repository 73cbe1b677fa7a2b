/**
 * Auto-fill (docs/semantics.md, "Fields left to the model"): which fields, which model, structured output,
 * one retry with the problems then AUTO_FILL_FAILED, the run record, usage, the journal and resume.
 */
import { describe, expect, it } from 'vitest';
import type { CatalogueModel, ModelRequest, ModelResponse, Provider } from '../providers/provider.js';
import { deferred, draft } from '../test-support/workflows.js';
import { check } from './auto-fill.js';
import { createEngine } from './engine.js';
import type { JournalEntry, JournalSink, RunStartedEntry } from './journal.js';

type Answer = string | ((request: ModelRequest) => string | Promise<string>);

function provider(
  name: string,
  answers: Answer[],
  catalogue?: CatalogueModel[],
): Provider & { calls: ModelRequest[] } {
  const calls: ModelRequest[] = [];
  return {
    name,
    calls,
    ...(catalogue === undefined ? {} : { catalogue }),
    pricing: { '*': { input_per_million: 1_000_000, output_per_million: 0 } },
    async complete(request): Promise<ModelResponse> {
      calls.push(request);
      const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
      const message = typeof answer === 'function' ? await answer(request) : answer;
      return { message, raw: null, usage: { input_tokens: 1, output_tokens: 1 } };
    },
  };
}

function memorySink(): JournalSink & { entries: JournalEntry[] } {
  const entries: JournalEntry[] = [];
  return {
    entries,
    append(batch) {
      entries.push(...(JSON.parse(JSON.stringify(batch)) as JournalEntry[]));
    },
  };
}

/** A version whose input has a manual field and a field left to the model; a code step echoes the input. */
const version = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  draft([{ type: 'code', key: 'echo', code: '$input' }], {
    description: 'Triage a support ticket.',
    notes: 'Urgent when the customer cannot log in.',
    input: fields,
    ...extra,
  });

const ticket = {
  text: { type: 'string', name: 'Ticket text' },
  priority: {
    type: 'select',
    options: ['low', 'high'],
    allowed_modes: ['auto'],
    name: 'Priority',
    desc: 'How urgent the ticket is',
  },
};

describe('auto-fill', () => {
  it('fills a field left to the model before the first step, with structured output and context', async () => {
    const p = provider('p', ['{"priority":"high"}']);
    const engine = createEngine({ providers: [p], auto: { provider: 'p', model: 'm1', temperature: 0 } });
    const run = await engine.run(version(ticket), { input: { text: 'I cannot log in' } });
    expect(run.status).toBe('COMPLETED');
    expect(run.input).toEqual({ text: 'I cannot log in', priority: 'high' });
    expect(run.result).toEqual({ text: 'I cannot log in', priority: 'high' });
    expect(run.auto_filled).toEqual(['priority']);
    const request = p.calls[0]!;
    expect(request).toMatchObject({
      provider: 'p',
      model: 'm1',
      temperature: 0,
      response_format: 'json',
      auto_fill: { fields: ['priority'] },
      step_key: '$auto',
      json_schema: {
        name: 'input_fields',
        schema: {
          type: 'object',
          properties: {
            priority: { enum: ['low', 'high'], description: 'Priority: How urgent the ticket is' },
          },
          required: ['priority'],
          additionalProperties: false,
        },
      },
    });
    const prompt = JSON.stringify(request.messages);
    for (const part of [
      'Triage a support ticket.',
      'Urgent when the customer cannot log in.',
      'I cannot log in',
      'Priority',
    ]) {
      expect(prompt).toContain(part);
    }
    // Usage: one `auto` call, outside every step.
    expect(run.usage.steps.$auto!.calls).toEqual([
      expect.objectContaining({ type: 'auto', provider: 'p', model: 'm1', fields: ['priority'], total: 1 }),
    ]);
    expect(run.usage.total).toBe(1);
  });

  it('asks nothing when the caller gave the field, and never fills manual fields; "all" means either', async () => {
    const p = provider('p', ['{"b":"filled"}']);
    const engine = createEngine({ providers: [p], auto: { provider: 'p', model: 'm' } });
    const fields = {
      a: { type: 'string', allowed_modes: ['manual'], optional: true },
      b: { type: 'string', allowed_modes: ['all'] },
    };
    const given = await engine.run(version(fields), { input: { b: 'mine' } });
    expect(given.input).toEqual({ b: 'mine' });
    expect(given.auto_filled).toBeUndefined();
    expect(p.calls).toHaveLength(0);
    const left = await engine.run(version(fields));
    expect(left.input).toEqual({ b: 'filled' });
    expect(Object.keys((p.calls[0]!.json_schema!.schema as { properties: object }).properties)).toEqual([
      'b',
    ]);
    // input_default counts as given; a field with a default keeps its default.
    const defaulted = await engine.run(
      version(
        { b: fields.b, c: { type: 'string', allowed_modes: ['auto'], default: 'd' } },
        { input_default: { b: 'x' } },
      ),
    );
    expect(defaulted.auto_filled).toBeUndefined();
    expect(p.calls).toHaveLength(1);
  });

  it("uses an input step's own auto block for its fields", async () => {
    const a = provider('a', ['{"x":"from a"}']);
    const b = provider('b', ['{"y":"from b"}']);
    const engine = createEngine({ providers: [a, b], auto: { provider: 'a', model: 'ma' } });
    const doc = draft(
      [
        {
          type: 'input',
          key: 'form',
          input: { y: { type: 'string', allowed_modes: ['auto'] } },
          auto: { provider: 'b', model: 'mb' },
          destinations: ['echo'],
        },
        { type: 'code', key: 'echo', code: '$input' },
      ],
      { input: { x: { type: 'string', allowed_modes: ['auto'] } } },
    );
    const run = await engine.run(doc);
    expect(run.input).toEqual({ x: 'from a', y: 'from b' });
    expect(run.output.form!.output).toEqual({ y: 'from b' });
    expect(a.calls.map((c) => c.model)).toEqual(['ma']);
    expect(b.calls.map((c) => [c.model, c.step_key])).toEqual([['mb', 'form']]);
    expect(run.auto_filled).toEqual(['x', 'y']);
  });

  it('chooses the model when the auto config names none (JSON output needed)', async () => {
    const p = provider(
      'p',
      ['{"priority":"low"}'],
      [
        {
          model: 'no-json',
          context_window: 10_000,
          max_output: 1_000,
          price: { input_per_million: 0, output_per_million: 0 },
        },
        { model: 'json', json: true, context_window: 10_000, max_output: 1_000 },
      ],
    );
    const run = await createEngine({ providers: [p] }).run(version(ticket), { input: { text: 't' } });
    expect(run.input.priority).toBe('low');
    expect(p.calls[0]!.model).toBe('json');
    // No catalogue anywhere: the run fails with AUTO_FILL_FAILED caused by NO_MODEL_FITS.
    const bare = await createEngine({ providers: [provider('q', ['{}'])] }).run(version(ticket), {
      input: { text: 't' },
    });
    expect(bare.status).toBe('FAILED');
    expect(bare.error).toMatchObject({
      code: 'AUTO_FILL_FAILED',
      details: { cause: { code: 'NO_MODEL_FITS' } },
    });
  });

  it('sends an answer that does not fit back once with the problems', async () => {
    const p = provider('p', ['{"priority":"medium"}', '```json\n{"priority":"low"}\n```']);
    const run = await createEngine({ providers: [p], auto: { provider: 'p', model: 'm' } }).run(
      version(ticket),
      {
        input: { text: 't' },
      },
    );
    expect(run.status).toBe('COMPLETED');
    expect(run.input.priority).toBe('low');
    expect(p.calls).toHaveLength(2);
    const retry = p.calls[1]!.messages;
    expect(retry.at(-2)).toEqual({ role: 'assistant', content: '{"priority":"medium"}' });
    expect(retry.at(-1)!.content).toContain(
      '/priority: Field "priority" (from the workflow input) must be one of "low", "high"',
    );
    expect(run.usage.calls).toHaveLength(2);
  });

  it('fails the run with AUTO_FILL_FAILED after a second answer that does not fit: no step runs', async () => {
    const p = provider('p', ['not json', '{"other":1}']);
    const run = await createEngine({ providers: [p], auto: { provider: 'p', model: 'm' } }).run(
      version(ticket),
      {
        input: { text: 't' },
      },
    );
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({
      code: 'AUTO_FILL_FAILED',
      details: {
        fields: ['priority'],
        problems: [expect.objectContaining({ code: 'input.missing', path: '/priority' })],
      },
    });
    expect(run.error!.message).toContain('Give the field a value in the run input');
    expect(run.output.echo).toMatchObject({ status: 'SKIPPED', skip_reason: 'run_stopped' });
    expect(run.input).toEqual({ text: 't' });
    expect(run.auto_filled).toBeUndefined();
    expect(run.usage.calls).toHaveLength(2);
  });

  it('fails with AUTO_FILL_FAILED when the call fails, or the provider is not registered', async () => {
    const failing: Provider = {
      name: 'p',
      async complete() {
        throw Object.assign(new Error('boom'), { code: 'PROVIDER_UNAVAILABLE' });
      },
    };
    const run = await createEngine({ providers: [failing], auto: { provider: 'p', model: 'm' } }).run(
      version(ticket),
      {
        input: { text: 't' },
      },
    );
    expect(run.error).toMatchObject({
      code: 'AUTO_FILL_FAILED',
      details: { cause: { message: expect.stringContaining('boom') } },
    });
    const missing = await createEngine({ auto: { provider: 'nope', model: 'm' } }).run(version(ticket), {
      input: { text: 't' },
    });
    expect(missing.error!.message).toContain('its provider "nope" is not registered');
  });

  it('journals the filled values in run.started: a resumed run asks nothing again', async () => {
    const sink = memorySink();
    const gate = deferred<string>();
    const p = provider('p', ['{"priority":"high"}']);
    const engine = createEngine({
      providers: [p],
      auto: { provider: 'p', model: 'm' },
      journal: sink,
      steps: { wait: () => gate.promise },
    });
    const doc = draft(
      [
        { type: 'wait', key: 'w', destinations: ['echo'] },
        { type: 'code', key: 'echo', code: '$input' },
      ],
      { input: ticket },
    );
    const handle = engine.start(doc, { input: { text: 't' } });
    while (!sink.entries.some((e) => e.type === 'step.started')) await new Promise((r) => setTimeout(r, 1));
    const started = sink.entries[0] as RunStartedEntry;
    expect(started.input).toEqual({ text: 't', priority: 'high' });
    expect(started.auto_fill).toMatchObject({
      fields: ['priority'],
      error: null,
      calls: [expect.objectContaining({ type: 'auto' })],
    });
    // "Crash": resume from what the journal holds in a fresh engine whose provider would answer differently.
    const q = provider('p', ['{"priority":"low"}']);
    const other = createEngine({
      providers: [q],
      auto: { provider: 'p', model: 'm' },
      steps: { wait: () => 'done' },
    });
    const resumed = await other.resume(doc, [...sink.entries]).done;
    expect(q.calls).toHaveLength(0);
    expect(resumed.status).toBe('COMPLETED');
    expect(resumed.result).toEqual({ text: 't', priority: 'high' });
    expect(resumed.auto_filled).toEqual(['priority']);
    expect(resumed.usage.steps.$auto!.calls).toHaveLength(1);
    gate.resolve('x');
    await handle.done;
  });

  it('a cancel while filling aborts the call and ends the run CANCELLED, no step run', async () => {
    let signal: AbortSignal | undefined;
    const hanging: Provider = {
      name: 'p',
      complete(request) {
        signal = request.signal;
        return new Promise((_, reject) =>
          request.signal.addEventListener('abort', () => reject(request.signal.reason)),
        );
      },
    };
    const engine = createEngine({ providers: [hanging], auto: { provider: 'p', model: 'm' } });
    const handle = engine.start(version(ticket), { input: { text: 't' } });
    while (signal === undefined) await new Promise((r) => setTimeout(r, 1));
    const result = await handle.cancel('stop');
    expect(result.status).toBe('CANCELLED');
    expect(signal.aborted).toBe(true);
    const run = await handle.done;
    expect(run.output.echo!.status).toBe('SKIPPED');
  });

  it("never sends a secret variable's value to the model", async () => {
    const p = provider('p', ['{"priority":"low"}']);
    const engine = createEngine({ providers: [p], auto: { provider: 'p', model: 'm' } });
    await engine.run(version(ticket), {
      input: { text: 'token s3cr3t-value here' },
      variables: [{ key: 'TOKEN', value: 's3cr3t-value', secret: true }],
    });
    expect(JSON.stringify(p.calls[0]!.messages)).not.toContain('s3cr3t-value');
  });

  it('checks answers like any input: nested objects, arrays, optional fields', () => {
    const group = {
      step_key: null,
      config: {},
      fields: {
        tags: { type: 'string', array: true, allowed_modes: ['auto'] },
        address: { type: 'object', allowed_modes: ['auto'], fields: { city: { type: 'string' } } },
        note: { type: 'string', optional: true, allowed_modes: ['auto'] },
      },
    };
    expect(check(group, '{"tags":["a"],"address":{"city":"Oslo"}}')).toEqual({
      values: { tags: ['a'], address: { city: 'Oslo' } },
      problems: [],
    });
    expect(check(group, '{"tags":"a","address":{}}').problems.map((p) => p.path)).toEqual([
      '/tags',
      '/address/city',
    ]);
    expect(check(group, '[1]').problems[0]!.message).toContain('one JSON object');
  });
});
