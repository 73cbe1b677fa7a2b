/** `weft graph <file> [--format mermaid|dot] [--run run.json]`. */
import type { GraphFormat } from '../choices.js';
import { CliError, EXIT } from '../errors.js';
import { parseJson, readText } from '../files.js';
import { graphOf, type StepStatuses, statusesOf, toDot, toMermaid } from '../graph.js';
import { writeLine } from '../output.js';
import { loadWorkflow } from '../project.js';
import type { Io } from './run.js';

export interface GraphFlags {
  format: GraphFormat;
  run?: string;
}

/** A run file: a run object (`weft run --output run`) or NDJSON events (`weft run --json`). */
export function readRunStatuses(file: string): StepStatuses {
  const text = readText(file, 'run file');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let value: unknown;
  if (lines.length > 1 && lines.every((l) => l.trimStart().startsWith('{"event"'))) {
    const last = lines
      .map((l, i) => parseJson(l, `${file}:${i + 1}`) as { event?: string; run?: unknown })
      .filter((e) => typeof e.event === 'string' && e.event.startsWith('run.') && e.run !== undefined)
      .pop();
    value = last?.run;
  } else {
    value = parseJson(text, file);
  }
  const statuses = statusesOf(value);
  if (statuses === null) {
    throw new CliError(
      `${file}: expected a run (an object with "output", as printed by weft run --output run) or weft run --json events.`,
    );
  }
  return statuses;
}

export function graphCommand(file: string, flags: GraphFlags, io: Io): number {
  const { document } = loadWorkflow(file);
  const statuses = flags.run === undefined ? undefined : readRunStatuses(flags.run);
  const graph = graphOf(document);
  writeLine(io.stdout, flags.format === 'dot' ? toDot(graph, statuses) : toMermaid(graph, statuses));
  return EXIT.OK;
}
