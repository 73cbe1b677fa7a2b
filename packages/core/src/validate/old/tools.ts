/**
 * The tools of `model` steps (`provider.tools`, model/tools.ts): every entry names a step of the version
 * or a tool the engine has (UNKNOWN_TOOL), under a name providers accept, once per step (INVALID_TOOL); a
 * step named as a tool is tool-only — the model step runs it, nothing else does — so it can be neither an
 * entry nor on an edge (TOOL_STEP_EDGE, checked with the graph), and it must be a step that can run that
 * way (not a note, an input or a branch, not the model step itself, not a model step with tools of its own,
 * without `conditional` or `loop`).
 */

import { isToolReference, readTool, TOOL_KINDS } from '../../model/tools.js';
import type { ProblemInput } from './problems.js';
import { quote } from './problems.js';
import { closest, type SuggestBudget } from './suggest.js';
import { toPointer } from './template-fields.js';

type Obj = Record<string, unknown>;
type Add = (problem: ProblemInput) => void;

const isObject = (value: unknown): value is Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Step types that cannot be a tool: they do not compute an answer from arguments. */
const NOT_TOOLS: ReadonlySet<string> = new Set(['note', 'input', 'branch']);

function hasTools(step: unknown): boolean {
  const provider = isObject(step) ? step.provider : undefined;
  return (
    isObject(step) &&
    step.type === 'model' &&
    isObject(provider) &&
    Array.isArray(provider.tools) &&
    provider.tools.length > 0
  );
}

/**
 * Checks every model step's tools. Returns the tool-only steps: step index → the indices of the model
 * steps naming it.
 */
export function checkTools(
  steps: readonly unknown[],
  owner: ReadonlyMap<string, number>,
  engineTools: ReadonlySet<string>,
  budget: SuggestBudget,
  add: Add,
): Map<number, number[]> {
  const toolSteps = new Map<number, number[]>();
  const keyOf = (i: number) => {
    const s = steps[i];
    return isObject(s) && typeof s.key === 'string' ? s.key : undefined;
  };
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    if (!isObject(step) || step.type !== 'model' || !isObject(step.provider)) continue;
    const provider = step.provider;
    const key = keyOf(i);
    const subject = key === undefined ? `Step #${i}` : `Step ${quote(key)}`;
    if (provider.tools_mode === 'required' && !(Array.isArray(provider.tools) && provider.tools.length > 0)) {
      add({
        code: 'INVALID_VALUE',
        path: toPointer(['steps', i, 'provider', 'tools_mode']),
        step_key: key,
        message: `${subject} has \`tools_mode: "required"\` but no tools: the model cannot call a tool it is not given. Add \`provider.tools\` or set \`tools_mode\` to "auto".`,
      });
    }
    if (!Array.isArray(provider.tools)) continue;
    const wires = new Map<string, number>();
    for (let j = 0; j < provider.tools.length; j++) {
      const at = toPointer(['steps', i, 'provider', 'tools', j]);
      const tool = readTool(provider.tools[j], owner, engineTools);
      if (!isToolReference(tool)) {
        if (tool.problem === 'unknown') {
          const candidates = [...owner.keys(), ...[...engineTools].map((t) => `external:${t}`)];
          const guess = closest(tool.name, candidates, budget);
          add({
            code: 'UNKNOWN_TOOL',
            path: at,
            step_key: key,
            message:
              `${subject} names the tool ${quote(tool.name)}, which is neither a step of this workflow nor a tool registered on the engine. ` +
              (guess === undefined ? '' : `Did you mean ${quote(guess)}? `) +
              (engineTools.size > 0
                ? `Registered tools: ${[...engineTools].slice(0, 20).join(', ')}. `
                : 'No tool is registered. ') +
              'Register it with createEngine({ tools: { NAME: { description, input, handler } } }) and name it "external:NAME", or name a step key.',
          });
        } else if (tool.problem === 'wire_name') {
          add({
            code: 'INVALID_TOOL',
            path: at,
            step_key: key,
            message: `${subject} names the tool ${quote(tool.name)}: models call tools by names of 1 to 64 letters, digits, "_" and "-", and ${quote(tool.wire)} is not one. Rename the ${tool.name.startsWith('external:') ? 'tool' : 'step'}.`,
          });
        }
        continue;
      }
      const first = wires.get(tool.wire);
      if (first !== undefined) {
        add({
          code: 'INVALID_TOOL',
          path: at,
          step_key: key,
          message: `${subject} lists the tool ${quote(tool.wire)} twice (entries ${first} and ${j}); the model calls tools by name, so each may be listed once. Remove one.`,
        });
        continue;
      }
      wires.set(tool.wire, j);
      if (tool.kind !== TOOL_KINDS.STEP) continue;
      const t = owner.get(tool.target)!;
      const target = steps[t] as Obj;
      const why =
        t === i
          ? 'a step cannot call itself'
          : typeof target.type === 'string' && NOT_TOOLS.has(target.type)
            ? `${target.type === 'input' ? 'an' : 'a'} ${target.type} step cannot be a tool (it computes nothing from arguments)`
            : hasTools(target)
              ? 'it is a model step with tools of its own, and Weft does not nest tool loops'
              : typeof target.loop === 'string' && target.loop.trim() !== ''
                ? 'a tool step cannot have a `loop` (the model calls it as often as it needs)'
                : typeof target.conditional === 'string' && target.conditional.trim() !== ''
                  ? 'a tool step cannot have a `conditional` (it runs when the model calls it)'
                  : undefined;
      if (why !== undefined) {
        add({
          code: 'INVALID_TOOL',
          path: at,
          step_key: key,
          message: `${subject} names the step ${quote(tool.target)} as a tool, but ${why}. Name another step, or change ${quote(tool.target)}.`,
        });
        continue;
      }
      const parents = toolSteps.get(t);
      if (parents === undefined) toolSteps.set(t, [i]);
      else if (!parents.includes(i)) parents.push(i);
    }
  }
  for (const t of toolSteps.keys()) {
    const step = steps[t] as Obj;
    const key = keyOf(t);
    if (step.input_connected === true) {
      add({
        code: 'TOOL_STEP_EDGE',
        path: toPointer(['steps', t, 'input_connected']),
        step_key: key,
        message: `Step ${quote(key ?? '')} is a tool (a model step calls it), so it cannot also start with the run. Remove \`input_connected\`, or stop naming it as a tool.`,
      });
    }
    if (Array.isArray(step.destinations) && step.destinations.length > 0) {
      add({
        code: 'TOOL_STEP_EDGE',
        path: toPointer(['steps', t, 'destinations']),
        step_key: key,
        message: `Step ${quote(key ?? '')} is a tool (a model step calls it), so nothing follows it: its answer goes back to the model. Remove its \`destinations\` (steps after the model step read its output as ${key ?? 'KEY'}.output).`,
      });
    }
  }
  return toolSteps;
}

/** An edge into a tool-only step. */
export function toolEdgeProblem(
  path: string,
  fromKey: string | undefined,
  toolKey: string | undefined,
): ProblemInput {
  return {
    code: 'TOOL_STEP_EDGE',
    path,
    step_key: fromKey,
    message: `Step ${quote(fromKey ?? '')} lists ${quote(toolKey ?? '')} as a destination, but ${quote(toolKey ?? '')} is a tool: it runs only when a model step calls it, never after another step. Remove it from the destinations.`,
  };
}
