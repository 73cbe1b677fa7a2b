/**
 * The step graph of a document, as Mermaid or Graphviz DOT. Nodes are the runnable steps (notes never
 * run); edges are `destinations`, and a branch's condition and `else` destinations labelled with the
 * condition's key. Given a run's step statuses, each node shows and is coloured by its status.
 */
import { isPlainObject } from './files.js';

export interface GraphNode {
  key: string;
  type: string;
  loop: boolean;
  conditional: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  label: string | null;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export type StepStatuses = Record<string, string>;

const nonEmpty = (value: unknown) => typeof value === 'string' && value.trim() !== '';

export function graphOf(document: Record<string, unknown>): Graph {
  const steps = (Array.isArray(document.steps) ? document.steps : []).filter(isPlainObject);
  const nodes: GraphNode[] = [];
  const keys = new Set<string>();
  for (const step of steps) {
    if (typeof step.key !== 'string' || step.type === 'note' || keys.has(step.key)) continue;
    keys.add(step.key);
    nodes.push({
      key: step.key,
      type: typeof step.type === 'string' ? step.type : '?',
      loop: nonEmpty(step.loop),
      conditional: nonEmpty(step.conditional),
    });
  }
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: unknown, label: string | null) => {
    if (typeof to !== 'string' || !keys.has(to)) return;
    const id = `${from}\0${to}\0${label ?? ''}`;
    if (seen.has(id)) return;
    seen.add(id);
    edges.push({ from, to, label });
  };
  for (const step of steps) {
    if (typeof step.key !== 'string' || !keys.has(step.key)) continue;
    if (step.type === 'branch') {
      const conditions = isPlainObject(step.conditions) ? Object.entries(step.conditions) : [];
      conditions
        .filter(([, c]) => isPlainObject(c))
        .sort(
          ([, a], [, b]) =>
            Number((a as { order?: unknown }).order ?? 0) - Number((b as { order?: unknown }).order ?? 0),
        )
        .forEach(([name, c]) => {
          const targets = (c as { destinations?: unknown }).destinations;
          for (const to of Array.isArray(targets) ? targets : []) add(step.key as string, to, name);
        });
      for (const to of Array.isArray(step.else) ? step.else : []) add(step.key, to, 'else');
    }
    for (const to of Array.isArray(step.destinations) ? step.destinations : []) add(step.key, to, null);
  }
  return { nodes, edges };
}

function nodeText(node: GraphNode, status: string | undefined): string[] {
  const marks = [node.loop ? '↻ loop' : '', node.conditional ? '? conditional' : ''].filter((m) => m !== '');
  const second = [node.type, ...marks].join(' · ');
  return status === undefined ? [node.key, second] : [node.key, second, status];
}

const STATUS_STYLE: Record<string, { fill: string; stroke: string }> = {
  COMPLETED: { fill: '#dcfce7', stroke: '#16a34a' },
  FAILED: { fill: '#fee2e2', stroke: '#dc2626' },
  SKIPPED: { fill: '#f3f4f6', stroke: '#9ca3af' },
  CANCELLED: { fill: '#fef9c3', stroke: '#ca8a04' },
  RUNNING: { fill: '#dbeafe', stroke: '#2563eb' },
  PENDING: { fill: '#ffffff', stroke: '#9ca3af' },
};

const mermaidText = (text: string) =>
  text.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');

export function toMermaid(graph: Graph, statuses?: StepStatuses): string {
  const id = new Map(graph.nodes.map((n, i) => [n.key, `s${i}`]));
  const lines = ['flowchart TD'];
  for (const node of graph.nodes) {
    const text = nodeText(node, statuses?.[node.key]).map(mermaidText).join('<br/>');
    const [open, close] =
      node.type === 'branch' ? ['{{', '}}'] : node.type === 'input' ? ['([', '])'] : ['[', ']'];
    lines.push(`  ${id.get(node.key)}${open}"${text}"${close}`);
  }
  for (const edge of graph.edges) {
    const arrow = edge.label === null ? '-->' : `-->|${mermaidText(edge.label)}|`;
    lines.push(`  ${id.get(edge.from)} ${arrow} ${id.get(edge.to)}`);
  }
  if (statuses !== undefined) {
    const used = new Set(graph.nodes.map((n) => statuses[n.key]).filter((s): s is string => s !== undefined));
    for (const status of used) {
      const style = STATUS_STYLE[status];
      if (style === undefined) continue;
      const members = graph.nodes.filter((n) => statuses[n.key] === status).map((n) => id.get(n.key));
      lines.push(`  classDef ${status.toLowerCase()} fill:${style.fill},stroke:${style.stroke}`);
      lines.push(`  class ${members.join(',')} ${status.toLowerCase()}`);
    }
  }
  return lines.join('\n');
}

const dotEscape = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const dotString = (text: string) => `"${dotEscape(text)}"`;

export function toDot(graph: Graph, statuses?: StepStatuses): string {
  const lines = [
    'digraph workflow {',
    '  rankdir=TB;',
    '  node [shape=box, style="rounded", fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const node of graph.nodes) {
    // Lines of a DOT label are separated by the two characters \n.
    const attrs = [`label="${nodeText(node, statuses?.[node.key]).map(dotEscape).join('\\n')}"`];
    if (node.type === 'branch') attrs.push('shape=diamond');
    else if (node.type === 'input') attrs.push('shape=oval');
    const status = statuses?.[node.key];
    const style = status === undefined ? undefined : STATUS_STYLE[status];
    if (style !== undefined) {
      attrs.push(`style="rounded,filled"`, `fillcolor="${style.fill}"`, `color="${style.stroke}"`);
    }
    lines.push(`  ${dotString(node.key)} [${attrs.join(', ')}];`);
  }
  for (const edge of graph.edges) {
    const label =
      edge.label === null
        ? ''
        : ` [label=${dotString(edge.label)}${edge.label === 'else' ? ', style=dashed' : ''}]`;
    lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)}${label};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** Step statuses from a run object, or from NDJSON events (the last run.* event's run). */
export function statusesOf(value: unknown): StepStatuses | null {
  if (!isPlainObject(value) || !isPlainObject(value.output)) return null;
  const out: StepStatuses = {};
  for (const [key, record] of Object.entries(value.output)) {
    if (isPlainObject(record) && typeof record.status === 'string') out[key] = record.status;
  }
  return out;
}
