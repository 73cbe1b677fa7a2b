import type { ModelRequest } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { scriptedProvider } from './index.js';

function request(step_key: string, extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello' }],
    response_format: 'text',
    signal: new AbortController().signal,
    step_key,
    ...extra,
  };
}

const FIXTURES = {
  name: 'openai',
  replies: {
    summary: 'A short summary.',
    classify: { label: 'positive', score: 0.93 },
    flaky: { $sequence: [{ $error: 'PROVIDER_RATE_LIMIT', message: 'try later' }, 'ok now'] },
    denied: { $error: 'PROVIDER_AUTH' },
  },
  models: { 'claude-sonnet-4-5': 'from the model table' },
  default: 'fallback',
  latency_ms: 0,
};

describe('scriptedProvider.fromFixtures', () => {
  it('loads replies, models, default, name and latency from a JSON object', async () => {
    const p = scriptedProvider.fromFixtures(FIXTURES);
    expect(p.name).toBe('openai');
    expect((await p.complete(request('summary'))).message).toBe('A short summary.');
    const classified = await p.complete(request('classify', { response_format: 'json' }));
    expect(JSON.parse(classified.message)).toEqual({ label: 'positive', score: 0.93 });
    await expect(p.complete(request('flaky'))).rejects.toMatchObject({
      code: 'PROVIDER_RATE_LIMIT',
      message: 'try later',
    });
    expect((await p.complete(request('flaky'))).message).toBe('ok now');
    await expect(p.complete(request('denied'))).rejects.toMatchObject({ code: 'PROVIDER_AUTH' });
    expect((await p.complete(request('x', { model: 'claude-sonnet-4-5' }))).message).toBe(
      'from the model table',
    );
    expect((await p.complete(request('x'))).message).toBe('fallback');
    expect(p.calls.map((c) => c.step_key)).toEqual([
      'summary',
      'classify',
      'flaky',
      'flaky',
      'denied',
      'x',
      'x',
    ]);
  });

  it('accepts the JSON text itself, and overrides', async () => {
    const p = scriptedProvider.fromFixtures(JSON.stringify({ replies: { a: 'A' } }), { name: 'dry-run' });
    expect(p.name).toBe('dry-run');
    expect((await p.complete(request('a'))).message).toBe('A');
    expect((await p.complete(request('b'))).message).toBe('echo: hello');
  });

  it('applies latency_ms', async () => {
    const p = scriptedProvider.fromFixtures({ latency_ms: 40 });
    const start = Date.now();
    await p.complete(request('a'));
    expect(Date.now() - start).toBeGreaterThanOrEqual(30);
  });

  it('an empty object is a valid fixtures document (everything echoes)', async () => {
    const p = scriptedProvider.fromFixtures({});
    expect((await p.complete(request('a'))).message).toBe('echo: hello');
  });

  it('rejects malformed fixtures with INVALID_ARGUMENT naming the path', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['{not json', /not valid JSON/],
      [[], /fixtures/],
      [{ reply: {} }, /fixtures\.reply/],
      [{ replies: 'x' }, /fixtures\.replies/],
      [{ models: [] }, /fixtures\.models/],
      [{ latency_ms: -5 }, /latency_ms/],
      [{ name: 3 }, /fixtures\.name/],
      [{ replies: { a: { $error: 5 } } }, /fixtures\.replies\.a\.\$error/],
      [{ replies: { a: { $sequence: [] } } }, /\$sequence/],
      [{ replies: { a: { $sequence: [{ $error: '' }] } } }, /\$sequence\[0\]\.\$error/],
      [{ default: { $response: { usage: {} } } }, /fixtures\.default\.\$response/],
    ];
    for (const [input, message] of bad) {
      let error: unknown;
      try {
        scriptedProvider.fromFixtures(input);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((error as Error).message).toMatch(message);
    }
  });
});
