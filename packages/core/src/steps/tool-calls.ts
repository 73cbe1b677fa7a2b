/**
 * The tool calls of one model reply, checked before anything runs (docs/semantics.md, "Tools"): the tool
 * exists, its arguments are a JSON object, they fit the tool's input definition. A call that fails a check
 * is not run: it is recorded with an INVALID_TOOL_CALL error, which the model gets as that tool's result
 * (it may call again). What a hostile provider can send is bounded here: the number of calls per reply,
 * the length of ids and of the arguments kept.
 */
import type { AgentPlan, PlanTool } from '../compile/agent.js';
import { ERROR_CODES, type ErrorRecord } from '../errors.js';
import { checkField, type FieldDefinition, InputProblemList, isFieldDefinition } from '../input/fields.js';
import type { ModelToolCall } from '../providers/provider.js';
import type { RepliedToolCall } from '../run/journal.js';
import type { ToolDefinition } from './types.js';

/** The most tool calls one reply may make; the rest are answered with INVALID_TOOL_CALL. */
export const MAX_TOOL_CALLS_PER_REPLY = 64;
/** Arguments that are not JSON are kept (as the call's `input`) up to this many characters. */
const MAX_RAW_ARGUMENTS = 10_000;
const MAX_ID_LENGTH = 256;

/** The input definition a call is checked against: the tool object's, else the engine tool's. */
export function toolInput(
  tool: PlanTool,
  engineTools: ReadonlyMap<string, ToolDefinition>,
): Readonly<Record<string, unknown>> | undefined {
  if (tool.input !== undefined) return tool.input;
  return tool.step < 0
    ? (engineTools.get(tool.target)?.input as Record<string, unknown> | undefined)
    : undefined;
}

export function checkToolCalls(
  calls: readonly ModelToolCall[] | undefined,
  plan: AgentPlan,
  engineTools: ReadonlyMap<string, ToolDefinition>,
  turn: number,
): RepliedToolCall[] {
  if (!Array.isArray(calls)) return [];
  const out: RepliedToolCall[] = [];
  const ids = new Set<string>();
  for (let c = 0; c < calls.length; c++) {
    const call = calls[c] as Partial<ModelToolCall> | undefined;
    const id = uniqueId(call?.id, turn, c, ids);
    const wire = typeof call?.function?.name === 'string' ? call.function.name.slice(0, 200) : '';
    const tool = plan.byWire.get(wire);
    const name = tool?.name ?? wire;
    if (c >= MAX_TOOL_CALLS_PER_REPLY) {
      out.push(
        invalid(
          id,
          name,
          null,
          `The model made more than ${MAX_TOOL_CALLS_PER_REPLY} tool calls in one reply; this one was not run.`,
        ),
      );
      continue;
    }
    if (tool === undefined) {
      const names = plan.tools.map((t) => t.wire).join(', ');
      out.push(invalid(id, name, null, `There is no tool "${wire}". The tools are: ${names}.`));
      continue;
    }
    const text = typeof call?.function?.arguments === 'string' ? call.function.arguments : '';
    let input: unknown;
    try {
      input = text.trim() === '' ? {} : JSON.parse(text);
    } catch (error) {
      out.push(
        invalid(
          id,
          name,
          text.slice(0, MAX_RAW_ARGUMENTS),
          `The arguments of this call to "${wire}" are not valid JSON (${(error as Error).message}). Call it again with a JSON object.`,
        ),
      );
      continue;
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      out.push(invalid(id, name, input, `The arguments of a call to "${wire}" must be a JSON object.`));
      continue;
    }
    const definition = toolInput(tool, engineTools);
    const problems =
      definition === undefined ? [] : argumentProblems(definition, input as Record<string, unknown>);
    if (problems.length > 0) {
      out.push(
        invalid(
          id,
          name,
          input,
          `The arguments of this call to "${wire}" do not fit its input definition: ${problems.slice(0, 5).join(' ')} Call it again with arguments that fit.`,
        ),
      );
      continue;
    }
    out.push({ id, name, input, error: null });
  }
  return out;
}

/** The problems of `args` against an input definition (field name → field), as sentences. */
export function argumentProblems(
  definition: Readonly<Record<string, unknown>>,
  args: Record<string, unknown>,
): string[] {
  const list = new InputProblemList();
  for (const [field, def] of Object.entries(definition)) {
    if (!isFieldDefinition(def)) continue;
    const value = Object.hasOwn(args, field) ? args[field] : (def as FieldDefinition).default;
    checkField(def, value, { label: field, path: [field], source: 'the tool definition', depth: 0 }, list);
  }
  return list.finish().map((p) => p.message);
}

function invalid(id: string, name: string, input: unknown, message: string): RepliedToolCall {
  const error: ErrorRecord = { code: ERROR_CODES.INVALID_TOOL_CALL, message };
  return { id, name, input, error };
}

/** The call's id, or one made up when the provider gave none (or a duplicate). */
function uniqueId(raw: unknown, turn: number, c: number, seen: Set<string>): string {
  let id = typeof raw === 'string' && raw !== '' ? raw.slice(0, MAX_ID_LENGTH) : `call_${turn}_${c}`;
  if (seen.has(id)) id = `${id}_${c}`;
  seen.add(id);
  return id;
}
