import { expect, it } from 'vitest';
import { createGates } from './fixtures.js';
import { startServer } from './helpers.js';
import { openStream } from './sse-client.js';

/** requestTimeoutMs bounds receiving a request, not answering it: long runs and streams are not cut. */
it('a foreground run and a stream that outlive requestTimeoutMs still answer', async () => {
  const gates = createGates();
  const t = await startServer({
    weft: { steps: { hold: gates.hold } },
    server: { requestTimeoutMs: 1000, heartbeatMs: 300 },
  });
  const wf = await t.call('POST', '/apps/c/workflows', {
    body: { name: 'h', draft: { steps: [{ type: 'hold', key: 'h', input: { gate: '{{ input.g }}' } }] } },
  });
  setTimeout(() => gates.open('fg'), 2500);
  const fg = await t.call('POST', `/apps/c/workflows/${wf.body.id}/runs`, {
    body: { workflow_version_id: 'draft', input: { g: 'fg' } },
  });
  expect(fg.status).toBe(200);
  expect(fg.body.status).toBe('COMPLETED');
  setTimeout(() => gates.open('sse'), 2500);
  const s = await openStream(`${t.url}/apps/c/workflows/${wf.body.id}/runs`, t.keys.A, {
    workflow_version_id: 'draft',
    input: { g: 'sse' },
  });
  const events = await s.events;
  expect(events.at(-1)!.data.status).toBe('COMPLETED');
  await t.close();
});
