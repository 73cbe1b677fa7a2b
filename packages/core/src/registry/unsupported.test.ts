/** Options of the platform's API that Weft does not honour are refused, never dropped. */
import { describe, expect, it } from 'vitest';
import { setup, valueDraft } from './test-support/fixtures.js';

describe('unsupported API options', () => {
  it('stream: true on runs.run, discover.run and replay is INVALID_ARGUMENT; stream: false is fine', async () => {
    const { a, b } = setup();
    const w = await a.workflows.create({ name: 'w', discoverable: true, draft: valueDraft(1) });
    await a.versions.publish(w.id);
    const stream = { stream: true } as never;
    await expect(a.runs.run(w.id, stream)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { parameter: 'stream' },
    });
    await expect(b.discover.run(w.id, stream)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const run = await a.runs.run(w.id, { stream: false } as never);
    await expect(a.runs.replay(run.id, stream)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('search and tags filters of workflows.list and discover.list are refused, naming the option', async () => {
    const { a } = setup();
    await expect(a.workflows.list({ search: 'x' } as never)).rejects.toMatchObject({
      details: { parameter: 'search' },
    });
    await expect(a.discover.list({ tags: ['t'] } as never)).rejects.toThrow(
      /`tags` is not supported here: Weft workflows have no tags/,
    );
    expect((await a.workflows.list({ tags: [] } as never)).data).toEqual([]);
  });
});
