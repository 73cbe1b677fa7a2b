/** Versions: publish, list (Get Workflow Versions), get (Get a Workflow Version), rollback, immutability. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { code, codeOf, draft, rejection, setup, valueDraft } from './test-support/fixtures.js';

describe('versions', () => {
  it('publish turns the draft into version 1, 2, … with its metadata', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', description: 'desc', draft: valueDraft('one') });
    const v1 = await a.versions.publish(w.id, { notes: 'first', created_by: { id: 'u1', name: 'Ada' } });
    expect(v1).toMatchObject({
      app_id: 'app_a',
      workflow_id: w.id,
      version: 1,
      rollback_version: null,
      notes: 'first',
      description: 'desc',
      created_by: { id: 'u1', name: 'Ada' },
      steps: valueDraft('one').steps,
    });
    expect(typeof v1.id).toBe('string');
    expect(Date.parse(v1.created_at)).not.toBeNaN();
    await a.workflows.updateDraft(w.id, valueDraft('two'));
    const v2 = await a.versions.publish(w.id, { description: 'second desc' });
    expect(v2).toMatchObject({ version: 2, description: 'second desc', notes: null, created_by: null });
    expect((await a.workflows.get(w.id)).latest_version).toBe(2);
  });

  it('a draft that does not validate cannot be published: the ValidationError carries every problem', async () => {
    const { a } = setup();
    const w = await a.workflows.create({
      name: 'w',
      draft: draft([
        { type: 'code', key: 'a', code: '1', destinations: ['missing'] },
        { type: 'code', key: 'a', code: '(' },
      ]),
    });
    const error = await rejection(a.versions.publish(w.id));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(
      (error as unknown as ValidationError).problems.filter((p) => p.severity === 'error').length,
    ).toBeGreaterThan(1);
    expect((await a.versions.list(w.id)).data).toEqual([]);
  });

  it('list newest first with pagination; get by number, id, numeric string and "latest"', async () => {
    const { a, b } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(0) });
    const published = [];
    for (let i = 0; i < 5; i++) published.push(await a.versions.publish(w.id));
    const first = await a.versions.list(w.id, { limit: 2 });
    expect(first.data.map((v) => v.version)).toEqual([5, 4]);
    const rest = await a.versions.list(w.id, { limit: 10, cursor: first.next_cursor });
    expect(rest.data.map((v) => v.version)).toEqual([3, 2, 1]);
    expect((await a.versions.get(w.id, 3)).id).toBe(published[2]!.id);
    expect((await a.versions.get(w.id, published[1]!.id)).version).toBe(2);
    expect((await a.versions.get(w.id, '4')).version).toBe(4);
    expect((await a.versions.get(w.id, 'latest')).version).toBe(5);
    expect(await codeOf(a.versions.get(w.id, 9))).toBe('NOT_FOUND');
    expect(await codeOf(a.versions.get(w.id, 'draft'))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(b.versions.get(w.id, 1))).toBe('NOT_FOUND');
    // A version id of another workflow is not a version of this one.
    const other = await a.workflows.create({ name: 'other', draft: valueDraft(1) });
    const ov = await a.versions.publish(other.id);
    expect(await codeOf(a.versions.get(w.id, ov.id))).toBe('NOT_FOUND');
  });

  it('rollback to N publishes a new version with N’s document and rollback_version N', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft('v1') });
    await a.versions.publish(w.id);
    await a.workflows.updateDraft(w.id, valueDraft('v2'));
    await a.versions.publish(w.id);
    const v3 = await a.versions.rollback(w.id, 1, { created_by: { id: 'u2' } });
    expect(v3).toMatchObject({
      version: 3,
      rollback_version: 1,
      notes: 'Rollback to version 1.',
      created_by: { id: 'u2' },
    });
    expect(v3.steps).toEqual(valueDraft('v1').steps);
    expect((await a.runs.run(w.id)).result).toBe('v1');
    expect(await codeOf(a.versions.rollback(w.id, 7))).toBe('NOT_FOUND');
  });

  it('versions never change: update fails with IMMUTABLE_VERSION, returned versions are frozen, draft edits do not leak', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft('v1') });
    const v1 = await a.versions.publish(w.id);
    const error = await rejection(a.versions.update(w.id, 1, { notes: 'x' }));
    expect(error.code).toBe('IMMUTABLE_VERSION');
    expect(error.message).toMatch(/publish a new version/);
    expect(await codeOf(a.versions.update(w.id, 42, {}))).toBe('NOT_FOUND');
    expect(Object.isFrozen(v1)).toBe(true);
    expect(() => {
      (v1.steps as unknown[]).push(code('x', '1'));
    }).toThrow(TypeError);
    await a.workflows.updateDraft(w.id, valueDraft('v2'));
    expect((await a.versions.get(w.id, 1)).steps).toEqual(valueDraft('v1').steps);
  });

  it('simultaneous publishes get distinct, consecutive version numbers', async () => {
    const { a } = setup();
    const w = await a.workflows.create({ name: 'w', draft: valueDraft(0) });
    const versions = await Promise.all(Array.from({ length: 10 }, () => a.versions.publish(w.id)));
    expect(versions.map((v) => v.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(versions.map((v) => v.id)).size).toBe(10);
  });
});
