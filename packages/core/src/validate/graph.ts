/**
 * The step graph: cycles (Tarjan's strongly connected components, then shortest cycles through their
 * edges) and reachability from the entry steps. Everything is iterative and linear in the size of the
 * graph, except the cycle search, which runs one breadth-first search per reported cycle (at most
 * `maxCycles` of them).
 */

/**
 * The nodes, as columns (one entry per node): a 100,000-step document would otherwise make 100,000
 * objects that live through the whole validation (issue 11, item 4).
 */
export interface GraphNodes {
  readonly count: number;
  /** 1: an entry by declaration (an `input` step or `input_connected: true`). */
  readonly declaredEntry: Uint8Array;
  /** 1: never reported as unreachable (a later duplicate of a key, a step without a valid key). */
  readonly exempt: Uint8Array;
}

/** The edges, as columns: edge `id` goes from `from[id]` to `to[id]`; ids are in document order. */
export interface Edges {
  readonly from: ArrayLike<number>;
  readonly to: ArrayLike<number>;
  readonly length: number;
}

export interface Cycle {
  /** Node ids along the cycle, starting with the edge's source; the last element repeats the first. */
  nodes: number[];
  /** The id of the edge `nodes[0] → nodes[1]`: where the problem points. */
  edge: number;
}

/** Adjacency in compressed form: the successors of v are `targets[offsets[v]] … targets[offsets[v+1]-1]`. */
export interface Adjacency {
  offsets: Int32Array;
  targets: Int32Array;
  /** The edge id of each entry of `targets`. */
  ids: Int32Array;
}

export function adjacency(nodeCount: number, edges: Edges): Adjacency {
  const offsets = new Int32Array(nodeCount + 1);
  const { from, to, length } = edges;
  for (let id = 0; id < length; id++) offsets[from[id]! + 1]!++;
  for (let v = 0; v < nodeCount; v++) offsets[v + 1]! += offsets[v]!;
  const fill = offsets.slice(0, nodeCount);
  const targets = new Int32Array(length);
  const ids = new Int32Array(length);
  for (let id = 0; id < length; id++) {
    const at = fill[from[id]!]!++;
    targets[at] = to[id]!;
    ids[at] = id;
  }
  return { offsets, targets, ids };
}

/**
 * Up to `maxCycles` distinct cycles, together covering every edge inside a strongly connected component
 * when the cap allows. For each such edge u → v not yet on a reported cycle, in document order, the
 * shortest path v ⇝ u inside the component closes the cycle u → v ⇝ u. That cycle contains an uncovered
 * edge, so it was not reported before: each cycle is reported once. `more` is true when the cap stopped
 * the search with edges still uncovered. `inCycle` marks the nodes of components with more than one node.
 */
export function findCycles(
  nodeCount: number,
  edges: Edges,
  maxCycles: number,
  adj: Adjacency = adjacency(nodeCount, edges),
): { cycles: Cycle[]; more: boolean; inCycle: Uint8Array } {
  const component = stronglyConnected(nodeCount, adj);
  const size = new Int32Array(nodeCount);
  for (let v = 0; v < nodeCount; v++) size[component[v]!]!++;
  const inCycle = new Uint8Array(nodeCount);
  for (let v = 0; v < nodeCount; v++) if (size[component[v]!]! > 1) inCycle[v] = 1;

  const covered = new Uint8Array(edges.length);
  const cycles: Cycle[] = [];
  let more = false;
  const parent = new Int32Array(nodeCount).fill(-1);
  const parentEdge = new Int32Array(nodeCount).fill(-1);
  for (let id = 0; id < edges.length; id++) {
    const eFrom = edges.from[id]!;
    const eTo = edges.to[id]!;
    if (covered[id] === 1 || eFrom === eTo || component[eFrom] !== component[eTo]) continue;
    if (cycles.length >= maxCycles) {
      more = true;
      break;
    }
    // Breadth-first search from eTo back to eFrom, inside the component (a path exists).
    const c = component[eFrom]!;
    const visited: number[] = [eTo];
    parent[eTo] = eTo;
    let found = false;
    for (let k = 0; k < visited.length && !found; k++) {
      const u = visited[k]!;
      for (let at = adj.offsets[u]!; at < adj.offsets[u + 1]!; at++) {
        const w = adj.targets[at]!;
        if (component[w] !== c || parent[w] !== -1) continue;
        parent[w] = u;
        parentEdge[w] = adj.ids[at]!;
        if (w === eFrom) {
          found = true;
          break;
        }
        visited.push(w);
      }
    }
    // The path eTo ⇝ eFrom, read backwards from eFrom.
    const back: number[] = [];
    for (let w = eFrom; w !== eTo; w = parent[w]!) {
      back.push(w);
      covered[parentEdge[w]!] = 1;
    }
    back.push(eTo);
    covered[id] = 1;
    for (const v of visited) {
      parent[v] = -1;
      parentEdge[v] = -1;
    }
    parent[eFrom] = -1;
    parentEdge[eFrom] = -1;
    back.reverse(); // eTo … eFrom
    cycles.push({ nodes: [eFrom, ...back], edge: id });
  }
  return { cycles, more, inCycle };
}

/** Tarjan's algorithm, iteratively: the component id of every node. */
function stronglyConnected(nodeCount: number, adj: Adjacency): Int32Array {
  const index = new Int32Array(nodeCount).fill(-1);
  const low = new Int32Array(nodeCount);
  const component = new Int32Array(nodeCount).fill(-1);
  const onStack = new Uint8Array(nodeCount);
  const stack: number[] = [];
  const next = adj.offsets.slice(0, nodeCount);
  let counter = 0;
  let components = 0;
  for (let root = 0; root < nodeCount; root++) {
    if (index[root] !== -1) continue;
    const call: number[] = [root];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (call.length > 0) {
      const v = call[call.length - 1]!;
      if (next[v]! < adj.offsets[v + 1]!) {
        const w = adj.targets[next[v]!++]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          call.push(w);
        } else if (onStack[w] === 1) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      call.pop();
      if (call.length > 0) {
        const u = call[call.length - 1]!;
        low[u] = Math.min(low[u]!, low[v]!);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component[w] = components;
        } while (w !== v);
        components++;
      }
    }
  }
  return component;
}

/**
 * The nodes no entry reaches. Entries are the declared ones (input steps, `input_connected: true`); when
 * there are none, every node without incoming edges. Nodes marked `onCycle` (on a cycle or a self-loop)
 * and everything they lead to count as reached: the cycle is already an error, and whether those steps
 * would be reachable once it is fixed cannot be told. Exempt nodes are never returned.
 */
export function unreachable(
  nodes: GraphNodes,
  edges: Edges,
  onCycle: Uint8Array,
  adj: Adjacency = adjacency(nodes.count, edges),
): number[] {
  const n = nodes.count;
  const incoming = new Uint32Array(n);
  for (let id = 0; id < edges.length; id++) if (edges.from[id] !== edges.to[id]) incoming[edges.to[id]!]!++;
  const queue: number[] = [];
  for (let v = 0; v < n; v++) if (nodes.declaredEntry[v] === 1) queue.push(v);
  if (queue.length === 0) for (let v = 0; v < n; v++) if (incoming[v] === 0) queue.push(v);
  for (let v = 0; v < n; v++) if (onCycle[v] === 1) queue.push(v);
  const reached = new Uint8Array(n);
  for (const s of queue) reached[s] = 1;
  for (let k = 0; k < queue.length; k++) {
    const u = queue[k]!;
    for (let at = adj.offsets[u]!; at < adj.offsets[u + 1]!; at++) {
      const w = adj.targets[at]!;
      if (reached[w] === 0) {
        reached[w] = 1;
        queue.push(w);
      }
    }
  }
  const out: number[] = [];
  for (let v = 0; v < n; v++) if (reached[v] === 0 && nodes.exempt[v] !== 1) out.push(v);
  return out;
}
