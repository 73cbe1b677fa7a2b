/** Workflows: create, get, list (Get Workflows / Get a Workflow), update, update the draft, archive. */
import { describe, expect, it } from 'vitest';
import { codeOf, manualClock, setup, valueDraft } from './test-support/fixtures.js';

describe('workflows', () => {
  it('create → get: the fields, defaults and initial draft', async () => {
    const { a } = setup();
    const created = await a.workflows.create({
      name: 'Summarize',
      description: 'Summarizes a page',
      discoverable: true,
      retention: 3600,
      draft: valueDraft(1),
    });
    expect(created).toMatchObject({
      app_id: 'app_a',
      name: 'Summarize',
      description: 'Summarizes a page',
      discoverable: true,
      retention: { max_age_in_seconds: 3600, preserve_on_failure: false },
      latest_version: null,
      archived_at: null,
      tests_stats: null,
    });
    expect(created.draft.steps).toHaveLength(1);
    expect(await a.workflows.get(created.id)).toEqual(created);
    const bare = await a.workflows.create({ name: 'Bare' });
    expect(bare).toMatchObject({
      description: null,
      discoverable: false,
      retention: null,
      draft: { steps: [] },
    });
  });

  it('list: newest first, cursor pagination, only this app’s', async () => {
    const clock = manualClock();
    const { a, b } = setup({ clock });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      ids.push((await a.workflows.create({ name: `w${i}` })).id);
    }
    await b.workflows.create({ name: 'theirs' });
    const first = await a.workflows.list({ limit: 3 });
    expect(first.data.map((w) => w.name)).toEqual(['w4', 'w3', 'w2']);
    const second = await a.workflows.list({ limit: 3, cursor: first.next_cursor });
    expect(second.data.map((w) => w.name)).toEqual(['w1', 'w0']);
    expect(second.next_cursor).toBeNull();
  });

  it('another app’s workflow is NOT_FOUND for every operation', async () => {
    const { a, b } = setup();
    const w = await a.workflows.create({ name: 'private' });
    expect(await codeOf(b.workflows.get(w.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.workflows.updateDraft(w.id, valueDraft(2)))).toBe('NOT_FOUND');
    expect(await codeOf(b.workflows.update(w.id, { name: 'x' }))).toBe('NOT_FOUND');
    expect(await codeOf(b.workflows.archive(w.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.versions.publish(w.id))).toBe('NOT_FOUND');
    expect(await codeOf(b.runs.run(w.id, { version: 'draft' }))).toBe('NOT_FOUND');
    expect(await codeOf(a.workflows.get('nope'))).toBe('NOT_FOUND');
  });

  it('update and updateDraft change the workflow; bad arguments are INVALID_ARGUMENT', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w' });
    const updated = await a.workflows.update(w.id, { name: 'renamed', discoverable: true, retention: -1 });
    expect(updated).toMatchObject({
      name: 'renamed',
      discoverable: true,
      retention: { max_age_in_seconds: -1 },
    });
    const drafted = await a.workflows.updateDraft(w.id, valueDraft('new'));
    expect(drafted.draft).toEqual(valueDraft('new'));
    expect(await codeOf(a.workflows.create({ name: '' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(a.workflows.updateDraft(w.id, { steps: 'no' } as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(a.workflows.update(w.id, { retention: -5 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(a.workflows.create({ name: 'dup', id: w.id }))).toBe('CONFLICT');
  });

  it('archive hides the workflow from lists and blocks edits, publishes and runs until restored', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(1) });
    const archived = await a.workflows.archive(w.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await a.workflows.list()).data).toEqual([]);
    expect((await a.workflows.list({ include_archived: true })).data.map((x) => x.id)).toEqual([w.id]);
    expect(await codeOf(a.workflows.updateDraft(w.id, valueDraft(2)))).toBe('CONFLICT');
    expect(await codeOf(a.versions.publish(w.id))).toBe('CONFLICT');
    expect(await codeOf(a.runs.run(w.id, { version: 'draft' }))).toBe('CONFLICT');
    await a.workflows.restore(w.id);
    expect((await a.runs.run(w.id, { version: 'draft' })).result).toBe(1);
  });
});
