import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcRuns } from '../test-support/fc.js';
import {
  type Edges,
  findCycles as findCyclesOf,
  type GraphNodes,
  unreachable as unreachableOf,
} from './graph.js';

interface Edge {
  from: number;
  to: number;
  j: number;
}
const edge = (from: number, to: number, j = 0): Edge => ({ from, to, j });
const node = (_index: number, declaredEntry = false) => ({ declaredEntry, exempt: false });
const columns = (edges: readonly Edge[]): Edges => ({
  from: edges.map((e) => e.from),
  to: edges.map((e) => e.to),
  length: edges.length,
});
const findCycles = (n: number, edges: readonly Edge[], max: number) => findCyclesOf(n, columns(edges), max);
const unreachable = (
  nodes: ReadonlyArray<{ declaredEntry: boolean; exempt: boolean }>,
  edges: readonly Edge[],
  onCycle: Uint8Array,
) => {
  const graph: GraphNodes = {
    count: nodes.length,
    declaredEntry: Uint8Array.from(nodes, (n) => (n.declaredEntry ? 1 : 0)),
    exempt: Uint8Array.from(nodes, (n) => (n.exempt ? 1 : 0)),
  };
  return unreachableOf(graph, columns(edges), onCycle);
};

describe('findCycles', () => {
  it('none in a DAG', () => {
    expect(findCycles(3, [edge(0, 1), edge(1, 2), edge(0, 2, 1)], 10)).toMatchObject({
      cycles: [],
      more: false,
    });
  });

  it('one cycle, from the first edge in document order', () => {
    const { cycles, inCycle } = findCycles(4, [edge(0, 1), edge(1, 2), edge(2, 0), edge(2, 3, 1)], 10);
    expect(cycles.map((c) => c.nodes)).toEqual([[0, 1, 2, 0]]);
    expect([...inCycle]).toEqual([1, 1, 1, 0]);
  });

  it('the cap', () => {
    const edges = [edge(0, 1), edge(1, 0), edge(0, 2, 1), edge(2, 0), edge(0, 3, 2), edge(3, 0)];
    const { cycles, more } = findCycles(4, edges, 2);
    expect(cycles).toHaveLength(2);
    expect(more).toBe(true);
  });

  it('property: every reported cycle is a real, distinct cycle, and they cover every edge inside a cycle', () => {
    const graph = fc.integer({ min: 1, max: 9 }).chain((n) =>
      fc.tuple(
        fc.constant(n),
        fc.uniqueArray(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), {
          maxLength: 20,
          selector: ([a, b]) => `${a}>${b}`,
        }),
      ),
    );
    fc.assert(
      fc.property(graph, ([n, pairs]) => {
        const edges = pairs.filter(([a, b]) => a !== b).map(([a, b], j) => edge(a, b, j));
        const { cycles, more } = findCycles(n, edges, 1000);
        expect(more).toBe(false);
        const has = new Set(edges.map((e) => `${e.from}>${e.to}`));
        const seen = new Set<string>();
        const covered = new Set<string>();
        for (const c of cycles) {
          expect(c.nodes[0]).toBe(c.nodes.at(-1));
          expect(new Set(c.nodes.slice(1)).size).toBe(c.nodes.length - 1);
          for (let k = 0; k + 1 < c.nodes.length; k++) {
            const e = `${c.nodes[k]}>${c.nodes[k + 1]}`;
            expect(has.has(e)).toBe(true);
            covered.add(e);
          }
          const body = c.nodes.slice(1);
          const start = body.indexOf(Math.min(...body));
          const canonical = [...body.slice(start), ...body.slice(0, start)].join(',');
          expect(seen.has(canonical)).toBe(false);
          seen.add(canonical);
        }
        // An edge u→v is on a cycle iff v reaches u.
        const reaches = (from: number, to: number) => {
          const seenNodes = new Set([from]);
          const queue = [from];
          while (queue.length > 0) {
            const u = queue.pop()!;
            if (u === to) return true;
            for (const e of edges) {
              if (e.from === u && !seenNodes.has(e.to)) {
                seenNodes.add(e.to);
                queue.push(e.to);
              }
            }
          }
          return false;
        };
        for (const e of edges) expect(covered.has(`${e.from}>${e.to}`)).toBe(reaches(e.to, e.from));
      }),
      { numRuns: fcRuns(300) },
    );
  });
});

describe('unreachable', () => {
  it('declared entries', () => {
    const nodes = [node(0, true), node(1), node(2), node(3)];
    expect(unreachable(nodes, [edge(0, 1), edge(2, 3)], new Uint8Array(4))).toEqual([2, 3]);
  });

  it('no declared entry: the nodes without incoming edges are the entries', () => {
    const nodes = [node(0), node(1), node(2)];
    expect(unreachable(nodes, [edge(0, 1)], new Uint8Array(3))).toEqual([]);
  });

  it('cycle members and what follows them count as reached', () => {
    const nodes = [node(0, true), node(1), node(2), node(3)];
    const onCycle = Uint8Array.from([0, 1, 1, 0]);
    expect(unreachable(nodes, [edge(1, 2), edge(2, 1), edge(2, 3)], onCycle)).toEqual([]);
  });
});
