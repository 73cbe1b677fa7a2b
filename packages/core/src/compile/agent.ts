/**
 * The tool loops of a plan: for each `model` step with tools, its tools resolved once (model/tools.ts) with
 * their JSON Schemas; for each tool-only step, the model steps that call it. The validator has checked
 * every rule (validate/tools.ts), so nothing here can fail.
 */
import { MAX_TOOL_ITERATIONS } from '../model/schema.js';
import { inputJsonSchema } from '../model/tool-schema.js';
import { isToolReference, readTool, TOOL_KINDS, type ToolKind } from '../model/tools.js';
import type { ModelStep, Step } from '../model/types.js';

/** Model calls a tool loop makes at most when the step does not say (`max_iterations`). */
export const DEFAULT_MAX_ITERATIONS = 10;

export interface PlanTool {
  /** As the document writes it (`LOOKUP`, `external:refund`): recorded in `tool_calls[].name`. */
  readonly name: string;
  /** What the model calls it. */
  readonly wire: string;
  readonly kind: ToolKind;
  /** The step key or the engine tool's name. */
  readonly target: string;
  /** A step tool's plan index; -1 for an external tool. */
  readonly step: number;
  readonly description: string | undefined;
  /** The tool object's input definition (an external tool without one takes the engine tool's). */
  readonly input: Readonly<Record<string, unknown>> | undefined;
  /** The JSON Schema of the arguments, from `input` (undefined: an external tool takes the engine's). */
  readonly parameters: Readonly<Record<string, unknown>> | undefined;
  /** A step tool's `throw_on_error` (default true); false for an external tool. */
  readonly throwOnError: boolean;
}

export interface AgentPlan {
  readonly tools: readonly PlanTool[];
  readonly byWire: ReadonlyMap<string, PlanTool>;
  readonly mode: 'auto' | 'required' | 'none';
  readonly parallel: boolean;
  readonly maxIterations: number;
}

export interface CompiledAgents {
  /** By plan index: the step's tool loop (model steps with tools), else null. */
  readonly agents: ReadonlyArray<AgentPlan | null>;
  /** By plan index: a tool-only step's callers (plan indices of model steps), else null. */
  readonly parents: ReadonlyArray<readonly number[] | null>;
}

export function compileAgents(
  runnable: readonly Step[],
  indexOf: ReadonlyMap<string, number>,
  engineTools: ReadonlySet<string>,
): CompiledAgents {
  const agents: Array<AgentPlan | null> = new Array(runnable.length).fill(null);
  const parents: Array<number[] | null> = new Array(runnable.length).fill(null);
  for (let i = 0; i < runnable.length; i++) {
    const step = runnable[i]!;
    if (step.type !== 'model') continue;
    const provider = (step as ModelStep).provider;
    if (!Array.isArray(provider.tools) || provider.tools.length === 0) continue;
    const tools: PlanTool[] = [];
    for (const entry of provider.tools) {
      const ref = readTool(entry, indexOf, engineTools);
      if (!isToolReference(ref)) continue;
      const t = ref.kind === TOOL_KINDS.STEP ? indexOf.get(ref.target)! : -1;
      tools.push(
        Object.freeze({
          name: ref.name,
          wire: ref.wire,
          kind: ref.kind,
          target: ref.target,
          step: t,
          description: ref.description,
          input: ref.input,
          parameters:
            ref.input !== undefined || ref.kind === TOOL_KINDS.STEP ? inputJsonSchema(ref.input) : undefined,
          throwOnError: t >= 0 && runnable[t]!.throw_on_error !== false,
        }),
      );
      if (t >= 0) {
        parents[t] ??= [];
        if (!parents[t].includes(i)) parents[t].push(i);
      }
    }
    agents[i] = Object.freeze({
      tools: Object.freeze(tools),
      byWire: new Map(tools.map((tool) => [tool.wire, tool])),
      mode: provider.tools_mode ?? 'auto',
      parallel: provider.tools_parallel === true,
      maxIterations: Math.min(provider.max_iterations ?? DEFAULT_MAX_ITERATIONS, MAX_TOOL_ITERATIONS),
    });
  }
  return { agents, parents };
}
