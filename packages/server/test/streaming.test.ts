/** `stream: true`: server-sent events consumed by a real SSE client. */
import { scriptedProvider } from '@weft/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGates, greeter, withModel } from './fixtures.js';
import { startServer, type TestServer } from './helpers.js';
import { openStream, reduceRunStream } from './sse-client.js';

const gates = createGates();
let t: TestServer;
let modelId: string;
let holdId: string;

beforeAll(async () => {
  t = await startServer({
    weft: {
      providers: [scriptedProvider({ default: 'Waves roll over the quiet sand' })],
      steps: { hold: gates.hold },
    },
  });
  modelId = (await t.call('POST', '/apps/app_a/workflows', { body: { name: 'Model', draft: withModel } }))
    .body.id;
  holdId = (
    await t.call('POST', '/apps/app_a/workflows', {
      body: {
        name: 'Hold',
        draft: {
          steps: [
            { type: 'hold', key: 'first', input: { gate: '{{ input.gate }}' }, destinations: ['second'] },
            { type: 'code', key: 'second', code: '"done"' },
          ],
        },
      },
    })
  ).body.id;
});
afterAll(() => t.close());

const runsUrl = (id: string) => `${t.url}/apps/c/workflows/${id}/runs`;

describe('stream: true', () => {
  it('sends run, then step and chunk events in order, then the final run — which GET answers too', async () => {
    const stream = await openStream(runsUrl(modelId), t.keys.A, { workflow_version_id: 'draft' });
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const events = await stream.events;
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('run');
    expect(names.at(-1)).toBe('run');
    expect(names.filter((n) => n === 'run')).toHaveLength(2);
    const steps = events.filter((e) => e.event === 'step').map((e) => `${e.data.key}:${e.data.status}`);
    expect(steps).toEqual([
      'topic:RUNNING',
      'topic:COMPLETED',
      'write:RUNNING',
      'write:COMPLETED',
      'shout:RUNNING',
      'shout:COMPLETED',
    ]);
    // Chunks come between the model step's RUNNING and COMPLETED records, and add up to its message.
    const writeStart = events.findIndex((e) => e.event === 'step' && e.data.key === 'write');
    const writeEnd = events.findIndex(
      (e) => e.event === 'step' && e.data.key === 'write' && e.data.status === 'COMPLETED',
    );
    const chunks = events.filter((e) => e.event === 'chunk');
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      const at = events.indexOf(chunk);
      expect(at).toBeGreaterThan(writeStart);
      expect(at).toBeLessThan(writeEnd);
      expect(chunk.data).toMatchObject({
        key: 'write',
        type: 'model',
        status: 'RUNNING',
        output: { model: 'scripted-1' },
      });
    }
    expect(chunks.map((c) => c.data.output.message).join('')).toBe('Waves roll over the quiet sand');

    const final = events.at(-1)!.data;
    expect(final.status).toBe('COMPLETED');
    expect(final.result).toBe('WAVES ROLL OVER THE QUIET SAND');
    const got = await t.call('GET', `/apps/c/workflows/${modelId}/runs/${final.id}`);
    expect(got.body).toEqual(final);
    expect(stream.headers.get('x-weft-run-id')).toBe(final.id);
    // The SDK's reduction of the stream ends on the same run.
    expect(reduceRunStream(events)).toEqual(final);
  });

  it('an error before the run exists is a JSON answer, not a stream', async () => {
    const wf = await t.call('POST', '/apps/app_a/workflows', { body: { name: 'g', draft: greeter } });
    const stream = await openStream(runsUrl(wf.body.id), t.keys.A, {
      workflow_version_id: 'draft',
      input: { name: 1 },
    });
    expect(stream.status).toBe(400);
    expect(stream.contentType).toMatch(/application\/json/);
  });

  it('a client that goes away does not cancel the run', async () => {
    const stream = await openStream(runsUrl(holdId), t.keys.A, {
      workflow_version_id: 'draft',
      input: { gate: 'gone' },
    });
    const first = await stream.first;
    expect(first.event).toBe('run');
    stream.abort();
    await stream.events;
    await new Promise((resolve) => setTimeout(resolve, 50));
    gates.open('gone');
    const ended = await t.weft.app('app_a').runs.wait(first.data.id);
    expect(ended.status).toBe('COMPLETED');
    expect(ended.result).toBe('done');
  });

  it('stream wins over background; replays and discover runs stream too', async () => {
    const stream = await openStream(runsUrl(modelId), t.keys.A, {
      workflow_version_id: 'draft',
      background: true,
    });
    const events = await stream.events;
    const run = events.at(-1)!.data;
    expect(run.status).toBe('COMPLETED');

    const replay = await openStream(`${runsUrl(modelId)}/${run.id}/replay`, t.keys.A, { stepKey: 'shout' });
    const replayed = await replay.events;
    expect(replayed.filter((e) => e.event === 'step').map((e) => e.data.key)).toEqual(['shout', 'shout']);
    expect(replayed.at(-1)!.data.replay_of).toBe(run.id);

    await t.call('PATCH', `/apps/c/workflows/${modelId}`, { body: { discoverable: true } });
    await t.call('POST', `/apps/c/workflows/${modelId}/versions`, { body: {} });
    const discover = await openStream(`${t.url}/apps/c/workflows/discover/${modelId}/runs`, t.keys.B, {});
    const found = await discover.events;
    expect(found.at(-1)!.data).toMatchObject({
      status: 'COMPLETED',
      app_id: 'app_b',
      workflow_app_id: 'app_a',
    });
  });

  it('a run that fails streams its step error and ends with the FAILED run', async () => {
    const wf = await t.call('POST', '/apps/app_a/workflows', {
      body: { name: 'f', draft: { steps: [{ type: 'code', key: 'boom', code: '$error("no")' }] } },
    });
    const events = await (await openStream(runsUrl(wf.body.id), t.keys.A, { workflow_version_id: 'draft' }))
      .events;
    const failed = events.find((e) => e.event === 'step' && e.data.status === 'FAILED')!;
    expect(failed.data.error).toMatch(/no/);
    expect(failed.data.error_code).toBe('EXPRESSION_ERROR');
    expect(events.at(-1)!.data).toMatchObject({ status: 'FAILED', error_code: 'EXPRESSION_ERROR' });
  });
});
