/**
 * getFrozenWorkflow across processes sharing a schema (the store contract checks it within one store): a
 * frozen object is handed out again only while the stored text is the same, whoever changed it.
 */
import type { Workflow } from '@weft/core';
import { at, workflowFixture } from '@weft/testing/store-contract';
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { fcRuns } from '../../core/src/test-support/fc.js';
import type { PostgresStore } from './postgres-store.js';
import { adminPool, closeAndDrop, describeWithPostgres, testStore } from './test-support/db.js';

describeWithPostgres('getFrozenWorkflow across processes', () => {
  const open: PostgresStore[] = [];
  /** A store and a peer on the same schema (its own pool, as another process would have). */
  function pair(): [PostgresStore, PostgresStore] {
    const a = testStore();
    const b = testStore(a.schema);
    open.push(b, a);
    return [a, b];
  }

  afterEach(async () => {
    for (const store of open.splice(0)) await closeAndDrop(store).catch(() => undefined);
  });

  /** Writes a workflow's body as another tool would (not through a store). */
  async function setBody(store: PostgresStore, id: string, body: string): Promise<void> {
    await adminPool().query(`UPDATE "${store.schema}".workflows SET body = $1 WHERE id = $2`, [body, id]);
  }

  it("another process's change is read afresh; the old object is untouched", async () => {
    const [a, b] = pair();
    await a.insertWorkflow(workflowFixture('w', 'a', 0, { name: 'first' }));
    const first = (await a.getFrozenWorkflow('w'))!;
    expect(await a.getFrozenWorkflow('w')).toBe(first);
    await b.updateWorkflow('w', { name: 'second', updated_at: at(1) });
    const second = (await a.getFrozenWorkflow('w'))!;
    expect(second).not.toBe(first);
    expect(second.name).toBe('second');
    expect(Object.isFrozen(second) && Object.isFrozen(second.draft)).toBe(true);
    expect(first.name).toBe('first');
    expect(await a.getFrozenWorkflow('w')).toBe(second);
  });

  it('compares the stored text byte for byte: a change that is equal under Unicode normalisation counts', async () => {
    const [a, b] = pair();
    await a.insertWorkflow(workflowFixture('w', 'a', 0, { name: 'caf\u00e9' }));
    const composed = (await a.getFrozenWorkflow('w'))!;
    await b.updateWorkflow('w', { name: 'cafe\u0301', updated_at: at(1) });
    const decomposed = (await a.getFrozenWorkflow('w'))!;
    expect(decomposed).not.toBe(composed);
    expect(decomposed.name).toBe('cafe\u0301');
  });

  it('a body rewritten outside Weft, then deleted: read afresh, then null', async () => {
    const [a] = pair();
    await a.insertWorkflow(workflowFixture('w', 'a', 0));
    const first = (await a.getFrozenWorkflow('w'))!;
    // The same JSON value in another text (key order, spacing) is another stored content.
    await setBody(a, 'w', JSON.stringify(first, null, 1));
    const rewritten = (await a.getFrozenWorkflow('w'))!;
    expect(rewritten).not.toBe(first);
    expect(rewritten).toEqual(first);
    expect(await a.getFrozenWorkflow('w')).toBe(rewritten);
    await adminPool().query(`DELETE FROM "${a.schema}".workflows WHERE id = 'w'`);
    expect(await a.getFrozenWorkflow('w')).toBeNull();
  });

  it('reads racing updates of another process each return a stored content, frozen', async () => {
    const [a, b] = pair();
    await a.insertWorkflow(workflowFixture('w', 'a', 0, { name: 'n0' }));
    const names = new Set(['n0']);
    const reads: Promise<Workflow | null>[] = [];
    for (let i = 1; i <= 20; i++) {
      names.add(`n${i}`);
      reads.push(a.getFrozenWorkflow('w'), a.getFrozenWorkflow('w'));
      await b.updateWorkflow('w', { name: `n${i}`, updated_at: at(i) });
    }
    for (const read of await Promise.all(reads)) {
      expect(names.has(read!.name)).toBe(true);
      expect(Object.isFrozen(read)).toBe(true);
    }
    expect((await a.getFrozenWorkflow('w'))!.name).toBe('n20');
  });

  it('property: every read equals the stored workflow, and is the previous object exactly when the text did not change', async () => {
    const [a, b] = pair();
    const ids = ['w1', 'w2'];
    for (const id of ids) await a.insertWorkflow(workflowFixture(id, 'a', 0));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('read' as const), id: fc.constantFrom(...ids) }),
      fc.record({
        kind: fc.constantFrom('update here' as const, 'update there' as const, 'rewrite' as const),
        id: fc.constantFrom(...ids),
        name: fc.constantFrom('x', 'y', '\u00e9', 'e\u0301'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        // What `a` handed out last per id, and the stored text it was read from.
        const last = new Map<string, { workflow: Workflow; body: string }>();
        const bodyOf = async (id: string) =>
          (await adminPool().query(`SELECT body FROM "${a.schema}".workflows WHERE id = $1`, [id])).rows[0]
            .body as string;
        for (const o of ops) {
          if (o.kind === 'update here') await a.updateWorkflow(o.id, { name: o.name, updated_at: at(1) });
          else if (o.kind === 'update there')
            await b.updateWorkflow(o.id, { name: o.name, updated_at: at(1) });
          else if (o.kind === 'rewrite') {
            const current = JSON.parse(await bodyOf(o.id)) as Workflow;
            await setBody(a, o.id, JSON.stringify({ ...current, name: o.name }, null, o.name.length));
          } else {
            const body = await bodyOf(o.id);
            const read = (await a.getFrozenWorkflow(o.id))!;
            expect(read).toEqual(await a.getWorkflow(o.id));
            expect(Object.isFrozen(read) && Object.isFrozen(read.draft)).toBe(true);
            const previous = last.get(o.id);
            if (previous !== undefined) expect(read === previous.workflow).toBe(body === previous.body);
            last.set(o.id, { workflow: read, body });
          }
        }
      }),
      { numRuns: fcRuns(10) },
    );
  });
});
